#include "rerank/cross_encoder.h"

#include <llama.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <numeric>
#include <thread>

#include "model/llama_session.h"
#include "model/segment_embeddings.h"
#include "rerank/error.h"

namespace rerank {

std::vector<std::vector<std::size_t>> pack_by_length(const std::vector<std::size_t>& lengths,
                                                     std::size_t max_tokens, std::size_t max_sequences) {
  std::vector<std::size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return lengths[a] < lengths[b]; });
  std::vector<std::vector<std::size_t>> packs;
  std::size_t tokens = 0;
  for (std::size_t i : order) {
    if (packs.empty() || tokens + lengths[i] > max_tokens || packs.back().size() >= max_sequences) {
      packs.emplace_back();
      tokens = 0;
    }
    packs.back().push_back(i);
    tokens += lengths[i];
  }
  return packs;
}

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
};

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

int CrossEncoder::max_sequence_tokens() const {
  const int trained = model_->info().n_ctx_train > 0 ? model_->info().n_ctx_train : options_.batch_tokens;
  return std::min(trained, options_.batch_tokens);
}

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
  // Bidirectional attention sums over every token of the pass (masked ones add exact zeros), and
  // llama.cpp's tiled kernels group terms in blocks of kInvariantBatchTokens. A sequence's score is
  // therefore reproducible bit for bit only in a fixed layout, chosen here from its own length alone:
  // a short sequence takes aligned slots padded by a sequence of its own, so short ones can share a
  // pass (a pass of a few dozen tokens would waste the matmul kernels); a long one runs alone and
  // unpadded, since its pass is big enough and padding would cost up to 63 tokens of compute.
  const std::size_t align = options_.align_sequences ? detail::kInvariantBatchTokens : 1;
  auto alone = [&](std::size_t length) { return options_.align_sequences && detail::runs_alone(length); };
  const auto n_seq = static_cast<std::size_t>(llama_n_seq_max(state_->workers[0]->ctx.get()));
  const auto max_seqs = std::min(n_seq / 2, static_cast<std::size_t>(options_.max_sequences));
  const auto budget = static_cast<std::size_t>(options_.batch_tokens);
  std::vector<std::size_t> footprint(lengths.size());
  for (std::size_t i = 0; i < lengths.size(); ++i)
    footprint[i] = alone(lengths[i]) ? budget : (lengths[i] + align - 1) / align * align;
  const auto packs = pack_by_length(footprint, budget, max_seqs);
  std::vector<float> scores(sequences.size(), 0.0f);

  auto run_pack = [&](State::Worker& w, const std::vector<std::size_t>& pack, RerankCost& pass_cost) {
    llama_context* ctx = w.ctx.get();
    if (llama_memory_t mem = llama_get_memory(ctx)) llama_memory_clear(mem, true);
    auto& batch = w.batch;
    batch.clear();
    const detail::SegmentEmbeddings* segments = state_->segments.get();
    // Padding tokens repeat a sequence's first token (its outputs are never read).
    auto pad = [&](int to, std::size_t seq_id, llama_token token) {
      if (!segments) return batch.pad_to(to, static_cast<llama_seq_id>(seq_id), token);
      segments->row(token, 0, w.pad_row.data());
      return batch.pad_to(to, static_cast<llama_seq_id>(seq_id), w.pad_row.data());
    };
    for (std::size_t k = 0; k < pack.size(); ++k) {
      const auto& seq = sequences[pack[k]];
      const std::size_t type1_from = second_segment.empty() ? seq.size() : second_segment[pack[k]];
      for (std::size_t p = 0; p < seq.size(); ++p) {
        const auto pos = static_cast<llama_pos>(p);
        const auto id = static_cast<llama_seq_id>(k);
        if (segments)
          segments->row(seq[p], p >= type1_from ? 1 : 0, batch.add_embedding(pos, id, /*output=*/true));
        else
          batch.add(seq[p], pos, id, /*output=*/true);
      }
      if (!alone(seq.size()))
        pad(static_cast<int>((batch.size() + align - 1) / align * align), max_seqs + k, seq[0]);
    }
    // Kernels also change below one block: no pass is smaller.
    pad(detail::kInvariantBatchTokens, max_seqs + pack.size() - 1, sequences[pack[0]][0]);
    detail::decode(ctx, batch);
    for (std::size_t k = 0; k < pack.size(); ++k) {
      const float* out = llama_get_embeddings_seq(ctx, static_cast<llama_seq_id>(k));
      if (!out) throw Error("cross-encoder: llama.cpp returned no classification output");
      scores[pack[k]] = out[0];
    }
    pass_cost.forward_passes += 1;
    for (std::size_t i : pack) {
      pass_cost.prompt_tokens += lengths[i];
      pass_cost.flops += model_->forward_flops(lengths[i], 0, 0);
    }
  };

  // Passes are handed out in order to whichever worker is free; each writes its own scores.
  const std::size_t n_workers = std::min(state_->workers.size(), packs.size());
  std::vector<RerankCost> worker_costs(std::max<std::size_t>(n_workers, 1));
  std::vector<std::exception_ptr> errors(worker_costs.size());
  std::atomic<std::size_t> next{0};
  auto work = [&](std::size_t w) {
    try {
      for (std::size_t i; (i = next.fetch_add(1)) < packs.size();)
        run_pack(*state_->workers[w], packs[i], worker_costs[w]);
    } catch (...) {
      errors[w] = std::current_exception();
      next = packs.size();  // the others stop at their next pass
    }
  };
  std::vector<std::thread> threads;  // worker 0 is this thread
  for (std::size_t w = 1; w < n_workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  if (cost)
    for (const auto& c : worker_costs) *cost += c;
  return scores;
}

}  // namespace rerank
