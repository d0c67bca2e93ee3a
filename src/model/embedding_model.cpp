#include "rerank/embedding_model.h"

#include <llama.h>

#include <algorithm>

#include "model/llama_session.h"
#include "model/onednn_encoder.h"
#include "model/packing.h"
#include "rerank/error.h"
#include "rerank/parallel.h"

namespace rerank {

using Sequences = std::vector<std::vector<std::int32_t>>;

namespace {

// Sequences the context holds: twice the texts of a pass (each has a padding sequence of its own),
// as a divisor of the batch size, since llama.cpp's mean pooling cannot reserve its graph otherwise
// (it rounds the reserved batch up to a multiple of the sequences, but not the batch's outputs).
std::uint32_t sequence_slots(int max_sequences, int batch_tokens) {
  const int wanted = std::min({2 * max_sequences, 256, batch_tokens});
  int slots = 1;
  for (int d = 1; d <= std::min(256, batch_tokens); ++d) {
    if (batch_tokens % d != 0) continue;
    slots = d;
    if (d >= wanted) break;
  }
  return static_cast<std::uint32_t>(slots);
}

}  // namespace

struct EmbeddingModel::State {
  detail::ContextPtr ctx;
  detail::Batch batch;
  bool pooled = true;       // llama.cpp pools per sequence; else we read the last token's output
  bool last_token = false;  // pooled at the last token: texts end with an end-of-text token
  // Set when rerank.cpp's own runtime computes the model (then there is no llama.cpp context).
  std::unique_ptr<detail::OneDnnEncoder> native;
  std::vector<detail::OneDnnEncoder::WorkspacePtr> native_workers;
  explicit State(int capacity) : batch(capacity) {}

