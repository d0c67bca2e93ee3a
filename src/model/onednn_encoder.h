// rerank.cpp's own runtime for BERT-family encoders (private to src/model): the forward pass of the
// GGUF's weights computed with oneDNN (Debian's libdnnl), whose matrix products reach about twice
// the throughput of llama.cpp's on these shapes on CPUs with AVX-512 (docs/BENCHMARKS.md).
//
// Each sequence is evaluated alone, unpadded, so its output depends on its own tokens only, never on
// its batch-mates; whole sequences run in parallel, one per worker thread. The computation follows
// Hugging Face's BertModel (token, token-type and position embeddings, post-norm layers with exact
// erf GELU) and then either the classification head of BertForSequenceClassification /
// XLMRobertaForSequenceClassification on the first token (cross-encoders), or the model's pooling,
// mean or first token, as sentence-transformers pools (embedding models). Where only the first
// token's row is needed, the last layer computes only that row after attention.
//
// Precision: F32 throughout, or BF16 matmul inputs and weights with F32 accumulation
// (RuntimeOptions::EncoderPrecision): the projections, the feed-forward, and attention's Q, K, V
// and probabilities; attention scores, the softmax, norms, residuals and the head stay F32.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/encoder_weights.h"
#include "rerank/model.h"

namespace rerank::detail {

// True when the CPU computes BF16 matrix products natively (AVX512-BF16 or AMX), as oneDNN sees it
// (DNNL_MAX_CPU_ISA can lower what it sees).
bool cpu_has_native_bf16();
// True when the CPU has VNNI (AVX-VNNI, AVX512-VNNI, or AMX, which implies it), as oneDNN sees it:
// INT8 products with 32-bit sums. Without it oneDNN's u8 x s8 matmuls are many times slower than
// F32 (measured on AVX2 Zen 3) and sum pairs of products in 16 bits, so INT8 is refused there.
bool cpu_has_int8_dot_products();

// Indices of `sequences`, longest first (ties in input order): the order the runtime's workers take
// sequences in, so that the last ones to start are short.
std::vector<std::size_t> longest_first(const std::vector<std::vector<std::int32_t>>& sequences);

class OneDnnEncoder {
 public:
  using Precision = RuntimeOptions::EncoderPrecision;
  // The runtime for `path` computing `output`, or nullptr with `why_not` set when the model is not
  // one it computes. Throws rerank::Error for unreadable weights and for BF16 asked of a CPU without
  // native BF16.
  static std::unique_ptr<OneDnnEncoder> open(const std::string& path, EncoderOutput output,
                                             Precision precision, std::string* why_not);
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
  // The precision the matrix products run in (never Auto).
  Precision precision() const;
  int embedding_size() const;

  // Classifier: the head's first output for `tokens`; tokens from `type1_from` on are token type 1
  // (models with one token type ignore it).
  float score(Workspace& ws, const std::vector<std::int32_t>& tokens, std::size_t type1_from) const;
  // PooledEmbedding: the pooled last hidden state of `tokens` (all token type 0), not normalised.
  std::vector<float> embed(Workspace& ws, const std::vector<std::int32_t>& tokens) const;

  // Floating-point operations of score() or embed() on `tokens` tokens: what they compute (a last
  // layer reduced to one row counted as one row), counted as Model::forward_flops counts.
  double flops(std::size_t tokens) const;

  struct Impl;

 private:
  explicit OneDnnEncoder(std::unique_ptr<Impl> impl);
  // Runs every layer over `tokens`; the last layer computes its first `last_rows` rows after
  // attention. The final hidden rows are left in ws.x.
  void forward(Workspace& ws, const std::vector<std::int32_t>& tokens, std::size_t type1_from,
               long last_rows) const;
  // Rows of the last layer that reach the output for a sequence of `tokens` tokens.
  long output_rows(long tokens) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rerank::detail
