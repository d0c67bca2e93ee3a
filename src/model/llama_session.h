// Small RAII helpers around llama.cpp contexts and batches shared by the runtimes (private).
#pragma once
#include <llama.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "rerank/model.h"

namespace rerank {
// The llama.cpp handle of a loaded model: the runtime's alone (Model keeps it out of its public API).
llama_model* raw_llama_model(const Model& model);
}  // namespace rerank

namespace rerank::detail {

// Batch invariance (a document's score must not depend on its batch-mates; required within 1e-5).
// llama.cpp's CPU flash attention has a kernel for micro-batches under 64 tokens (Q rounded to F16)
// and a tiled F32 kernel (64 query rows x 64 KV cells per tile, fully masked tiles skipped) from 64
// tokens on; the same document alone or packed would take different kernels (~5e-4 apart). So
// (1) every forward pass holds at least this many tokens, padded with a dummy sequence, and
// (2) with RuntimeOptions::align_sequences a sequence's layout depends on its own length only: one
// shorter than this many tokens shares passes, starting at a multiple of this many tokens (its own
// padding sequence fills the gap); a longer one runs alone and unpadded. Either way its query rows
// and KV cells always fill the same tiles the same way: cross-encoder scores are bit-for-bit
// independent of the batch and decoder logits agree within 1e-7 (tests/model/test_runtime.cpp).
// Flash attention also makes the attention cost proportional to the attended tiles only (the
// non-flash path is ~10x slower here).
constexpr int kInvariantBatchTokens = 64;

// Rule (2): with aligned sequences, whether one of this many tokens runs alone in its pass. (A
// sequence filling its slot exactly does not reproduce its alone bits in a shared pass, hence not
// "longer than".) Measured faster than shared padded slots for both model kinds: MiniLM-L6 pairs of
// ~83 tokens 64 vs 42 docs/s; Qwen3-0.6B continuations of ~270 tokens 14% faster.
constexpr bool runs_alone(std::size_t tokens) {
  return tokens >= static_cast<std::size_t>(kInvariantBatchTokens);
}

struct ContextDeleter {
  void operator()(llama_context* c) const { llama_free(c); }
};
using ContextPtr = std::unique_ptr<llama_context, ContextDeleter>;

// A llama_context with the runtime's sizes; `embeddings` selects pooled outputs (cross-encoder)
// over logits (decoder). Throws rerank::Error when llama.cpp refuses the parameters.
ContextPtr make_context(const Model& model, const RuntimeOptions& options, bool embeddings,
                        std::uint32_t n_ctx);

int resolve_threads(int threads);

// A llama_batch of fixed capacity whose tokens each belong to one sequence. With `embd_width` > 0
// it carries input embeddings of that width instead of token ids (see SegmentEmbeddings).
class Batch {
 public:
  explicit Batch(int capacity, int embd_width = 0);
  ~Batch();
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  void clear() { batch_.n_tokens = 0; }
  // Returns the token's index in the batch (for llama_get_logits_ith).
  int add(llama_token token, llama_pos pos, llama_seq_id seq, bool output);
  // Embedding mode: the caller writes the token's input row into the returned pointer.
  float* add_embedding(llama_pos pos, llama_seq_id seq, bool output);
  // Fills the batch up to `min_tokens` with tokens of the otherwise unused sequence `seq` (their
  // outputs are never read; see kInvariantBatchTokens). Returns how many were added.
  int pad_to(int min_tokens, llama_seq_id seq, llama_token token);
  // The same in embedding mode, every padding token given input row `row`.
  int pad_to(int min_tokens, llama_seq_id seq, const float* row);
  int size() const { return batch_.n_tokens; }
  int embd_width() const { return embd_width_; }
  const llama_batch& get() const { return batch_; }

 private:
  int add_slot(llama_pos pos, llama_seq_id seq, bool output);
  llama_batch batch_;
  int capacity_;
  int embd_width_;
};

// llama_decode with errors as rerank::Error.
void decode(llama_context* ctx, const Batch& batch);

}  // namespace rerank::detail
