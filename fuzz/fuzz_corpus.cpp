// Documents: BEIR corpus.jsonl and TREC SGML <DOC> files, recognised from content (CorpusReader).
// Every document read must have a non-empty id and valid UTF-8 everywhere.
#include "fuzz_input.h"
#include "rerank/io.h"
#include "rerank/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rerank::fuzz::read_as_file(".corpus", data, size, [](const std::string& path) {
    rerank::CorpusReader reader(path);
    rerank::Document doc;
    while (reader.next(doc)) {
      if (doc.doc_id.empty() || !rerank::is_valid_utf8(doc.doc_id) || !rerank::is_valid_utf8(doc.title) ||
          !rerank::is_valid_utf8(doc.text))
        std::abort();
      if (reader.bytes_read() > reader.bytes_total()) std::abort();
    }
  });
  return 0;
}