  // One pass over a pack of texts, each in its slot of `layout` (sequence k: pack[k]; its padding:
  // max_seqs + k). Returns each text's output index in the batch.
  std::vector<int> run_pack(const Sequences& tokens, const std::vector<std::size_t>& pack,
                            const detail::PassLayout& layout, std::size_t max_seqs);
  // One text longer than a pass (last-token pooling only), alone, in consecutive slices. Returns
  // its last token's output index; adds the passes to `passes`.
  int run_sliced(const std::vector<std::int32_t>& tokens, std::size_t budget, std::uint64_t& passes);
  // The embedding of sequence k of the last pass, whose output index was `index`.
  const float* embedding(std::size_t k, int index) const;
};

std::vector<int> EmbeddingModel::State::run_pack(const Sequences& tokens,
                                                 const std::vector<std::size_t>& pack,
                                                 const detail::PassLayout& layout, std::size_t max_seqs) {
  batch.clear();
  std::vector<int> output(pack.size(), -1);
  for (std::size_t k = 0; k < pack.size(); ++k) {
    const auto& t = tokens[pack[k]];
    for (std::size_t p = 0; p < t.size(); ++p)
      output[k] = batch.add(t[p], static_cast<llama_pos>(p), static_cast<llama_seq_id>(k),
                            pooled || p + 1 == t.size());
    // Padding tokens repeat a text's first token (their outputs are never read).
    if (!layout.alone(t.size()))
      batch.pad_to(static_cast<int>(layout.round_up(static_cast<std::size_t>(batch.size()))),
                   static_cast<llama_seq_id>(max_seqs + k), t[0]);
  }
  // Kernels also change below one block: no pass is smaller.
  batch.pad_to(detail::kInvariantBatchTokens, static_cast<llama_seq_id>(max_seqs + pack.size() - 1),
               tokens[pack[0]][0]);
  detail::decode(ctx.get(), batch);
  return output;
}

int EmbeddingModel::State::run_sliced(const std::vector<std::int32_t>& tokens, std::size_t budget,
                                      std::uint64_t& passes) {
  return detail::feed_in_slices(batch, tokens, 0, 0, budget, detail::OutputLast::Yes, [&] {
    detail::decode(ctx.get(), batch);
    passes += 1;
  });
}

const float* EmbeddingModel::State::embedding(std::size_t k, int index) const {
  const float* e = pooled ? llama_get_embeddings_seq(ctx.get(), static_cast<llama_seq_id>(k))
                          : llama_get_embeddings_ith(ctx.get(), index);
  if (!e) throw Error("llama.cpp returned no embedding");
  return e;
}

EmbeddingModel::EmbeddingModel(std::shared_ptr<const Model> model, RuntimeOptions options)
    : model_(std::move(model)), options_(options) {
  if (model_->info().rank_head)
    throw Error(model_->info().path + ": a model with a ranking head scores pairs; it does not embed texts");
  // Whole multiples of the alignment, so that aligned texts always fit.
  const int align = detail::kInvariantBatchTokens;
  options_.batch_tokens = (std::max(options_.batch_tokens, align) + align - 1) / align * align;
  options_.context_tokens = std::max(options_.context_tokens, options_.batch_tokens);
  options_.max_sequences = std::clamp(options_.max_sequences, 1, 127);
  state_ = std::make_unique<State>(options_.batch_tokens);
  if (open_native(detail::resolve_threads(options_.threads))) return;
  if (options_.encoder_precision == RuntimeOptions::EncoderPrecision::BF16)
    throw Error(model_->info().path +
                ": BF16 precision is a setting of rerank.cpp's own encoder runtime, and this model runs on "
                "llama.cpp");
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<std::uint32_t>(options_.context_tokens);
  cp.n_batch = cp.n_ubatch = static_cast<std::uint32_t>(options_.batch_tokens);
  cp.n_seq_max = sequence_slots(options_.max_sequences, options_.batch_tokens);
  cp.n_threads = cp.n_threads_batch = detail::resolve_threads(options_.threads);
  cp.embeddings = true;
  cp.pooling_type = LLAMA_POOLING_TYPE_UNSPECIFIED;  // the model's own pooling
  cp.kv_unified = true;
  cp.no_perf = true;
  llama_context* ctx = llama_init_from_model(raw_llama_model(*model_), cp);
  if (!ctx) throw Error(model_->info().path + ": llama.cpp could not create an embedding context");
  state_->ctx.reset(ctx);
  switch (llama_pooling_type(ctx)) {
    case LLAMA_POOLING_TYPE_MEAN:
    case LLAMA_POOLING_TYPE_CLS:
      break;
    case LLAMA_POOLING_TYPE_LAST:
      state_->last_token = true;
      break;
    case LLAMA_POOLING_TYPE_NONE:
      if (!model_->info().causal)
        throw Error(model_->info().path +
                    ": a bidirectional model without pooling metadata cannot embed texts");
      state_->pooled = false;
      state_->last_token = true;
      break;
    default:
      throw Error(model_->info().path + ": unsupported pooling type for embeddings");
  }
}

EmbeddingModel::~EmbeddingModel() = default;

bool EmbeddingModel::open_native(int threads) {
  using Runtime = RuntimeOptions::EncoderRuntime;
  if (options_.encoder_runtime == Runtime::Llama) return false;
  std::string why_not;
  state_->native = detail::OneDnnEncoder::open(model_->info().path, detail::EncoderOutput::PooledEmbedding,
                                               options_.encoder_precision, &why_not);
  if (!state_->native) {
    if (options_.encoder_runtime == Runtime::OneDnn)
      throw Error(model_->info().path + ": the oneDNN encoder runtime cannot compute this model: " + why_not);
    return false;
  }
  // One text per thread: a pass of one short text cannot keep several threads busy.
  for (int w = 0; w < threads; ++w) state_->native_workers.push_back(state_->native->workspace(1));
  return true;
}

bool EmbeddingModel::own_runtime() const { return state_->native != nullptr; }

std::vector<std::vector<float>> EmbeddingModel::embed_native(const Sequences& tokens,
                                                             std::vector<RerankCost>* costs) {
  const std::vector<std::size_t> order = detail::longest_first(tokens);
  std::vector<std::vector<float>> out(tokens.size());
  const std::size_t n_workers = std::min(state_->native_workers.size(), tokens.size());
  detail::parallel_for(order.size(), n_workers, [&](std::size_t w, std::size_t i) {
    out[order[i]] = state_->native->embed(*state_->native_workers[w], tokens[order[i]]);
  });
  if (costs) {
    costs->assign(tokens.size(), RerankCost{});
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      (*costs)[i].forward_passes = 1;
      (*costs)[i].prompt_tokens = tokens[i].size();
      (*costs)[i].flops = state_->native->flops(tokens[i].size());
    }
  }
  return out;
}

