#include "rerank/language_model.h"

#include <llama.h>

#include <algorithm>

#include "model/language_model_state.h"
#include "model/llama_session.h"
#include "model/packing.h"
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

namespace {

// Sequence ids of a group's passes: 0 the shared prefix, 1 its padding, 2..m+1 the continuations of
// a pass, m+2..2m+1 their padding (m: continuations per pass).
constexpr llama_seq_id kPrefixSeq = 0;
constexpr llama_seq_id kPrefixPadSeq = 1;
constexpr llama_seq_id kFirstSeq = 2;

// The group as it is evaluated. The logits are read after each continuation's last token, so none
// may be empty: the prefix's last token is lent to every continuation when needed. Then only whole
// tiles of the prefix are shared; the rest of it is evaluated with every continuation. A
// continuation's KV cells then sit where a whole-prompt evaluation puts them, modulo the flash-
// attention tile, so its attention sums group identically and the logits are bit-for-bit those
// of the prompt evaluated alone (plain llama.cpp). Any other layout changes the last bits, and a
// quantised model turns last bits into whole Q8 rounding steps: SmolLM2-135M Q4_1's log P(yes)
// moved by up to 0.5 (tests/rerankers/test_real_models.cpp).
PromptGroup laid_out(const PromptGroup& input, std::size_t align) {
  PromptGroup group = input;
  const bool any_empty = std::any_of(group.continuations.begin(), group.continuations.end(),
                                     [](const TokenIds& c) { return c.empty(); });
  if (any_empty) {
    if (group.prefix.empty()) throw Error("cannot score an empty prompt");
    for (auto& c : group.continuations) c.insert(c.begin(), group.prefix.back());
    group.prefix.pop_back();
  }
  const std::size_t shared = group.prefix.size() / align * align;
  for (auto& c : group.continuations)
    c.insert(c.begin(), group.prefix.begin() + static_cast<std::ptrdiff_t>(shared), group.prefix.end());
  group.prefix.resize(shared);
  return group;
}

// The forward passes of one laid-out group, and where its logits go.
//
// Placement for batch invariance (see kInvariantBatchTokens): every pass holds a multiple of
// `align` tokens and every continuation starts at a multiple of `align` within it, the gaps
// filled by padding sequences. llama.cpp fills free KV cells in order from the first free one,
// so a continuation's cells then sit at the same offsets modulo `align` whatever its batch-mates,
// and the attention's vectorised sums group its terms identically.
class GroupPasses {
 public:
  GroupPasses(const Model& model, const RuntimeOptions& options, llama_context* ctx, detail::Batch& batch,
              const PromptGroup& group, const TokenIds& tokens, std::vector<std::vector<float>>& out,
              RerankCost* cost)
      : model_(model),
        ctx_(ctx),
        mem_(llama_get_memory(ctx)),
        batch_(batch),
        group_(group),
        tokens_(tokens),
        out_(out),
        cost_(cost),
        layout_(options.align_sequences),
        step_(static_cast<std::size_t>(options.batch_tokens)),
        max_seqs_(std::min((static_cast<std::size_t>(llama_n_seq_max(ctx)) - 2) / 2,
                           static_cast<std::size_t>(options.max_sequences))) {}

  // The shared prefix, once, in sequence 0; its padding stays in the cache until the group ends.
  void evaluate_prefix();
  // The continuations, packed by length into passes that fit beside the prefix.
  void evaluate_continuations();

 private:
  // One pack's continuations in one pass; returns their output indices.
  std::vector<int> evaluate_pack(const std::vector<std::size_t>& pack);
  // One continuation longer than a pass, in consecutive slices; returns its output index.
  int evaluate_sliced(const TokenIds& continuation);
  // Pads the batch to whole blocks (at least one) with sequence `seq`, from position `from`.
  void pad_batch(llama_seq_id seq, llama_pos from);
  void decode();
  void read_logits(std::size_t which, int batch_index);
  llama_seq_id continuation_seq(std::size_t k) const { return kFirstSeq + static_cast<llama_seq_id>(k); }
  llama_seq_id pad_of(std::size_t k) const { return static_cast<llama_seq_id>(kFirstSeq + max_seqs_ + k); }

