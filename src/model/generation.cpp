// Greedy generation for many prompts at once (LanguageModel::generate). Prompts are taken in rounds
// that fit the KV cache; in a round their common prefix is evaluated once (sequence 0) and shared by
// every prompt's sequence, the rest of each prompt is packed many per forward pass, and then every
// decoding step is one forward pass holding the next token of each unfinished prompt.
#include <llama.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <span>
#include <utility>

#include "model/language_model_state.h"
#include "model/llama_session.h"
#include "model/packing.h"
#include "rerank/error.h"
#include "rerank/language_model.h"

namespace rerank {
namespace {

using SamplerPtr = std::unique_ptr<llama_sampler, void (*)(llama_sampler*)>;

struct Stream {
  std::size_t prompt = 0;  // index of its prompt
  llama_seq_id seq = 0;
  llama_pos pos = 0;  // position of the next token to feed
  int max_tokens = 0;
  SamplerPtr grammar{nullptr, llama_sampler_free};
  std::unique_ptr<DecodingConstraint> constraint;
  llama_token pending = -1;  // chosen, not yet fed
  bool done = false;
  bool released = false;  // its KV cells freed
};

class TokenChooser {
 public:
  TokenChooser(const llama_vocab* vocab, const std::vector<std::string>& pieces)
      : vocab_(vocab), n_vocab_(llama_vocab_n_tokens(vocab)), pieces_(pieces) {}

  // The best token `s` may emit next under its grammar and constraint; -1 when none may.
  llama_token choose(const float* logits, Stream& s) const {
    llama_token best = 0;
    for (llama_token t = 1; t < n_vocab_; ++t)
      if (logits[t] > logits[best]) best = t;
    if (!s.grammar && !s.constraint) return best;
    // Checking the whole vocabulary at every step would dominate decoding: the unconstrained best
    // is checked alone first. If it is allowed it is also the best allowed token.
    if (allowed_by_grammar(s, best, logits[best]) && allowed_by_constraint(s, best)) return best;
    if (!s.grammar && !s.constraint->alphabet().empty()) return best_of(logits, s, spelled_with(s));
    std::vector<llama_token_data> all(static_cast<std::size_t>(n_vocab_));
    for (llama_token t = 0; t < n_vocab_; ++t) all[static_cast<std::size_t>(t)] = {t, logits[t], 0.0f};
    if (s.grammar) {
      llama_token_data_array arr = {all.data(), all.size(), -1, false};
      llama_sampler_apply(s.grammar.get(), &arr);
    }
    llama_token chosen = -1;
    float chosen_logit = -INFINITY;
    for (const auto& d : all)
      if (d.logit > chosen_logit && allowed_by_constraint(s, d.id)) chosen = d.id, chosen_logit = d.logit;
    return chosen;
  }

  bool end_of_generation(llama_token t) const { return llama_vocab_is_eog(vocab_, t); }

 private:
  static bool allowed_by_grammar(Stream& s, llama_token t, float logit) {
    if (!s.grammar) return true;
    llama_token_data one = {t, logit, 0.0f};
    llama_token_data_array single = {&one, 1, -1, false};
    llama_sampler_apply(s.grammar.get(), &single);
    return !(std::isinf(one.logit) && one.logit < 0);
  }
  bool allowed_by_constraint(const Stream& s, llama_token t) const {
    if (!s.constraint) return true;
    const std::string& piece = pieces_[static_cast<std::size_t>(t)];
    return !end_of_generation(t) && !piece.empty() && s.constraint->allows(piece);
  }

  // The best allowed token among `candidates` (ascending ids: ties go to the lowest id, as in a scan
  // of the whole vocabulary).
  llama_token best_of(const float* logits, const Stream& s,
                      const std::vector<llama_token>& candidates) const {
    llama_token chosen = -1;
    for (llama_token t : candidates)
      if ((chosen < 0 || logits[t] > logits[chosen]) && allowed_by_constraint(s, t)) chosen = t;
    return chosen;
  }
  // The tokens spelled only with the constraint's alphabet, the only ones it can allow: for a listwise
  // answer a few hundred of Qwen's 150,000, found once per generate() call.
  const std::vector<llama_token>& spelled_with(const Stream& s) const {
    const std::string alphabet(s.constraint->alphabet());
    auto [it, inserted] = spelled_.try_emplace(alphabet);
    if (inserted)
      for (llama_token t = 0; t < n_vocab_; ++t) {
        const std::string& piece = pieces_[static_cast<std::size_t>(t)];
        if (!piece.empty() && piece.find_first_not_of(alphabet) == std::string::npos) it->second.push_back(t);
      }
    return it->second;
  }

