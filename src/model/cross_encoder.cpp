#include "rerank/cross_encoder.h"

#include <llama.h>

#include <algorithm>

#include "model/llama_session.h"
#include "model/onednn_encoder.h"
#include "model/packing.h"
#include "model/segment_embeddings.h"
#include "rerank/error.h"
#include "rerank/parallel.h"

namespace rerank {

namespace {

// One score() call: its sequences, their layout and where their scores go.
struct ScoreRequest {
  const std::vector<std::vector<std::int32_t>>& sequences;
  const std::vector<std::size_t>& second_segment;
  const detail::PassLayout& layout;
  std::size_t max_seqs;  // documents per pass (sequence ids below); their padding sequences follow
  std::vector<float>& scores;
};

}  // namespace

struct CrossEncoder::State {
  struct Worker {
    detail::ContextPtr ctx;
    detail::Batch batch;
    std::vector<float> pad_row;
    Worker(int capacity, int embd_width) : batch(capacity, embd_width), pad_row(std::size_t(embd_width)) {}
  };
  std::vector<std::unique_ptr<Worker>> workers;
  // Set for models with token types (BERT): inputs go in as embeddings with each token's segment.
  std::unique_ptr<detail::SegmentEmbeddings> segments;
  // Set when rerank.cpp's own runtime computes the model (then `workers` is empty).
  std::unique_ptr<detail::OneDnnEncoder> native;
  std::vector<detail::OneDnnEncoder::WorkspacePtr> native_workers;

