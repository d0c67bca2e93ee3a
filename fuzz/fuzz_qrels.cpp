// Judgements: TREC "qid iter docid rel" and BEIR TSV "query-id corpus-id score", recognised from
// content. Every judgement read must name a query and a document in valid UTF-8.
#include "fuzz_input.h"
#include "rerank/io.h"
#include "rerank/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rerank::fuzz::read_as_file(".qrels", data, size, [](const std::string& path) {
    for (const auto& [qid, docs] : rerank::read_qrels(path)) {
      if (qid.empty() || !rerank::is_valid_utf8(qid)) std::abort();
      for (const auto& [docid, grade] : docs)
        if (docid.empty() || !rerank::is_valid_utf8(docid)) std::abort();
    }
  });
  return 0;
}
