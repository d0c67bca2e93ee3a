// Pairwise ranking prompting (PRP): "which of Passage A and Passage B is more relevant", asked in both
// orders to cancel position bias, read from the logits of the labels " A" and " B" after "Passage".
// Variants: allpair (every ordered pair, n(n-1) prompts), heapsort top-k and sliding (bubble) top-k.
#include "rerankers/llm_strategy.h"
#include "rerankers/ranking_algorithms.h"

namespace rerank::llm {
namespace {

struct PairwiseOptions {
  std::string variant = "heapsort";
  std::size_t top = 10;
  std::size_t passage_tokens = 300;
  PromptTemplate prompt;
};

PairwiseOptions parse_pairwise(OptionReader& params) {
  PairwiseOptions o;
  o.variant = params.choice("variant", "heapsort", {"allpair", "heapsort", "sliding"});
  o.top = static_cast<std::size_t>(params.integer("topk", 10, 1, 1 << 20));
  o.passage_tokens = static_cast<std::size_t>(params.integer("passage_tokens", 300, 1, 1 << 20));
  o.prompt = template_from_params(params, "prp", true);
  return o;
}

std::unique_ptr<Reranker> build_pairwise(std::shared_ptr<LlmBackend> backend, const PairwiseOptions& o) {
  const std::vector<std::string> labels = {" A", " B"};
  require_single_tokens(*backend, labels, "pairwise");
  const std::size_t k = o.top;
  Algorithm algorithm;
  if (o.variant == "allpair")
    algorithm = [](Asker& asker, std::size_t n) { return prp_all_pairs(asker, n); };
  else if (o.variant == "heapsort")
    algorithm = [k](Asker& asker, std::size_t n) { return heap_top_k(asker, n, k, 2, prp_best_of); };
  else
    algorithm = [k](Asker& asker, std::size_t n) { return bubble_top_k(asker, n, k, 1, prp_best_of); };
  AnswererFactory answerer = [backend, o, labels](const std::vector<CandidateList>& batch) -> Answerer {
    auto texts = std::make_shared<PassageTexts>(*backend, batch, o.passage_tokens);
    return label_answerer(backend, lettered_prompt(backend, o.prompt, texts, batch),
                          [labels](std::size_t) { return labels; });
  };
  return std::make_unique<RoundReranker>("pairwise", std::move(algorithm), std::move(answerer));
}

const LlmStrategyRegistration<PairwiseOptions> kPairwise("pairwise", parse_pairwise, build_pairwise);

}  // namespace
}  // namespace rerank::llm