  // Evaluates one pack of sequences in one forward pass of worker `w` and writes their scores.
  void run_pack(Worker& w, const ScoreRequest& request, const std::vector<std::size_t>& pack) const;
  // Padding tokens repeat a sequence's first token (their outputs are never read).
  void pad(Worker& w, int to, std::size_t seq_id, llama_token token) const;
};

void CrossEncoder::State::pad(Worker& w, int to, std::size_t seq_id, llama_token token) const {
  if (!segments) {
    w.batch.pad_to(to, static_cast<llama_seq_id>(seq_id), token);
    return;
  }
  segments->row(token, 0, w.pad_row.data());
  w.batch.pad_to(to, static_cast<llama_seq_id>(seq_id), w.pad_row.data());
}

void CrossEncoder::State::run_pack(Worker& w, const ScoreRequest& request,
                                   const std::vector<std::size_t>& pack) const {
  llama_context* ctx = w.ctx.get();
  if (llama_memory_t mem = llama_get_memory(ctx)) llama_memory_clear(mem, true);
  auto& batch = w.batch;
  batch.clear();
  for (std::size_t k = 0; k < pack.size(); ++k) {
    const auto& seq = request.sequences[pack[k]];
    const std::size_t type1_from =
        request.second_segment.empty() ? seq.size() : request.second_segment[pack[k]];
    for (std::size_t p = 0; p < seq.size(); ++p) {
      const auto pos = static_cast<llama_pos>(p);
      const auto id = static_cast<llama_seq_id>(k);
      if (segments)
        segments->row(seq[p], p >= type1_from ? 1 : 0, batch.add_embedding(pos, id, /*output=*/true));
      else
        batch.add(seq[p], pos, id, /*output=*/true);
    }
    if (!request.layout.alone(seq.size()))
      pad(w, static_cast<int>(request.layout.round_up(static_cast<std::size_t>(batch.size()))),
          request.max_seqs + k, seq[0]);
  }
  // Kernels also change below one block: no pass is smaller.
  pad(w, detail::kInvariantBatchTokens, request.max_seqs + pack.size() - 1, request.sequences[pack[0]][0]);
  detail::decode(ctx, batch);
  for (std::size_t k = 0; k < pack.size(); ++k) {
    const float* out = llama_get_embeddings_seq(ctx, static_cast<llama_seq_id>(k));
    if (!out) throw Error("cross-encoder: llama.cpp returned no classification output");
    request.scores[pack[k]] = out[0];
  }
}

CrossEncoder::CrossEncoder(std::shared_ptr<const Model> model, RuntimeOptions options)
    : model_(std::move(model)), options_(options) {
  if (model_->info().kind != ModelKind::CrossEncoder)
    throw Error(model_->info().path + ": not a cross-encoder (model kind: " + to_string(model_->info().kind) +
                ")");
  // Whole multiples of the alignment, so that aligned sequences always fit.
  const int align = detail::kInvariantBatchTokens;
  options_.batch_tokens = std::max(options_.batch_tokens, align);
  options_.batch_tokens = (options_.batch_tokens + align - 1) / align * align;
  options_.max_sequences = std::clamp(options_.max_sequences, 1, 127);
  const int threads = detail::resolve_threads(options_.threads);
  options_.workers = std::clamp(options_.workers, 1, threads);
  state_ = std::make_unique<State>();
  if (open_native(threads)) return;
  if (options_.encoder_precision == RuntimeOptions::EncoderPrecision::BF16)
    throw Error(model_->info().path +
                ": BF16 precision is a setting of rerank.cpp's own encoder runtime, and this model runs on "
                "llama.cpp");
  state_->segments = detail::SegmentEmbeddings::open(model_->info().path);
  const int embd_width = state_->segments ? state_->segments->width() : 0;
  // A pooled sequence must be evaluated whole in one forward pass, so the context holds one batch.
  // Twice the sequences: each document is followed by its own padding sequence (see score()).
  RuntimeOptions context_options = options_;
  context_options.max_sequences = 2 * options_.max_sequences;
  for (int w = 0; w < options_.workers; ++w) {
    // Threads split as evenly as possible; every worker gets at least one.
    context_options.threads = threads / options_.workers + (w < threads % options_.workers ? 1 : 0);
    auto worker = std::make_unique<State::Worker>(options_.batch_tokens, embd_width);
    worker->ctx = detail::make_context(*model_, context_options, /*embeddings=*/true,
                                       static_cast<std::uint32_t>(options_.batch_tokens));
    state_->workers.push_back(std::move(worker));
  }
}

CrossEncoder::~CrossEncoder() = default;

bool CrossEncoder::open_native(int threads) {
  using Runtime = RuntimeOptions::EncoderRuntime;
  if (options_.encoder_runtime == Runtime::Llama) return false;
  if (options_.encoder_runtime == Runtime::Auto && !options_.exact_gelu) return false;
  std::string why_not;
  state_->native = detail::OneDnnEncoder::open(model_->info().path, detail::EncoderOutput::Classifier,
                                               options_.encoder_precision, &why_not);
  if (!state_->native) {
    if (options_.encoder_runtime == Runtime::OneDnn)
      throw Error(model_->info().path + ": the oneDNN encoder runtime cannot compute this model: " + why_not);
    return false;
  }
  for (int w = 0; w < options_.workers; ++w)
    state_->native_workers.push_back(
        state_->native->workspace(threads / options_.workers + (w < threads % options_.workers ? 1 : 0)));
  return true;
}

std::vector<float> CrossEncoder::score_native(const std::vector<std::vector<std::int32_t>>& sequences,
                                              RerankCost* cost,
                                              const std::vector<std::size_t>& second_segment) {
  const std::vector<std::size_t> order = detail::longest_first(sequences);
  std::vector<float> scores(sequences.size(), 0.0f);
  const std::size_t n_workers = std::min(state_->native_workers.size(), sequences.size());
  detail::parallel_for(order.size(), n_workers, [&](std::size_t w, std::size_t i) {
    const std::size_t s = order[i];
    const std::size_t type1_from = second_segment.empty() ? sequences[s].size() : second_segment[s];
    scores[s] = state_->native->score(*state_->native_workers[w], sequences[s], type1_from);
  });
  if (cost)
    for (const auto& s : sequences) {
      cost->forward_passes += 1;
      cost->prompt_tokens += s.size();
      cost->flops += state_->native->flops(s.size());
    }
  return scores;
}

int CrossEncoder::max_sequence_tokens() const {
  if (state_->native) return state_->native->max_tokens();
  const int trained = model_->info().n_ctx_train > 0 ? model_->info().n_ctx_train : options_.batch_tokens;
  return std::min(trained, options_.batch_tokens);
}

bool CrossEncoder::own_runtime() const { return state_->native != nullptr; }

std::vector<float> CrossEncoder::score(const std::vector<std::vector<std::int32_t>>& sequences,
                                       RerankCost* cost, const std::vector<std::size_t>& second_segment) {
  if (!second_segment.empty() && second_segment.size() != sequences.size())
    throw Error("internal error: cross-encoder segment starts do not match the sequences");
  const std::size_t limit = static_cast<std::size_t>(max_sequence_tokens());
  std::vector<std::size_t> lengths;
  lengths.reserve(sequences.size());
  for (const auto& s : sequences) {
    if (s.empty()) throw Error("cross-encoder: cannot score an empty token sequence");
    if (s.size() > limit)
      throw Error("cross-encoder: sequence of " + std::to_string(s.size()) + " tokens exceeds the limit of " +
                  std::to_string(limit) + " (truncate or chunk the document)");
    lengths.push_back(s.size());
  }
  if (state_->native) return score_native(sequences, cost, second_segment);
  // Bidirectional attention sums over every token of the pass (masked ones add exact zeros), and
  // llama.cpp's tiled kernels group terms in blocks of kInvariantBatchTokens. A sequence's score is
  // therefore reproducible bit for bit only in a fixed layout, chosen here from its own length alone:
  // a short sequence takes aligned slots padded by a sequence of its own, so short ones can share a
  // pass (a pass of a few dozen tokens would waste the matmul kernels); a long one runs alone and
  // unpadded, since its pass is big enough and padding would cost up to 63 tokens of compute.
  const auto budget = static_cast<std::size_t>(options_.batch_tokens);
  const detail::PassLayout layout(options_.align_sequences);
  const auto n_seq = static_cast<std::size_t>(llama_n_seq_max(state_->workers[0]->ctx.get()));
  const auto max_seqs = std::min(n_seq / 2, static_cast<std::size_t>(options_.max_sequences));
  const auto packs = detail::pack_by_length(layout.footprints(lengths, budget), budget, max_seqs);
  std::vector<float> scores(sequences.size(), 0.0f);
  const ScoreRequest request{sequences, second_segment, layout, max_seqs, scores};

  // Passes are handed out in order to whichever worker is free; each writes its own scores.
  const std::size_t n_workers = std::min(state_->workers.size(), packs.size());
  std::vector<RerankCost> worker_costs(std::max<std::size_t>(n_workers, 1));
  detail::parallel_for(packs.size(), n_workers, [&](std::size_t w, std::size_t i) {
    state_->run_pack(*state_->workers[w], request, packs[i]);
    RerankCost& pass_cost = worker_costs[w];
    pass_cost.forward_passes += 1;
    for (std::size_t s : packs[i]) {
      pass_cost.prompt_tokens += lengths[s];
      pass_cost.flops += model_->forward_flops(lengths[s], 0, 0);
    }
  });
  if (cost)
    for (const auto& c : worker_costs) *cost += c;
  return scores;
}

}  // namespace rerank