std::size_t EmbeddingModel::pooled_limit() const {
  std::size_t limit = static_cast<std::size_t>(options_.batch_tokens);
  if (state_->native) limit = static_cast<std::size_t>(state_->native->max_tokens());
  if (model_->info().n_ctx_train > 0)
    limit = std::min(limit, static_cast<std::size_t>(model_->info().n_ctx_train));
  if (options_.max_input_tokens > 0)
    limit = std::min(limit, static_cast<std::size_t>(options_.max_input_tokens));
  return limit;
}

namespace {
// Cut to `limit` tokens, keeping a closing [SEP]/EOS: [CLS] text... [SEP], as Hugging Face truncates.
void truncate_keeping_start(std::vector<std::int32_t>& tokens, std::size_t limit,
                            const SpecialTokens& special) {
  if (tokens.size() <= limit) return;
  const llama_token last = tokens.back();
  const bool closing = (special.sep >= 0 && last == special.sep) || (special.eos >= 0 && last == special.eos);
  tokens.resize(limit);
  if (closing) tokens.back() = last;
}
}  // namespace

Sequences EmbeddingModel::tokenize(const std::vector<std::string>& texts, bool whole) const {
  const SpecialTokens special = model_->tokenizer().special_tokens();
  const llama_token eos = special.eos;
  Sequences tokens(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    tokens[i] = model_->tokenizer().tokenize(texts[i], true, false);
    if (state_->last_token && eos >= 0 && (tokens[i].empty() || tokens[i].back() != eos))
      tokens[i].push_back(eos);
    if (tokens[i].empty())
      throw InvalidInput("cannot embed an empty text with this model (it adds no special tokens)");
    if (whole) continue;
    if (state_->pooled) {
      truncate_keeping_start(tokens[i], pooled_limit(), special);
    } else if (tokens[i].size() > static_cast<std::size_t>(options_.context_tokens)) {
      // Keep the end: with last-token pooling the final token carries the embedding.
      tokens[i].erase(tokens[i].begin(),
                      tokens[i].end() - static_cast<std::ptrdiff_t>(options_.context_tokens));
    }
  }
  return tokens;
}

std::vector<std::vector<float>> EmbeddingModel::embed(const std::vector<std::string>& texts,
                                                      std::vector<RerankCost>* costs) {
  return embed_tokens(tokenize(texts), costs);
}

int EmbeddingModel::dims() const { return model_->info().n_embd; }

