#include "rerank/embedding_model.h"

#include <llama.h>

#include <algorithm>

#include "model/llama_session.h"
#include "rerank/error.h"

namespace rerank {

struct EmbeddingModel::State {
  detail::ContextPtr ctx;
  detail::Batch batch;
  bool pooled = true;  // llama.cpp pools per sequence; else we read the last token's output
  explicit State(int capacity) : batch(capacity) {}
};

EmbeddingModel::EmbeddingModel(std::shared_ptr<const Model> model, RuntimeOptions options)
    : model_(std::move(model)), options_(options) {
  if (model_->info().rank_head)
    throw Error(model_->info().path + ": a model with a ranking head scores pairs; it does not embed texts");
  options_.batch_tokens = std::max(options_.batch_tokens, 8);
  options_.context_tokens = std::max(options_.context_tokens, options_.batch_tokens);
  state_ = std::make_unique<State>(options_.batch_tokens);
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<std::uint32_t>(options_.context_tokens);
  cp.n_batch = cp.n_ubatch = static_cast<std::uint32_t>(options_.batch_tokens);
  cp.n_seq_max = static_cast<std::uint32_t>(std::clamp(options_.max_sequences, 1, 256));
  cp.n_threads = cp.n_threads_batch = detail::resolve_threads(options_.threads);
  cp.embeddings = true;
  cp.pooling_type = LLAMA_POOLING_TYPE_UNSPECIFIED;  // the model's own pooling
  cp.kv_unified = true;
  cp.no_perf = true;
  llama_context* ctx = llama_init_from_model(llama_handle(*model_), cp);
  if (!ctx) throw Error(model_->info().path + ": llama.cpp could not create an embedding context");
  state_->ctx.reset(ctx);
  switch (llama_pooling_type(ctx)) {
    case LLAMA_POOLING_TYPE_MEAN:
      pooling_ = "mean";
      break;
    case LLAMA_POOLING_TYPE_CLS:
      pooling_ = "cls";
      break;
    case LLAMA_POOLING_TYPE_LAST:
      pooling_ = "last";
      break;
    case LLAMA_POOLING_TYPE_NONE:
      if (!model_->info().causal)
        throw Error(model_->info().path +
                    ": a bidirectional model without pooling metadata cannot embed texts");
      pooling_ = "last-token";
      state_->pooled = false;
      break;
    default:
      throw Error(model_->info().path + ": unsupported pooling type for embeddings");
  }
}

EmbeddingModel::~EmbeddingModel() = default;

std::size_t EmbeddingModel::pooled_limit() const {
  std::size_t limit = static_cast<std::size_t>(options_.batch_tokens);
  if (model_->info().n_ctx_train > 0)
    limit = std::min(limit, static_cast<std::size_t>(model_->info().n_ctx_train));
  if (options_.max_input_tokens > 0)
    limit = std::min(limit, static_cast<std::size_t>(options_.max_input_tokens));
  return limit;
}

void EmbeddingModel::truncate_keeping_start(std::vector<std::int32_t>& tokens, std::size_t limit,
                                            const llama_vocab* vocab) {
  if (tokens.size() <= limit) return;
  const llama_token last = tokens.back();
  const bool closing = last == llama_vocab_sep(vocab) || last == llama_vocab_eos(vocab);
  tokens.resize(limit);
  if (closing) tokens.back() = last;  // [CLS] text... [SEP], as Hugging Face truncates
}

std::vector<std::vector<float>> EmbeddingModel::embed(const std::vector<std::string>& texts,
                                                      std::vector<RerankCost>* costs) {
  llama_context* ctx = state_->ctx.get();
  llama_memory_t mem = llama_get_memory(ctx);
  const llama_vocab* vocab = llama_model_get_vocab(llama_handle(*model_));
  const int n_embd = llama_model_n_embd(llama_handle(*model_));
  const std::size_t budget = static_cast<std::size_t>(options_.batch_tokens);
  const std::size_t max_seqs = llama_n_seq_max(ctx);
  const bool last_token = !state_->pooled || pooling_ == "last";

  std::vector<std::vector<std::int32_t>> tokens(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    tokens[i] = model_->tokenizer().tokenize(texts[i], true, false);
    const llama_token eos = llama_vocab_eos(vocab);
    if (last_token && eos >= 0 && (tokens[i].empty() || tokens[i].back() != eos)) tokens[i].push_back(eos);
    if (tokens[i].empty())
      throw Error("cannot embed an empty text with this model (it adds no special tokens)");
    if (state_->pooled) {
      truncate_keeping_start(tokens[i], pooled_limit(), vocab);
    } else if (tokens[i].size() > static_cast<std::size_t>(options_.context_tokens)) {
      // Keep the end: with last-token pooling the final token carries the embedding.
      tokens[i].erase(tokens[i].begin(),
                      tokens[i].end() - static_cast<std::ptrdiff_t>(options_.context_tokens));
    }
  }
  if (costs) costs->assign(texts.size(), RerankCost{});
  std::vector<std::vector<float>> out(texts.size());
  auto& batch = state_->batch;
  std::size_t next = 0;
  while (next < texts.size()) {
    llama_memory_clear(mem, true);
    batch.clear();
    std::vector<std::pair<std::size_t, int>> packed;  // text, output index in the batch
    std::size_t used = 0;
    // A text longer than one batch (last-token pooling only) goes alone, in slices.
    if (tokens[next].size() > budget) {
      const auto& t = tokens[next];
      int index = -1;
      for (std::size_t begin = 0; begin < t.size(); begin += budget) {
        batch.clear();
        for (std::size_t p = begin; p < std::min(t.size(), begin + budget); ++p)
          index = batch.add(t[p], static_cast<llama_pos>(p), 0, p + 1 == t.size());
        detail::decode(ctx, batch);
        if (costs) (*costs)[next].forward_passes += 1;
      }
      packed.emplace_back(next, index);
      ++next;
    } else {
      while (next < texts.size() && packed.size() < max_seqs && used + tokens[next].size() <= budget) {
        const auto& t = tokens[next];
        const auto seq = static_cast<llama_seq_id>(packed.size());
        int index = -1;
        for (std::size_t p = 0; p < t.size(); ++p)
          index = batch.add(t[p], static_cast<llama_pos>(p), seq, state_->pooled || p + 1 == t.size());
        packed.emplace_back(next, index);
        used += t.size();
        ++next;
      }
      detail::decode(ctx, batch);
      if (costs) (*costs)[packed.front().first].forward_passes += 1;
    }
    for (std::size_t k = 0; k < packed.size(); ++k) {
      const auto [text, index] = packed[k];
      const float* e = state_->pooled ? llama_get_embeddings_seq(ctx, static_cast<llama_seq_id>(k))
                                      : llama_get_embeddings_ith(ctx, index);
      if (!e) throw Error("llama.cpp returned no embedding");
      out[text].assign(e, e + n_embd);
      if (costs) {
        (*costs)[text].prompt_tokens += tokens[text].size();
        (*costs)[text].flops += model_->forward_flops(tokens[text].size(), 0, 0);
      }
    }
  }
  llama_memory_clear(mem, true);
  return out;
}

}  // namespace rerank
