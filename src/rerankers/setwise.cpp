// Setwise: "which of these passages is the most relevant", over a node and its c children of a
// c-ary heap (heapsort top-k) or a window of c + 1 passages sliding up the list (bubblesort top-k);
// the answer is read from the logits of the labels " A", " B", ... after "Passage".
#include "rerankers/llm_strategy.h"
#include "rerankers/ranking_algorithms.h"

namespace rerank::llm {

std::unique_ptr<Reranker> make_setwise(std::shared_ptr<LlmBackend> backend, const RerankerOptions& options) {
  StrategyParams params("setwise", options.params);
  const std::string variant = params.choice("variant", "heapsort", {"heapsort", "bubblesort"});
  const int children = params.integer("children", 3, 1, 25);
  const int topk = params.integer("topk", 10, 1, 1 << 20);
  const int passage_tokens = params.integer("passage_tokens", 300, 1, 1 << 20);
  const PromptTemplate tmpl = template_from_params(params, "setwise", true);
  params.finish();

  auto labels_of = [](std::size_t m) {
    std::vector<std::string> labels;
    for (std::size_t i = 0; i < m; ++i) labels.push_back(std::string(" ").append(letter_id(i)));
    return labels;
  };
  require_single_tokens(*backend, labels_of(static_cast<std::size_t>(children) + 1), "setwise");

  const auto k = static_cast<std::size_t>(topk);
  const auto c = static_cast<std::size_t>(children);
  Algorithm algorithm;
  if (variant == "heapsort")
    algorithm = [k, c](Judge& judge, std::size_t n) { return heap_top_k(judge, n, k, c, setwise_best_of); };
  else
    algorithm = [k, c](Judge& judge, std::size_t n) { return bubble_top_k(judge, n, k, c, setwise_best_of); };

  AnswererFactory answerer = [=](const std::vector<CandidateList>& batch) -> Answerer {
    auto texts = std::make_shared<PassageTexts>(*backend, batch, static_cast<std::size_t>(passage_tokens));
    auto prompt_of = lettered_prompt(backend, tmpl, texts, batch);
    return label_answerer(backend, prompt_of, labels_of);
  };
  return std::make_unique<RoundReranker>("setwise", std::move(algorithm), std::move(answerer));
}

}  // namespace rerank::llm
