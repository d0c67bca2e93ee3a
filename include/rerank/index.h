// The inverted index (src/index): building it from documents with bounded memory, and reading it
// through a memory map. docs/first-stage.md describes the on-disk format.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rerank/types.h"

namespace rerank {

// Field layouts. Flat: one field "contents" = title + " " + text (Pyserini's flat BEIR indexes).
// Multifield: "title" and "text" indexed separately and weighted at query time.
enum class FieldLayout { kFlat, kMultifield };

struct IndexOptions {
  FieldLayout layout = FieldLayout::kMultifield;
  // Postings are kept in memory up to this many bytes, then spilled to disk, sorted; the spills are
  // merged at the end. Bounds indexing memory independently of the corpus size.
  std::size_t memory_budget_bytes = std::size_t{512} << 20;
  // Called now and then with documents indexed so far (for progress output); may be empty.
  std::function<void(std::uint64_t docs, const char* phase)> progress;
  // Replace an existing index at the output path.
  bool overwrite = false;
};

struct IndexBuildStats {
  std::uint64_t documents = 0;
  std::uint64_t spills = 0;  // spills written to disk (1 when everything fit in memory)
  std::uint64_t terms = 0;
  std::uint64_t index_bytes = 0;
};

// Builds an index in `directory`. Documents are added one at a time; finish() merges and writes the
// index under a temporary name, then renames it into place, so an interrupted build never leaves
// something that opens as an index. Throws rerank::Error on I/O failure.
class IndexWriter {
 public:
  IndexWriter(const std::string& directory, IndexOptions options);
  ~IndexWriter();
  IndexWriter(const IndexWriter&) = delete;
  IndexWriter& operator=(const IndexWriter&) = delete;

  void add(const Document& doc);
  IndexBuildStats finish();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Indexes every document of a corpus file (BEIR corpus.jsonl or TREC, see io.h).
IndexBuildStats build_index(const std::string& corpus_path, const std::string& directory,
                            IndexOptions options);

// Statistics of one field, as Lucene's CollectionStatistics.
struct FieldStats {
  std::string name;
  std::uint64_t doc_count = 0;            // documents with at least one term in the field
  std::uint64_t sum_total_term_freq = 0;  // tokens in the field over all documents
};

// A term's postings in one field: (document, frequency) pairs in increasing document order,
// varint-encoded. Iterate with PostingCursor.
struct PostingList {
  const std::uint8_t* begin = nullptr;
  const std::uint8_t* end = nullptr;
  std::uint32_t doc_freq = 0;
  std::uint64_t total_term_freq = 0;
};

class PostingCursor {
 public:
  explicit PostingCursor(const PostingList& list, std::uint32_t num_docs)
      : p_(list.begin), end_(list.end), num_docs_(num_docs) {}
  // Next posting; false at the end. Throws rerank::Error if the list points outside the index.
  bool next(std::uint32_t& doc, std::uint32_t& freq);

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::uint32_t num_docs_;
  std::uint32_t doc_ = 0;
  bool first_ = true;
};

// One term of a document's forward vector (for relevance feedback).
struct DocTerm {
  std::uint32_t field = 0;
  std::string_view term;
  std::uint32_t freq = 0;
  std::uint32_t doc_freq = 0;  // documents containing the term in this field
};

// A read-only, memory-mapped index. Opening checks the header, the format version and every
// section's checksum, and throws rerank::Error naming the problem for a truncated or corrupt index.
// Thread-safe for concurrent readers.
class Index {
 public:
  static std::shared_ptr<const Index> open(const std::string& directory);
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  const std::string& directory() const;
  std::string analyzer() const;
  FieldLayout layout() const;
  std::uint32_t num_docs() const;
  std::uint64_t num_terms() const;
  const std::vector<FieldStats>& fields() const;
  // Field number by name, or -1.
  int field_index(std::string_view name) const;

  std::string_view doc_id(std::uint32_t doc) const;
  // Position of the document's id in byte order of all ids: ties in score are broken by it.
  std::uint32_t doc_id_rank(std::uint32_t doc) const;
  // Internal number of an external id (binary search over the sorted ids), or -1.
  std::int64_t find_doc(std::string_view id) const;
  std::uint8_t norm(std::uint32_t field, std::uint32_t doc) const;
  const std::uint8_t* norms(std::uint32_t field) const;

  // Postings of `term` in `field`; doc_freq 0 when the term does not occur.
  PostingList postings(std::uint32_t field, std::string_view term) const;
  // The document's terms with their frequencies, in (field, term) order.
  std::vector<DocTerm> doc_vector(std::uint32_t doc) const;

  struct Impl;

 private:
  explicit Index(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rerank
