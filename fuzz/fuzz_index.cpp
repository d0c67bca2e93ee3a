// The inverted index reader opening arbitrary bytes as index.rrx (Index::open), then reading what
// it opened: ids, norms, forward vectors, every posting list they name, and a BM25+RM3 search.
// Control byte, bit 0: mend the container's checksums first, so that mutations inside sections
// reach the section parsers (the checksum test alone would refuse nearly every mutated file).
#include <sys/stat.h>

#include "fuzz_input.h"
#include "rerank/index.h"
#include "rerank/search.h"

namespace {
// A directory of this process holding index.rrx; removed at exit.
struct IndexDir {
  std::string path = rerank::fuzz::ScratchFile(".index").path();
  IndexDir() { mkdir(path.c_str(), 0700); }
  ~IndexDir() {
    std::remove((path + "/index.rrx").c_str());
    rmdir(path.c_str());
  }
};
const std::string& index_dir() {
  static const IndexDir dir;
  return dir.path;
}

void read_everything(const std::shared_ptr<const rerank::Index>& index) {
  const std::uint32_t docs = std::min<std::uint32_t>(index->num_docs(), 64);
  std::string query;
  for (std::uint32_t doc = 0; doc < docs; ++doc) {
    (void)index->doc_id(doc);
    (void)index->doc_id_rank(doc);
    for (std::uint32_t f = 0; f < index->fields().size(); ++f) (void)index->norm(f, doc);
    for (const rerank::DocTerm& t : index->doc_vector(doc)) {
      rerank::PostingCursor cursor(index->postings(t.field, t.term), index->num_docs());
      std::uint32_t d, freq;
      while (cursor.next(d, freq)) {
        if (d >= index->num_docs()) std::abort();  // the cursor promises documents of the index
      }
      if (query.size() < 200) query += std::string(t.term) + " ";
    }
  }
  rerank::SearchOptions options;
  options.rm3 = true;
  rerank::Bm25Retriever retriever(index, options);
  (void)retriever.retrieve(rerank::Query{"q", query.empty() ? "a" : query}, 10);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const rerank::fuzz::Control input = rerank::fuzz::split_control(data, size);
  const std::uint8_t control = input.byte;
  const std::string_view payload = input.payload;
  std::string file(payload);
  if (control & 1) rerank::fuzz::mend_container_checksums(file);
  {
    std::ofstream out(index_dir() + "/index.rrx", std::ios::binary | std::ios::trunc);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
  }
  rerank::fuzz::expect_clean_outcome([&] { read_everything(rerank::Index::open(index_dir())); });
  return 0;
}
