// BERT's input embeddings with the token type (segment) of each token (private to src/model).
//
// llama.cpp's BERT graph adds token-type row 0 to every token, so a pair's document tokens miss the
// "sentence B" embedding that every Hugging Face BERT cross-encoder was trained with (the score moves
// by about 1 logit). Instead of token ids the cross-encoder then feeds llama.cpp input embeddings
// (llama_batch.embd) read from the model's own tables: token_embd[id] + token_types[t] -
// token_types[0], to which the graph adds token_types[0] back. Nothing in llama.cpp is patched.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rerank::detail {

class MappedFile;

class SegmentEmbeddings {
 public:
  // The tables of `gguf_path`, or nullptr when the model has fewer than two token types (all tokens
  // are then type 0, which llama.cpp already computes). Throws rerank::Error for unreadable tables.
  static std::unique_ptr<SegmentEmbeddings> open(const std::string& gguf_path);
  ~SegmentEmbeddings();
  SegmentEmbeddings(const SegmentEmbeddings&) = delete;
  SegmentEmbeddings& operator=(const SegmentEmbeddings&) = delete;

  int width() const { return n_embd_; }
  int n_types() const { return n_types_; }
  // Writes the input row of `token` in segment `type` (0 or 1) to out[0 .. width()).
  void row(std::int32_t token, int type, float* out) const;

 private:
  SegmentEmbeddings() = default;
  std::unique_ptr<MappedFile> file_;
  const unsigned char* token_table_ = nullptr;  // n_vocab rows in the file's storage type
  std::size_t row_bytes_ = 0;
  int token_type_ = 0;  // ggml_type of token_embd
  std::int64_t n_vocab_ = 0;
  int n_embd_ = 0;
  int n_types_ = 0;
  std::vector<float> type_delta_;  // n_types x n_embd: token_types[t] - token_types[0]
};

}  // namespace rerank::detail
