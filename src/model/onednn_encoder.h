// rerank.cpp's own runtime for BERT-family cross-encoders (private to src/model): the forward pass
// of the GGUF's weights computed with oneDNN (Debian's libdnnl), whose matrix products reach about
// twice the throughput of llama.cpp's on these shapes on CPUs with AVX-512 (docs/BENCHMARKS.md).
//
// Each sequence is evaluated alone, unpadded, so its score depends on its own tokens only, never on
// its batch-mates; whole sequences run in parallel, one per worker thread. The computation follows
// Hugging Face's BertForSequenceClassification / XLMRobertaForSequenceClassification in F32: token,
// token-type and position embeddings, post-norm layers with exact (erf) GELU, then the
// classification head on the first token. The last layer computes only the first token's row after
// attention, since nothing else reaches the head.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rerank::detail {

class EncoderWeights;

class OneDnnEncoder {
 public:
  // The runtime for `path`, or nullptr with `why_not` set when the model is not one it computes.
  // Throws rerank::Error for unreadable weights.
  static std::unique_ptr<OneDnnEncoder> open(const std::string& path, std::string* why_not);
  ~OneDnnEncoder();
  OneDnnEncoder(const OneDnnEncoder&) = delete;
  OneDnnEncoder& operator=(const OneDnnEncoder&) = delete;

  // Buffers and primitives of one worker thread (primitives run with their own scratchpad, so
  // workers never share mutable state).
  class Workspace;
  struct WorkspaceDeleter {
    void operator()(Workspace* ws) const;
  };
  using WorkspacePtr = std::unique_ptr<Workspace, WorkspaceDeleter>;
  // A workspace whose primitives run on `threads` threads.
  WorkspacePtr workspace(int threads) const;

  // The longest sequence (position embeddings).
  int max_tokens() const;
  // The classification head's first output for `tokens`; tokens from `type1_from` on are token
  // type 1 (models with one token type ignore it).
  float score(Workspace& ws, const std::vector<std::int32_t>& tokens, std::size_t type1_from) const;

  // Floating-point operations of score() on `tokens` tokens: what it computes (the last layer's
  // projections and feed-forward for one row), counted as Model::forward_flops counts.
  double flops(std::size_t tokens) const;

  struct Impl;

 private:
  explicit OneDnnEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rerank::detail