  const llama_vocab* vocab_;
  int n_vocab_;
  const std::vector<std::string>& pieces_;
  mutable std::map<std::string, std::vector<llama_token>> spelled_;
};

// One generate() call: its prompts taken in rounds, and what they generate and cost.
class Generation {
 public:
  Generation(const Model& model, llama_context* ctx, detail::Batch& batch, std::size_t step,
             const TokenChooser& chooser, const std::vector<std::string>& pieces,
             const std::vector<TokenIds>& prompts, const std::vector<GenerationOptions>& options,
             std::vector<std::size_t> footprint)
      : model_(model),
        ctx_(ctx),
        mem_(llama_get_memory(ctx)),
        batch_(batch),
        step_(step),
        max_streams_(std::min<std::size_t>(static_cast<std::size_t>(llama_n_seq_max(ctx)) - 1, step)),
        chooser_(chooser),
        pieces_(pieces),
        prompts_(prompts),
        options_(options),
        footprint_(std::move(footprint)),
        results_(prompts.size()),
        costs_(prompts.size()) {}

  void run() {
    for (std::size_t first = 0; first < prompts_.size();) {
      const auto [end, prefix_len] = plan_round(first);
      llama_memory_clear(mem_, true);
      evaluate_prefix(first, prefix_len);
      std::vector<Stream> streams = start_streams(first, end, prefix_len);
      evaluate_prompts(streams, prefix_len);
      decode_steps(streams);
      first = end;
    }
    llama_memory_clear(mem_, true);
  }

  std::vector<GeneratedText>& results() { return results_; }
  std::vector<RerankCost>& costs() { return costs_; }

 private:
  // A round: the prompts first..end-1, as many as fit beside their shared prefix of `prefix_len`
  // tokens (each keeps at least one token of its own, whose logits start its generation).
  std::pair<std::size_t, std::size_t> plan_round(std::size_t first) const;
  // The shared prefix, once, in sequence 0.
  void evaluate_prefix(std::size_t first, std::size_t prefix_len);
  // A stream per prompt of the round, each in its own sequence holding a copy of the prefix.
  std::vector<Stream> start_streams(std::size_t first, std::size_t end, std::size_t prefix_len);
  // The prompts' own parts, packed by length; one longer than a batch is fed in slices.
  void evaluate_prompts(std::vector<Stream>& streams, std::size_t prefix_len);
  // Decoding: one pass per step for every unfinished stream.
  void decode_steps(std::vector<Stream>& streams);
  void decode(std::size_t booked_on) {
    detail::decode(ctx_, batch_);
    costs_[booked_on].forward_passes += 1;
  }
  // Books a chosen token and decides whether its stream goes on.
  void take(Stream& s, llama_token t);
  void after_output(Stream& s, int batch_index) {
    const float* logits = llama_get_logits_ith(ctx_, batch_index);
    if (!logits) throw Error("llama.cpp returned no logits");
    take(s, chooser_.choose(logits, s));
  }

