#include "rerank/language_model.h"

#include <llama.h>

#include <algorithm>

#include "model/language_model_state.h"
#include "model/llama_session.h"
#include "rerank/cross_encoder.h"
#include "rerank/error.h"

namespace rerank {

PromptGroup group_by_common_prefix(const std::vector<TokenIds>& prompts) {
  PromptGroup group;
  if (prompts.empty()) return group;
  std::size_t common = prompts[0].size();
  for (const auto& p : prompts) {
    std::size_t i = 0;
    while (i < common && i < p.size() && p[i] == prompts[0][i]) ++i;
    common = i;
  }
  group.prefix.assign(prompts[0].begin(), prompts[0].begin() + static_cast<std::ptrdiff_t>(common));
  for (const auto& p : prompts)
    group.continuations.emplace_back(p.begin() + static_cast<std::ptrdiff_t>(common), p.end());
  return group;
}

LanguageModel::LanguageModel(std::shared_ptr<const Model> model, RuntimeOptions options)
    : model_(std::move(model)), options_(options) {
  if (model_->info().kind != ModelKind::DecoderLM)
    throw Error(model_->info().path +
                ": not a decoder language model (model kind: " + to_string(model_->info().kind) + ")");
  const int align = detail::kInvariantBatchTokens;
  options_.batch_tokens = (std::max(options_.batch_tokens, align) + align - 1) / align * align;
  options_.context_tokens = std::max(options_.context_tokens, 1);
  options_.max_sequences = std::clamp(options_.max_sequences, 1, 127);
  state_ = std::make_unique<State>(options_.batch_tokens);
  // Room for the longest prompt (its prefix padded) plus one batch of continuations in flight.
  // Each continuation comes with a padding sequence of its own, plus the prefix and its padding.
  RuntimeOptions context_options = options_;
  context_options.max_sequences = 2 * options_.max_sequences;
  state_->ctx = detail::make_context(
      *model_, context_options, /*embeddings=*/false,
      static_cast<std::uint32_t>(options_.context_tokens + options_.batch_tokens + 2 * align));
}

LanguageModel::~LanguageModel() = default;

std::vector<std::vector<std::vector<float>>> LanguageModel::next_token_logits(
    const std::vector<PromptGroup>& groups, const TokenIds& tokens, RerankCost* cost, bool reuse_prefix) {
  for (auto t : tokens)
    if (t < 0 || t >= model_->info().n_vocab)
      throw Error("token id " + std::to_string(t) + " is outside the vocabulary");
  std::vector<std::vector<std::vector<float>>> result(groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (reuse_prefix) {
      run_group(groups[g], tokens, result[g], cost);
      continue;
    }
    PromptGroup whole;
    for (const auto& c : groups[g].continuations) {
      TokenIds full = groups[g].prefix;
      full.insert(full.end(), c.begin(), c.end());
      whole.continuations.push_back(std::move(full));
    }
    run_group(whole, tokens, result[g], cost);
  }
  return result;
}

void LanguageModel::run_group(const PromptGroup& input, const TokenIds& tokens,
                              std::vector<std::vector<float>>& out, RerankCost* cost) {
  out.assign(input.continuations.size(), {});
  if (input.continuations.empty()) return;
  // The logits are read after each continuation's last token, so none may be empty: lend the
  // prefix's last token to every continuation when needed.
  PromptGroup group = input;
  const bool any_empty = std::any_of(group.continuations.begin(), group.continuations.end(),
                                     [](const TokenIds& c) { return c.empty(); });
  if (any_empty) {
    if (group.prefix.empty()) throw Error("cannot score an empty prompt");
    for (auto& c : group.continuations) c.insert(c.begin(), group.prefix.back());
    group.prefix.pop_back();
  }

  const std::size_t align = options_.align_sequences ? detail::kInvariantBatchTokens : 1;
  // Share whole tiles of the prefix only; the rest of it is evaluated with every continuation. A
  // continuation's KV cells then sit where a whole-prompt evaluation puts them, modulo the flash-
  // attention tile, so its attention sums group identically and the logits are bit-for-bit those
  // of the prompt evaluated alone (plain llama.cpp). Any other layout changes the last bits, and a
  // quantised model turns last bits into whole Q8 rounding steps: SmolLM2-135M Q4_1's log P(yes)
  // moved by up to 0.5 (tests/rerankers/test_real_models.cpp).
  const std::size_t shared = group.prefix.size() / align * align;
  for (auto& c : group.continuations)
    c.insert(c.begin(), group.prefix.begin() + static_cast<std::ptrdiff_t>(shared), group.prefix.end());
  group.prefix.resize(shared);

  llama_context* ctx = state_->ctx.get();
  llama_memory_t mem = llama_get_memory(ctx);
  auto& batch = state_->batch;
  const std::size_t n_ctx = llama_n_ctx(ctx);
  const std::size_t prefix_len = group.prefix.size();
  std::vector<std::size_t> lengths;
  for (const auto& c : group.continuations) {
    if (prefix_len + c.size() > static_cast<std::size_t>(options_.context_tokens))
      throw Error("prompt of " + std::to_string(prefix_len + c.size()) + " tokens exceeds the context of " +
                  std::to_string(options_.context_tokens) + " tokens");
    lengths.push_back(c.size());
  }
  llama_memory_clear(mem, true);

  // Placement for batch invariance (see kInvariantBatchTokens): every pass holds a multiple of
  // `align` tokens and every continuation starts at a multiple of `align` within it, the gaps
  // filled by padding sequences. llama.cpp fills free KV cells in order from the first free one,
  // so a continuation's cells then sit at the same offsets modulo `align` whatever its batch-mates,
  // and the attention's vectorised sums group its terms identically.
  // Sequence ids: 0 prefix, 1 prefix padding, 2..m+1 continuations, m+2..2m+1 their padding.
  const auto n_seq = static_cast<std::size_t>(llama_n_seq_max(ctx));
  const std::size_t max_seqs = std::min((n_seq - 2) / 2, static_cast<std::size_t>(options_.max_sequences));
  const llama_seq_id first_seq = 2;
  auto pad_of = [&](std::size_t k) { return static_cast<llama_seq_id>(first_seq + max_seqs + k); };
  auto round_up = [&](std::size_t n) { return (n + align - 1) / align * align; };
  auto pad_batch = [&](llama_seq_id seq, llama_pos from) {
    const auto target = std::max<std::size_t>(round_up(static_cast<std::size_t>(batch.size())),
                                              detail::kInvariantBatchTokens);
    for (llama_pos p = from; static_cast<std::size_t>(batch.size()) < target; ++p)
      batch.add(batch.get().token[0], p, seq, false);
  };
  auto decode_counted = [&] {
    detail::decode(ctx, batch);
    if (cost) cost->forward_passes += 1;
  };

  // The shared prefix, once, in sequence 0; its padding stays in the cache until the group ends.
  const std::size_t step = static_cast<std::size_t>(options_.batch_tokens);
  llama_pos prefix_pad_pos = 0;
  for (std::size_t begin = 0; begin < prefix_len; begin += step) {
    batch.clear();
    for (std::size_t p = begin; p < std::min(prefix_len, begin + step); ++p)
      batch.add(group.prefix[p], static_cast<llama_pos>(p), 0, false);
    const int before = batch.size();
    pad_batch(1, prefix_pad_pos);
    prefix_pad_pos += batch.size() - before;
    decode_counted();
  }
  if (cost && prefix_len > 0) {
    cost->prompt_tokens += prefix_len;
    cost->cached_tokens += prefix_len * (group.continuations.size() - 1);
    cost->flops += model_->forward_flops(prefix_len, 0, 0);
  }

  const std::size_t used = prefix_len + static_cast<std::size_t>(prefix_pad_pos);
  const std::size_t budget = std::min(step, (n_ctx - used) / align * align);
  auto read_logits = [&](std::size_t which, int batch_index) {
    const float* logits = llama_get_logits_ith(ctx, batch_index);
    if (!logits) throw Error("llama.cpp returned no logits");
    for (auto t : tokens) out[which].push_back(logits[t]);
  };
  // As in the cross-encoder, a continuation's layout depends on its own length only: a short one
  // takes an aligned slot padded by its own padding sequence (short ones share passes); a long one
  // runs alone, unpadded, its pass ending with it (detail::runs_alone).
  auto alone = [&](std::size_t length) { return align > 1 && detail::runs_alone(length); };
  std::vector<std::size_t> slots(lengths.size());
  for (std::size_t i = 0; i < lengths.size(); ++i)
    slots[i] = alone(lengths[i]) ? std::max(budget, round_up(lengths[i])) : round_up(lengths[i]);

  for (const auto& pack : pack_by_length(slots, budget, max_seqs)) {
    std::vector<int> output_index(pack.size(), -1);
    for (std::size_t k = 0; k < pack.size(); ++k)
      if (prefix_len > 0) llama_memory_seq_cp(mem, 0, first_seq + static_cast<llama_seq_id>(k), -1, -1);
    if (slots[pack[0]] > budget) {
      // One continuation longer than a batch: evaluate it in consecutive slices of one sequence.
      const auto& c = group.continuations[pack[0]];
      for (std::size_t begin = 0; begin < c.size(); begin += budget) {
        batch.clear();
        const std::size_t end = std::min(c.size(), begin + budget);
        for (std::size_t p = begin; p < end; ++p)
          output_index[0] =
              batch.add(c[p], static_cast<llama_pos>(prefix_len + p), first_seq, p + 1 == c.size());
        pad_batch(pad_of(0), 0);
        decode_counted();
        llama_memory_seq_rm(mem, pad_of(0), -1, -1);
      }
    } else {
      batch.clear();
      for (std::size_t k = 0; k < pack.size(); ++k) {
        const auto& c = group.continuations[pack[k]];
        for (std::size_t p = 0; p < c.size(); ++p)
          output_index[k] = batch.add(c[p], static_cast<llama_pos>(prefix_len + p),
                                      first_seq + static_cast<llama_seq_id>(k), p + 1 == c.size());
        if (align > 1 && !alone(c.size())) pad_batch(pad_of(k), 0);
      }
      if (align == 1) pad_batch(pad_of(0), 0);
      decode_counted();
    }
    for (std::size_t k = 0; k < pack.size(); ++k) {
      read_logits(pack[k], output_index[k]);
      llama_memory_seq_rm(mem, first_seq + static_cast<llama_seq_id>(k), -1, -1);
      llama_memory_seq_rm(mem, pad_of(k), -1, -1);
      if (cost) {
        cost->prompt_tokens += lengths[pack[k]];
        cost->flops += model_->forward_flops(lengths[pack[k]], prefix_len, 1);
      }
    }
  }
  llama_memory_clear(mem, true);
}

}  // namespace rerank
