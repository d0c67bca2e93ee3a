// Decoder runtime: what LLM reranking strategies need from a causal language model.
//  - next_token_logits: for many prompts, the logits of a few chosen tokens (e.g. "yes"/"no", the
//    labels of passages) at the position after each prompt. Prompts that share a prefix (system
//    text, instruction, query) are grouped; the prefix is evaluated once and its KV cache shared by
//    every continuation, which are packed many per forward pass.
//  - generate: greedy decoding of many prompts at once (their shared prefix evaluated once, one
//    forward pass per step for all of them), optionally constrained by a llama.cpp GBNF grammar or
//    by a DecodingConstraint.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rerank/cost.h"
#include "rerank/decoding_constraint.h"
#include "rerank/model.h"

namespace rerank {

using TokenIds = std::vector<std::int32_t>;

// Prompts prefix + continuations[i]. An empty continuation is allowed (the prompt is the prefix).
struct PromptGroup {
  TokenIds prefix;
  std::vector<TokenIds> continuations;
};

// Groups prompts by their longest common token prefix (all prompts in one group).
PromptGroup group_by_common_prefix(const std::vector<TokenIds>& prompts);

struct GenerationOptions {
  int max_tokens = 64;
  std::string grammar;  // GBNF with a "root" rule; empty: unconstrained
  // A fresh constraint for each generation (empty: none). When both are given, a token must satisfy
  // the grammar and the constraint.
  std::function<std::unique_ptr<DecodingConstraint>()> constraint;
};

struct GeneratedText {
  TokenIds tokens;
  std::string text;
  bool ended = false;  // stopped at an end-of-generation token (else at max_tokens)
};

class LanguageModel {
 public:
  // Throws rerank::Error when the model is not a decoder language model.
  LanguageModel(std::shared_ptr<const Model> model, RuntimeOptions options);
  ~LanguageModel();
  LanguageModel(const LanguageModel&) = delete;
  LanguageModel& operator=(const LanguageModel&) = delete;

  // result[g][c][t]: logit of tokens[t] after groups[g].prefix + groups[g].continuations[c].
  // reuse_prefix=false evaluates every prompt in full (the reference path; same scores). Every
  // prompt must fit in options.context_tokens. Adds passes, tokens, cached tokens and FLOPs to `cost`.
  std::vector<std::vector<std::vector<float>>> next_token_logits(const std::vector<PromptGroup>& groups,
                                                                 const TokenIds& tokens,
                                                                 RerankCost* cost = nullptr,
                                                                 bool reuse_prefix = true);

  GeneratedText generate(const TokenIds& prompt, const GenerationOptions& options,
                         RerankCost* cost = nullptr);

  // Generates for every prompt, as many at once as the context holds: their common prefix is
  // evaluated once and each decoding step is one forward pass for all unfinished prompts (decoding
  // reads every weight once per step, so a step for many costs little more than for one). costs,
  // when given, receives one entry per prompt; a pass or prefix shared by several prompts is booked
  // on the first of them, so that sums are exact. Deterministic for the same call; a prompt's text can
  // differ from its text generated alone only where two tokens' logits are within rounding.
  std::vector<GeneratedText> generate(const std::vector<TokenIds>& prompts,
                                      const std::vector<GenerationOptions>& options,
                                      std::vector<RerankCost>* costs = nullptr);

  const Model& model() const { return *model_; }
  const RuntimeOptions& options() const { return options_; }

 private:
  void run_group(const PromptGroup& group, const TokenIds& tokens, std::vector<std::vector<float>>& out,
                 RerankCost* cost);

  std::shared_ptr<const Model> model_;
  RuntimeOptions options_;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rerank
