// Dense retrieval (src/dense): a corpus encoded into a vector file with an embedding model, and the
// first stages that search it, registered with the first-stage registry:
//
//   dense[:NAME]    the vectors DIR/NAME.vec of FirstStageOptions::index_path (NAME: "dense"),
//                   searched exactly (search=exact) or through their HNSW graph (search=hnsw)
//   hybrid[:NAME]   BM25 over the same index fused with dense[:NAME], by RRF or interpolation
//
// Queries are encoded with the model that encoded the documents (its path and checksum are kept in
// the vector file), with the query prefix the vectors were made for.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rerank/first_stage.h"
#include "rerank/model.h"
#include "rerank/vectors.h"

namespace rerank {

// How texts become vectors; kept in the vector file, so that queries are encoded the same way.
struct DenseEncoding {
  std::string query_prefix, document_prefix;
  int max_tokens = 0;     // longest input, special tokens included (0: the model's window)
  int chunk_tokens = 0;   // 0: documents are truncated; else cut into windows of this many tokens,
  int chunk_stride = 0;   //    starting every chunk_stride tokens (0: chunk_tokens), best window counts
  bool normalize = true;  // unit length: inner product is the cosine
};

// The prefixes a model family was trained with, from its name: e5 ("query: ", "passage: "), bge
// English v1.5 (its retrieval instruction before queries); none for others.
DenseEncoding default_encoding(const ModelInfo& model);

struct EmbedCorpusOptions {
  DenseEncoding encoding;
  VectorPrecision precision = VectorPrecision::kF32;
  RuntimeOptions runtime;
  bool overwrite = false;
  std::size_t batch_documents = 256;  // documents embedded per call (bounds memory)
  // Called after each batch with documents done and bytes of the corpus read of its total.
  std::function<void(std::uint64_t documents, double fraction_read)> progress;
};

// Scales a vector to unit length (a zero vector stays zero), in double precision.
void normalize_vector(float* v, std::size_t n);

// DIR/NAME.vec and DIR/NAME.hnsw.
std::string vector_file_path(const std::string& index_dir, const std::string& name);
std::string hnsw_file_path(const std::string& index_dir, const std::string& name);

// Embeds every document of a corpus ("title text", as BEIR) into the vector file at `path`, written
// atomically. Throws rerank::Error for a model that cannot embed (a ranking head, no pooling).
VectorFileStats embed_corpus(const std::string& corpus_path, const std::string& model_path,
                             const std::string& path, const EmbedCorpusOptions& options);

// Query vectors for a vector file: its model (or `model_path`, which must be the same file) and its
// encoding. Thread-safe.
class QueryEncoder {
 public:
  QueryEncoder(const VectorSet& vectors, const std::string& model_path, RuntimeOptions runtime);
  ~QueryEncoder();
  // texts.size() x dims floats, row major.
  std::vector<float> encode(const std::vector<std::string>& texts) const;
  const DenseEncoding& encoding() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rerank
