// Reading rows of a GGUF's tensors directly from the file (private to src/model): the token tables of
// BERT models (segment_embeddings.h) and the rows a rank head shares with the LM head (model.cpp).
#pragma once
#include <gguf.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rerank::detail {

// A GGUF's metadata with a ggml context holding its tensors' shapes (no data).
struct GgufMeta {
  gguf_context* gguf = nullptr;
  ggml_context* tensors = nullptr;
  explicit GgufMeta(const std::string& path);
  ~GgufMeta();
  GgufMeta(const GgufMeta&) = delete;
  GgufMeta& operator=(const GgufMeta&) = delete;
  // Offset of a tensor's data in the file.
  std::size_t offset(const char* name) const;
};

// A model file mapped read-only, so tables are read where they lie (pages shared with llama.cpp's own
// mapping); unmapped on destruction.
class MappedFile {
 public:
  // Throws rerank::Error naming the file when it cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const unsigned char* data() const { return data_; }
  std::size_t size() const { return size_; }
  // Drops the whole pages within [offset, offset + size) from this process: they stay in the page
  // cache and come back on the next read. The encoder runtime reads each weight once into its own
  // copy; afterwards only a few token rows are read.
  void release_pages(std::size_t offset, std::size_t size) const;

 private:
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

// One row of `width` values stored as ggml type `type` (F32, F16, BF16 or quantized), as floats.
void dequantize_row(int type, const unsigned char* src, int width, float* out);

// Row `row` of the 2-D tensor `name` of the file `path` as floats; empty when the tensor is absent or
// the row is outside it. Throws rerank::Error when the file cannot be read there.
std::vector<float> read_tensor_row(const std::string& path, const GgufMeta& meta, const char* name,
                                   std::int64_t row);

}  // namespace rerank::detail
