// What every LLM reranking strategy (listwise, FIRST, pairwise, setwise, InsertRank, embedding,
// E2Rank) needs from a language model, and nothing more. The strategies are written against this
// interface only, so they run unchanged on the llama.cpp runtime and on test doubles (an oracle that
// answers from relevance judgements).
//
// Every call takes a batch of independent requests; strategies put the requests of many queries into
// one call (multi-query scheduling), and an implementation may reuse the KV cache of prompt prefixes
// the requests share. Each result carries the cost of its own request so that costs can be reported
// per query.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rerank/decoding_constraint.h"
#include "rerank/reranker.h"

namespace rerank {

// Score the continuations `labels` after `prompt` by the next-token logit of each label's first
// token (one forward pass, no sampling). Labels that share their first token get the same logit, so
// strategies choose labels that are single tokens (see labels_are_single_tokens).
struct LabelRequest {
  std::string prompt;  // the complete model input, already in the model's chat format
  std::vector<std::string> labels;
  // Requests with the same prefix_group (e.g. the same query) are expected to share a long prompt
  // prefix; a hint for KV-cache reuse, never needed for correctness.
  std::size_t prefix_group = 0;
};

struct LabelLogits {
  std::vector<float> logits;  // one per label, in the order of the request
  RerankCost cost;
};

// Greedy generation (deterministic), optionally constrained by a GBNF grammar in llama.cpp's syntax
// whose start rule is `root` and/or by a DecodingConstraint. Generation stops at an
// end-of-generation token, when the grammar or constraint is complete, or after max_tokens tokens.
struct GenerationRequest {
  std::string prompt;
  std::string grammar;  // empty: unconstrained
  int max_tokens = 0;
  // Makes a fresh constraint for this request (empty: none).
  std::function<std::unique_ptr<DecodingConstraint>()> constraint;
};

struct Generation {
  std::string text;  // the generated continuation only
  RerankCost cost;
};

struct Embedding {
  std::vector<float> vector;  // pooled as the model's metadata says (mean, CLS or last token)
  RerankCost cost;
};

class LlmBackend {
 public:
  virtual ~LlmBackend() = default;

  virtual std::vector<LabelLogits> label_logits(const std::vector<LabelRequest>& requests) = 0;
  virtual std::vector<Generation> generate(const std::vector<GenerationRequest>& requests) = 0;
  virtual std::vector<Embedding> embed(const std::vector<std::string>& texts) = 0;

  // True when each label is exactly one token of this model's vocabulary, so that first-token logits
  // rank the labels without ambiguity.
  virtual bool labels_are_single_tokens(const std::vector<std::string>& labels) const = 0;

  // `text` cut to at most `max_tokens` tokens of this model, on a token boundary (the RankGPT family
  // truncates every passage so that a window fits the context).
  virtual std::string truncate(const std::string& text, std::size_t max_tokens) const = 0;

  // One user turn in the model's chat format, followed by the start of the assistant's answer
  // (`answer_prefix`, e.g. "[" for FIRST or "Passage" for PRP). The default is ChatML, the format of
  // Qwen and of most instruct GGUFs.
  virtual std::string chat(const std::string& system, const std::string& user,
                           const std::string& answer_prefix) const;

  // True for a bidirectional embedding model (all-MiniLM, bge): it embeds texts as they are, without
  // an instruction prompt, and cannot generate.
  virtual bool is_encoder() const { return false; }
};

}  // namespace rerank
