// Document vectors for dense retrieval (src/index): a vector file written once and read through a
// memory map, exact top-k search by inner product over it, and an HNSW graph for large collections.
// The file format is described in docs/dense.md; the encoding of texts into vectors is the dense
// stage's (dense.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rerank {

// How each vector component is stored. Int8 is symmetric scalar quantization per vector: a float
// scale (the largest magnitude / 127) followed by the rounded components.
enum class VectorPrecision { kF32, kF16, kInt8 };

std::string to_string(VectorPrecision precision);
// "f32", "f16" or "int8"; throws rerank::Error naming the choices otherwise.
VectorPrecision parse_vector_precision(const std::string& name);
// Bytes one stored vector of `dims` components takes.
std::size_t vector_row_bytes(VectorPrecision precision, std::size_t dims);
// Stores `dims` floats in `precision` at `out` (vector_row_bytes bytes), and reads them back.
void encode_vector_row(VectorPrecision precision, const float* in, std::size_t dims, std::uint8_t* out);
void decode_vector_rows(VectorPrecision precision, const std::uint8_t* in, std::size_t rows, std::size_t dims,
                        float* out);

struct VectorFileStats {
  std::uint64_t documents = 0;
  std::uint64_t rows = 0;  // vectors: one per document, or one per chunk of a chunked document
  std::uint64_t file_bytes = 0;
};

// Writes a vector file: documents in order, each with one or more vectors. finish() writes the file
// under a temporary name in the same directory and renames it into place; without finish() (an
// exception, a kill) nothing is left at `path`. Vectors are streamed to a temporary file, so memory
// holds only the document ids. `encoder` is what made the vectors (a JSON object from the dense
// stage), kept in the file for the reader.
class VectorWriter {
 public:
  VectorWriter(std::string path, std::size_t dims, VectorPrecision precision, std::string encoder,
               bool overwrite);
  ~VectorWriter();
  VectorWriter(const VectorWriter&) = delete;
  VectorWriter& operator=(const VectorWriter&) = delete;

  // `vectors` holds rows x dims floats; a document id given twice is an error.
  void add(std::string_view doc_id, const float* vectors, std::size_t rows);
  VectorFileStats finish();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// A read-only, memory-mapped vector file. Opening checks the header, the format version and every
// section's checksum, and throws rerank::Error naming the problem for a truncated or corrupt file.
// Thread-safe for concurrent readers.
class VectorSet {
 public:
  static std::shared_ptr<const VectorSet> open(const std::string& path);
  ~VectorSet();
  VectorSet(const VectorSet&) = delete;
  VectorSet& operator=(const VectorSet&) = delete;

  const std::string& path() const;
  std::size_t dims() const;
  VectorPrecision precision() const;
  std::uint32_t num_docs() const;
  std::uint64_t num_rows() const;
  std::size_t row_bytes() const;
  // The largest number of vectors of one document.
  std::uint32_t max_rows_per_doc() const;
  const std::string& encoder() const;
  // Checksum of the file's header, which covers every section's checksum: the file's identity.
  std::uint32_t checksum() const;

  std::string_view doc_id(std::uint32_t doc) const;
  // Position of the document's id in byte order of all ids: ties in score are broken by it.
  std::uint32_t doc_id_rank(std::uint32_t doc) const;
  std::uint32_t row_doc(std::uint64_t row) const;
  const std::uint8_t* row(std::uint64_t row) const;

  struct Impl;

 private:
  explicit VectorSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Stores the vectors of `from` again in another precision at `path` (same documents, same encoder
// record): measuring what a precision costs needs no second encoding.
VectorFileStats convert_vectors(const VectorSet& from, const std::string& path, VectorPrecision precision,
                                bool overwrite);

struct VectorHit {
  std::uint32_t doc = 0;
  float score = 0;
};

// Every query's top `k` documents by inner product with its vector (queries: nq x dims floats, row
// major), best first, ties broken by document id ascending; a document with several vectors scores
// its best one. Scores are computed in fixed blocks of the collection, each with the same kernel
// whatever `threads` is (0: all cores), so results do not depend on the thread count.
std::vector<std::vector<VectorHit>> search_exact(const VectorSet& vectors, const float* queries,
                                                 std::size_t nq, std::size_t k, unsigned threads);

struct HnswOptions {
  std::size_t m = 16;                 // links per node (level 0: 2m)
  std::size_t ef_construction = 200;  // candidate list while inserting
  // Insertion threads (0: all cores). More than one makes the graph depend on thread timing.
  unsigned threads = 1;
  std::function<void(std::uint64_t inserted)> progress;  // may be empty
};

// An HNSW graph over a vector file, stored beside it (src/index/hnsw_*.cpp: insertion and layout as
// FAISS's). The graph file holds only links; the vectors are read from the vector file, whose
// checksum the graph records.
class HnswIndex {
 public:
  // Builds the graph of every vector and writes it atomically to `path`.
  static void build(const VectorSet& vectors, const std::string& path, const HnswOptions& options);
  // Throws rerank::Error for a corrupt graph file or one built over other vectors.
  static std::shared_ptr<const HnswIndex> open(const std::string& path,
                                               std::shared_ptr<const VectorSet> vectors,
                                               std::size_t ef_search);
  ~HnswIndex();
  HnswIndex(const HnswIndex&) = delete;
  HnswIndex& operator=(const HnswIndex&) = delete;

  // The approximate top `k` documents for one query vector (dims floats), ordered as search_exact's.
  std::vector<VectorHit> search(const float* query, std::size_t k) const;

  struct Impl;

 private:
  explicit HnswIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rerank
