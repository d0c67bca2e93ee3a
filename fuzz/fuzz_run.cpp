// Runs: TREC "qid Q0 docid rank score tag" lines and BEIR's JSON results object, recognised from
// content (read_run). Scores read must be finite numbers and ids non-empty valid UTF-8.
#include <cmath>

#include "fuzz_input.h"
#include "rerank/io.h"
#include "rerank/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rerank::fuzz::read_as_file(".run", data, size, [](const std::string& path) {
    const rerank::Run run = rerank::read_run(path);
    for (const auto& [qid, docs] : run.by_query) {
      if (qid.empty() || !rerank::is_valid_utf8(qid)) std::abort();
      for (const rerank::ScoredDoc& d : docs)
        if (d.doc_id.empty() || !rerank::is_valid_utf8(d.doc_id) || std::isnan(d.score)) std::abort();
    }
  });
  return 0;
}
