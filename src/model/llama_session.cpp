#include "model/llama_session.h"

#include <algorithm>
#include <string>
#include <thread>

#include "model/exact_gelu.h"
#include "rerank/error.h"

namespace rerank::detail {

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

ContextPtr make_context(const Model& model, const RuntimeOptions& options, bool embeddings,
                        std::uint32_t n_ctx) {
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = n_ctx;
  cp.n_batch = static_cast<std::uint32_t>(options.batch_tokens);
  // One physical batch per decode: a sequence is never split across micro-batches, which keeps a
  // document's computation independent of its batch-mates (and is required for bidirectional
  // attention and pooling).
  cp.n_ubatch = cp.n_batch;
  // Room for the runtime's own sequences (shared prefix, padding) besides the documents; llama.cpp
  // aborts when a batch could hold more sequences (outputs) than tokens.
  cp.n_seq_max = static_cast<std::uint32_t>(std::min({options.max_sequences + 2, 256, options.batch_tokens}));
  cp.n_threads = cp.n_threads_batch = resolve_threads(options.threads);
  cp.embeddings = embeddings;
  cp.pooling_type = embeddings ? LLAMA_POOLING_TYPE_RANK : LLAMA_POOLING_TYPE_NONE;
  // Unified KV: sequences share cells, so a copied prefix costs no memory and no copying.
  cp.kv_unified = true;
  cp.no_perf = true;
  cp.flash_attn_type = options.flash_attention ? LLAMA_FLASH_ATTN_TYPE_AUTO : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  const ModelInfo& info = model.info();
  if (options.exact_gelu && info.arch == "bert" && !info.causal && info.n_ff > 0) {
    cp.cb_eval = exact_gelu_callback;
    cp.cb_eval_user_data = exact_gelu_user_data(info.n_ff);
  }
  llama_context* ctx = llama_init_from_model(raw_llama_model(model), cp);
  if (!ctx)
    throw Error(model.info().path + ": llama.cpp could not create a context (n_ctx " + std::to_string(n_ctx) +
                ", batch " + std::to_string(options.batch_tokens) + ")");
  return ContextPtr(ctx);
}

Batch::Batch(int capacity, int embd_width)
    : batch_(llama_batch_init(capacity, embd_width, 1)), capacity_(capacity), embd_width_(embd_width) {}

Batch::~Batch() { llama_batch_free(batch_); }

int Batch::add(llama_token token, llama_pos pos, llama_seq_id seq, bool output) {
  if (embd_width_ > 0) throw Error("internal error: a token id added to an embedding batch");
  const int i = add_slot(pos, seq, output);
  batch_.token[i] = token;
  return i;
}

float* Batch::add_embedding(llama_pos pos, llama_seq_id seq, bool output) {
  if (embd_width_ == 0) throw Error("internal error: an embedding added to a token batch");
  const int i = add_slot(pos, seq, output);
  return batch_.embd + static_cast<std::size_t>(i) * static_cast<std::size_t>(embd_width_);
}

int Batch::add_slot(llama_pos pos, llama_seq_id seq, bool output) {
  if (batch_.n_tokens >= capacity_) throw Error("internal error: llama batch overflow");
  const int i = batch_.n_tokens++;
  batch_.pos[i] = pos;
  batch_.n_seq_id[i] = 1;
  batch_.seq_id[i][0] = seq;
  batch_.logits[i] = output ? 1 : 0;
  return i;
}

int Batch::pad_to(int min_tokens, llama_seq_id seq, llama_token token) {
  int added = 0;
  for (; batch_.n_tokens < min_tokens; ++added) add(token, added, seq, false);
  return added;
}

int Batch::pad_to(int min_tokens, llama_seq_id seq, const float* row) {
  int added = 0;
  for (; batch_.n_tokens < min_tokens; ++added)
    std::copy(row, row + embd_width_, add_embedding(added, seq, false));
  return added;
}

void decode(llama_context* ctx, const Batch& batch) {
  const int rc = llama_decode(ctx, batch.get());
  if (rc == 1)
    throw Error("llama.cpp found no room in the KV cache for a batch of " + std::to_string(batch.size()) +
                " tokens");
  if (rc != 0)
    throw Error("llama.cpp failed to evaluate a batch (llama_decode returned " + std::to_string(rc) + ")");
}

}  // namespace rerank::detail
