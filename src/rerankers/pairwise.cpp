// Pairwise ranking prompting (PRP): "which of Passage A and Passage B is more relevant", asked in both
// orders to cancel position bias, read from the logits of the labels " A" and " B" after "Passage".
// Variants: allpair (every ordered pair, n(n-1) prompts), heapsort top-k and sliding (bubble) top-k.
#include "rerankers/llm_strategy.h"
#include "rerankers/ranking_algorithms.h"

namespace rerank::llm {

std::unique_ptr<Reranker> make_pairwise(std::shared_ptr<LlmBackend> backend, const RerankerOptions& options) {
  StrategyParams params("pairwise", options.params);
  const std::string variant = params.choice("variant", "heapsort", {"allpair", "heapsort", "sliding"});
  const int topk = params.integer("topk", 10, 1, 1 << 20);
  const int passage_tokens = params.integer("passage_tokens", 300, 1, 1 << 20);
  const PromptTemplate tmpl = template_from_params(params, "prp", true);
  params.finish();

  const std::vector<std::string> labels = {" A", " B"};
  require_single_tokens(*backend, labels, "pairwise");

  const auto k = static_cast<std::size_t>(topk);
  Algorithm algorithm;
  if (variant == "allpair")
    algorithm = [](Judge& judge, std::size_t n) { return prp_all_pairs(judge, n); };
  else if (variant == "heapsort")
    algorithm = [k](Judge& judge, std::size_t n) { return heap_top_k(judge, n, k, 2, prp_best_of); };
  else
    algorithm = [k](Judge& judge, std::size_t n) { return bubble_top_k(judge, n, k, 1, prp_best_of); };

  AnswererFactory answerer = [=](const std::vector<CandidateList>& batch) -> Answerer {
    auto texts = std::make_shared<PassageTexts>(*backend, batch, static_cast<std::size_t>(passage_tokens));
    auto prompt_of = lettered_prompt(backend, tmpl, texts, batch);
    return label_answerer(backend, prompt_of, [labels](std::size_t) { return labels; });
  };
  return std::make_unique<RoundReranker>("pairwise", std::move(algorithm), std::move(answerer));
}

}  // namespace rerank::llm