  const Model& model_;
  llama_context* ctx_;
  llama_memory_t mem_;
  detail::Batch& batch_;
  const PromptGroup& group_;
  const TokenIds& tokens_;
  std::vector<std::vector<float>>& out_;
  RerankCost* cost_;
  const detail::PassLayout layout_;
  const std::size_t step_;      // the largest pass
  const std::size_t max_seqs_;  // continuations per pass
  std::size_t budget_ = 0;      // tokens of a continuations' pass (beside the prefix)
  llama_pos prefix_pad_pos_ = 0;
};

void GroupPasses::pad_batch(llama_seq_id seq, llama_pos from) {
  const auto target = std::max<std::size_t>(layout_.round_up(static_cast<std::size_t>(batch_.size())),
                                            detail::kInvariantBatchTokens);
  for (llama_pos p = from; static_cast<std::size_t>(batch_.size()) < target; ++p)
    batch_.add(batch_.get().token[0], p, seq, false);
}

void GroupPasses::decode() {
  detail::decode(ctx_, batch_);
  if (cost_) cost_->forward_passes += 1;
}

void GroupPasses::read_logits(std::size_t which, int batch_index) {
  const float* logits = llama_get_logits_ith(ctx_, batch_index);
  if (!logits) throw Error("llama.cpp returned no logits");
  for (auto t : tokens_) out_[which].push_back(logits[t]);
}

void GroupPasses::evaluate_prefix() {
  const std::size_t prefix_len = group_.prefix.size();
  detail::feed_in_slices(batch_, group_.prefix, 0, kPrefixSeq, step_, detail::OutputLast::No, [&] {
    const int before = batch_.size();
    pad_batch(kPrefixPadSeq, prefix_pad_pos_);
    prefix_pad_pos_ += batch_.size() - before;
    decode();
  });
  if (cost_ && prefix_len > 0) {
    cost_->prompt_tokens += prefix_len;
    cost_->cached_tokens += prefix_len * (group_.continuations.size() - 1);
    cost_->flops += model_.forward_flops(prefix_len, 0, 0);
  }
}

int GroupPasses::evaluate_sliced(const TokenIds& continuation) {
  const auto from = static_cast<llama_pos>(group_.prefix.size());
  return detail::feed_in_slices(batch_, continuation, from, kFirstSeq, budget_, detail::OutputLast::Yes, [&] {
    pad_batch(pad_of(0), 0);
    decode();
    llama_memory_seq_rm(mem_, pad_of(0), -1, -1);
  });
}

std::vector<int> GroupPasses::evaluate_pack(const std::vector<std::size_t>& pack) {
  const std::size_t prefix_len = group_.prefix.size();
  std::vector<int> output_index(pack.size(), -1);
  batch_.clear();
  for (std::size_t k = 0; k < pack.size(); ++k) {
    const auto& c = group_.continuations[pack[k]];
    for (std::size_t p = 0; p < c.size(); ++p)
      output_index[k] =
          batch_.add(c[p], static_cast<llama_pos>(prefix_len + p), continuation_seq(k), p + 1 == c.size());
    if (layout_.align() > 1 && !layout_.alone(c.size())) pad_batch(pad_of(k), 0);
  }
  if (layout_.align() == 1) pad_batch(pad_of(0), 0);
  decode();
  return output_index;
}

void GroupPasses::evaluate_continuations() {
  const std::size_t prefix_len = group_.prefix.size();
  const std::size_t used = prefix_len + static_cast<std::size_t>(prefix_pad_pos_);
  const std::size_t align = layout_.align();
  budget_ = std::min(step_, (static_cast<std::size_t>(llama_n_ctx(ctx_)) - used) / align * align);
  std::vector<std::size_t> lengths;
  for (const auto& c : group_.continuations) lengths.push_back(c.size());
  const auto slots = layout_.footprints(lengths, budget_);
  for (const auto& pack : detail::pack_by_length(slots, budget_, max_seqs_)) {
    for (std::size_t k = 0; k < pack.size(); ++k)
      if (prefix_len > 0) llama_memory_seq_cp(mem_, kPrefixSeq, continuation_seq(k), -1, -1);
    const std::vector<int> output_index =
        slots[pack[0]] > budget_ ? std::vector<int>{evaluate_sliced(group_.continuations[pack[0]])}
                                 : evaluate_pack(pack);
    for (std::size_t k = 0; k < pack.size(); ++k) {
      read_logits(pack[k], output_index[k]);
      llama_memory_seq_rm(mem_, continuation_seq(k), -1, -1);
      llama_memory_seq_rm(mem_, pad_of(k), -1, -1);
      if (cost_) {
        cost_->prompt_tokens += lengths[pack[k]];
        cost_->flops += model_.forward_flops(lengths[pack[k]], prefix_len, 1);
      }
    }
  }
}

}  // namespace

void LanguageModel::run_group(const PromptGroup& input, const TokenIds& tokens,
                              std::vector<std::vector<float>>& out, RerankCost* cost) {
  out.assign(input.continuations.size(), {});
  if (input.continuations.empty()) return;
  const std::size_t align = options_.align_sequences ? detail::kInvariantBatchTokens : 1;
  const PromptGroup group = laid_out(input, align);
  for (const auto& c : group.continuations)
    if (group.prefix.size() + c.size() > static_cast<std::size_t>(options_.context_tokens))
      throw InvalidInput("prompt of " + std::to_string(group.prefix.size() + c.size()) +
                         " tokens exceeds the context of " + std::to_string(options_.context_tokens) +
                         " tokens");
  llama_context* ctx = state_->ctx.get();
  llama_memory_t mem = llama_get_memory(ctx);
  llama_memory_clear(mem, true);
  GroupPasses passes(*model_, options_, ctx, state_->batch, group, tokens, out, cost);
  passes.evaluate_prefix();
  passes.evaluate_continuations();
  llama_memory_clear(mem, true);
}

}  // namespace rerank
