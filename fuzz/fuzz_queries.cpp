// Queries: BEIR queries.jsonl, TREC topics (<top><num><title>) and "qid<TAB>text" lines.
// Every query read must have a non-empty id and valid UTF-8.
#include "fuzz_input.h"
#include "rerank/io.h"
#include "rerank/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rerank::fuzz::read_as_file(".queries", data, size, [](const std::string& path) {
    for (const rerank::Query& q : rerank::read_queries(path))
      if (q.id.empty() || !rerank::is_valid_utf8(q.id) || !rerank::is_valid_utf8(q.text)) std::abort();
  });
  return 0;
}