namespace {
// Cuts a text's tokens into windows of at most `window` tokens that keep its framing (the leading
// [CLS]/BOS and the closing [SEP]/EOS the tokenizer added) around each piece of its body.
Sequences cut_into_windows(const std::vector<std::int32_t>& tokens, std::size_t window, std::size_t stride,
                           const SpecialTokens& special) {
  std::size_t lead = 0, trail = 0;
  if (!tokens.empty() && special.bos >= 0 && tokens.front() == special.bos) lead = 1;
  if (tokens.size() > lead && ((special.sep >= 0 && tokens.back() == special.sep) ||
                               (special.eos >= 0 && tokens.back() == special.eos)))
    trail = 1;
  if (window <= lead + trail)
    throw Error("chunk window of " + std::to_string(window) + " tokens is too small");
  const std::size_t body = tokens.size() - lead - trail, piece = window - lead - trail;
  Sequences windows;
  for (std::size_t start = 0;; start += stride) {
    const std::size_t end = std::min(body, start + piece);
    std::vector<std::int32_t> w(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(lead));
    w.insert(w.end(), tokens.begin() + static_cast<std::ptrdiff_t>(lead + start),
             tokens.begin() + static_cast<std::ptrdiff_t>(lead + end));
    if (trail) w.push_back(tokens.back());
    windows.push_back(std::move(w));
    if (end == body) break;
  }
  return windows;
}
}  // namespace

std::vector<std::vector<std::vector<float>>> EmbeddingModel::embed_windows(
    const std::vector<std::string>& texts, std::size_t window, std::size_t stride) {
  if (stride == 0 || window == 0) throw Error("chunk window and stride must be positive");
  window = std::min(window, pooled_limit());
  const SpecialTokens special = model_->tokenizer().special_tokens();
  Sequences all;
  std::vector<std::size_t> first(texts.size() + 1, 0);
  const Sequences tokens = tokenize(texts, /*whole=*/true);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    for (auto& w : cut_into_windows(tokens[i], window, stride, special)) all.push_back(std::move(w));
    first[i + 1] = all.size();
  }
  auto vectors = embed_tokens(all, nullptr);
  std::vector<std::vector<std::vector<float>>> out(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i)
    for (std::size_t j = first[i]; j < first[i + 1]; ++j) out[i].push_back(std::move(vectors[j]));
  return out;
}

std::vector<std::vector<float>> EmbeddingModel::embed_tokens(const Sequences& tokens,
                                                             std::vector<RerankCost>* costs) {
  if (state_->native) return embed_native(tokens, costs);
  llama_context* ctx = state_->ctx.get();
  llama_memory_t mem = llama_get_memory(ctx);
  const int n_embd = model_->info().n_embd;
  // As in the cross-encoder, a text's layout in its pass depends on its own length only, so that
  // its embedding does not depend on its batch-mates (see detail::PassLayout).
  const auto budget = static_cast<std::size_t>(options_.batch_tokens);
  const detail::PassLayout layout(options_.align_sequences);
  const auto max_seqs = std::min(static_cast<std::size_t>(llama_n_seq_max(ctx)) / 2,
                                 static_cast<std::size_t>(options_.max_sequences));
  std::vector<std::size_t> lengths;
  for (const auto& t : tokens) lengths.push_back(t.size());
  const auto footprint = layout.footprints(lengths, budget);

  if (costs) costs->assign(tokens.size(), RerankCost{});
  std::vector<std::vector<float>> out(tokens.size());
  for (const auto& pack : detail::pack_by_length(footprint, budget, max_seqs)) {
    llama_memory_clear(mem, true);
    std::uint64_t passes = 1;
    std::vector<int> output;
    if (footprint[pack[0]] > budget) {  // alone: longer than a pass
      passes = 0;
      output.push_back(state_->run_sliced(tokens[pack[0]], budget, passes));
    } else {
      output = state_->run_pack(tokens, pack, layout, max_seqs);
    }
    // A pass shared by several texts is booked on the first of them.
    if (costs) (*costs)[*std::min_element(pack.begin(), pack.end())].forward_passes += passes;
    for (std::size_t k = 0; k < pack.size(); ++k) {
      const float* e = state_->embedding(k, output[k]);
      out[pack[k]].assign(e, e + n_embd);
      if (costs) {
        (*costs)[pack[k]].prompt_tokens += lengths[pack[k]];
        (*costs)[pack[k]].flops += model_->forward_flops(lengths[pack[k]], 0, 0);
      }
    }
  }
  llama_memory_clear(mem, true);
  return out;
}

}  // namespace rerank