  const Model& model_;
  llama_context* ctx_;
  llama_memory_t mem_;
  detail::Batch& batch_;
  const std::size_t step_;  // tokens per pass
  const std::size_t max_streams_;
  const TokenChooser& chooser_;
  const std::vector<std::string>& pieces_;
  const std::vector<TokenIds>& prompts_;
  const std::vector<GenerationOptions>& options_;
  const std::vector<std::size_t> footprint_;  // KV cells each prompt needs: prompt and generated tokens
  std::vector<GeneratedText> results_;
  std::vector<RerankCost> costs_;
};

std::pair<std::size_t, std::size_t> Generation::plan_round(std::size_t first) const {
  const std::size_t n_ctx = llama_n_ctx(ctx_);
  std::size_t end = first + 1;
  std::size_t prefix_len = prompts_[first].size() - 1, total = footprint_[first];
  for (; end < prompts_.size() && end - first < max_streams_; ++end) {
    const auto& p = prompts_[end];
    std::size_t lcp = 0;
    while (lcp < prefix_len && lcp + 1 < p.size() && p[lcp] == prompts_[first][lcp]) ++lcp;
    // KV cells needed: the prefix once, then each prompt's own part and its generated tokens.
    const std::size_t n = end - first + 1;
    if (lcp + total + footprint_[end] - n * lcp > n_ctx) break;
    prefix_len = lcp;
    total += footprint_[end];
  }
  return {end, prefix_len};
}

void Generation::evaluate_prefix(std::size_t first, std::size_t prefix_len) {
  const std::span<const llama_token> prefix(prompts_[first].data(), prefix_len);
  detail::feed_in_slices(batch_, prefix, 0, 0, step_, detail::OutputLast::No, [&] { decode(first); });
  if (prefix_len > 0) {
    costs_[first].prompt_tokens += prefix_len;
    costs_[first].flops += model_.forward_flops(prefix_len, 0, 0);
  }
}

std::vector<Stream> Generation::start_streams(std::size_t first, std::size_t end, std::size_t prefix_len) {
  const llama_vocab* vocab = llama_model_get_vocab(raw_llama_model(model_));
  std::vector<Stream> streams(end - first);
  for (std::size_t k = 0; k < streams.size(); ++k) {
    Stream& s = streams[k];
    s.prompt = first + k;
    s.seq = static_cast<llama_seq_id>(k + 1);
    const GenerationOptions& options = options_[s.prompt];
    s.max_tokens = options.max_tokens;
    if (!options.grammar.empty()) {
      s.grammar.reset(llama_sampler_init_grammar(vocab, options.grammar.c_str(), "root"));
      if (!s.grammar) throw Error("invalid GBNF grammar (llama.cpp could not parse it)");
    }
    if (options.constraint) s.constraint = options.constraint();
    if (prefix_len > 0) {
      llama_memory_seq_cp(mem_, 0, s.seq, -1, -1);
      if (k > 0) costs_[s.prompt].cached_tokens += prefix_len;
    }
    const std::size_t own = prompts_[s.prompt].size() - prefix_len;
    costs_[s.prompt].prompt_tokens += own;
    costs_[s.prompt].flops += model_.forward_flops(own, prefix_len, 1);
  }
  if (prefix_len > 0) llama_memory_seq_rm(mem_, 0, -1, -1);
  return streams;
}

void Generation::evaluate_prompts(std::vector<Stream>& streams, std::size_t prefix_len) {
  std::vector<std::size_t> lengths(streams.size());
  for (std::size_t k = 0; k < streams.size(); ++k)
    lengths[k] = prompts_[streams[k].prompt].size() - prefix_len;
  for (const auto& pack : detail::pack_by_length(lengths, step_, max_streams_)) {
    std::vector<int> output_index(pack.size(), -1);
    const std::size_t booked_on = streams[pack[0]].prompt;
    if (pack.size() == 1) {
      const Stream& s = streams[pack[0]];
      const std::span<const llama_token> own = std::span(prompts_[s.prompt]).subspan(prefix_len);
      output_index[0] = detail::feed_in_slices(batch_, own, static_cast<llama_pos>(prefix_len), s.seq, step_,
                                               detail::OutputLast::Yes, [&] { decode(booked_on); });
    } else {
      batch_.clear();
      for (std::size_t k = 0; k < pack.size(); ++k) {
        const Stream& s = streams[pack[k]];
        const auto& prompt = prompts_[s.prompt];
        for (std::size_t p = prefix_len; p < prompt.size(); ++p)
          output_index[k] = batch_.add(prompt[p], static_cast<llama_pos>(p), s.seq, p + 1 == prompt.size());
      }
      decode(booked_on);
    }
    for (std::size_t k = 0; k < pack.size(); ++k) {
      Stream& s = streams[pack[k]];
      s.pos = static_cast<llama_pos>(prompts_[s.prompt].size());
      if (s.max_tokens <= 0)
        s.done = true;
      else
        after_output(s, output_index[k]);
    }
  }
}

void Generation::decode_steps(std::vector<Stream>& streams) {
  for (;;) {
    batch_.clear();
    std::vector<Stream*> active;
    for (auto& s : streams) {
      if (s.done) {
        if (!s.released) llama_memory_seq_rm(mem_, s.seq, -1, -1);  // its cells serve no one now
        s.released = true;
        continue;
      }
      batch_.add(s.pending, s.pos, s.seq, true);
      costs_[s.prompt].flops += model_.forward_flops(1, static_cast<std::size_t>(s.pos), 1);
      ++s.pos;
      active.push_back(&s);
    }
    if (active.empty()) break;
    decode(active.front()->prompt);
    for (std::size_t k = 0; k < active.size(); ++k) after_output(*active[k], static_cast<int>(k));
  }
}

void Generation::take(Stream& s, llama_token t) {
  GeneratedText& out = results_[s.prompt];
  if (t < 0 || chooser_.end_of_generation(t)) {
    out.ended = t >= 0;
    s.done = true;
    return;
  }
  const std::string& piece =
      pieces_.empty() ? model_.tokenizer().token_text(t) : pieces_[static_cast<std::size_t>(t)];
  out.tokens.push_back(t);
  out.text += piece;
  costs_[s.prompt].generated_tokens += 1;
  if (s.grammar) llama_sampler_accept(s.grammar.get(), t);
  if (s.constraint) s.constraint->accept(piece);
  if (s.constraint && s.constraint->complete()) {
    out.ended = true;
    s.done = true;
  } else if (static_cast<int>(out.tokens.size()) >= s.max_tokens) {
    s.done = true;
  } else {
    s.pending = t;
  }
}

}  // namespace

GeneratedText LanguageModel::generate(const TokenIds& prompt, const GenerationOptions& options,
                                      RerankCost* cost) {
  std::vector<RerankCost> costs;
  auto out = generate(std::vector<TokenIds>{prompt}, std::vector<GenerationOptions>{options}, &costs);
  if (cost) *cost += costs[0];
  return std::move(out[0]);
}

std::vector<GeneratedText> LanguageModel::generate(const std::vector<TokenIds>& prompts,
                                                   const std::vector<GenerationOptions>& options,
                                                   std::vector<RerankCost>* costs) {
  if (options.size() != prompts.size())
    throw Error("generate: " + std::to_string(prompts.size()) + " prompts but " +
                std::to_string(options.size()) + " option sets");
  llama_context* ctx = state_->ctx.get();
  const std::size_t n_ctx = llama_n_ctx(ctx);
  std::vector<std::size_t> footprint(prompts.size());
  bool any_constraint = false;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty()) throw InvalidInput("cannot generate from an empty prompt");
    footprint[i] = prompts[i].size() + static_cast<std::size_t>(std::max(options[i].max_tokens, 0));
    if (footprint[i] > n_ctx)
      throw InvalidInput("prompt of " + std::to_string(prompts[i].size()) + " tokens plus " +
                         std::to_string(options[i].max_tokens) + " generated tokens exceeds the context of " +
                         std::to_string(n_ctx) + " tokens");
    any_constraint = any_constraint || static_cast<bool>(options[i].constraint);
  }
  const llama_vocab* vocab = llama_model_get_vocab(raw_llama_model(*model_));
  if (any_constraint && state_->pieces.empty()) {
    state_->pieces.resize(static_cast<std::size_t>(llama_vocab_n_tokens(vocab)));
    for (std::size_t t = 0; t < state_->pieces.size(); ++t)
      state_->pieces[t] = model_->tokenizer().token_text(static_cast<std::int32_t>(t));
  }
  const TokenChooser chooser(vocab, state_->pieces);
  Generation generation(*model_, ctx, state_->batch, static_cast<std::size_t>(options_.batch_tokens), chooser,
                        state_->pieces, prompts, options, std::move(footprint));
  generation.run();
  if (costs) *costs = std::move(generation.costs());
  return std::move(generation.results());
}

}  // namespace rerank
