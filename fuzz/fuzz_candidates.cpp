// Candidates JSONL (docs/formats.md): one query and its candidate documents per line.
#include "fuzz_input.h"
#include "rerank/io.h"
#include "rerank/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rerank::fuzz::read_as_file(".candidates", data, size, [](const std::string& path) {
    rerank::CandidatesReader reader(path);
    rerank::CandidateList list;
    while (reader.next(list)) {
      if (list.query.id.empty() || list.query.text.empty() || !rerank::is_valid_utf8(list.query.text))
        std::abort();
      for (const rerank::Candidate& c : list.candidates)
        if (!rerank::is_valid_utf8(c.text) || !rerank::is_valid_utf8(c.title)) std::abort();
    }
  });
  return 0;
}
