// Setwise: "which of these passages is the most relevant", over a node and its c children of a
// c-ary heap (heapsort top-k) or a window of c + 1 passages sliding up the list (bubblesort top-k);
// the answer is read from the logits of the labels " A", " B", ... after "Passage".
#include "rerankers/llm_strategy.h"
#include "rerankers/ranking_algorithms.h"

namespace rerank::llm {
namespace {

struct SetwiseOptions {
  bool heapsort = true;
  std::size_t children = 3;
  std::size_t top = 10;
  std::size_t passage_tokens = 300;
  PromptTemplate prompt;
};

SetwiseOptions parse_setwise(OptionReader& params) {
  SetwiseOptions o;
  o.heapsort = params.choice("variant", "heapsort", {"heapsort", "bubblesort"}) == "heapsort";
  o.children = static_cast<std::size_t>(params.integer("children", 3, 1, 25));
  o.top = static_cast<std::size_t>(params.integer("topk", 10, 1, 1 << 20));
  o.passage_tokens = static_cast<std::size_t>(params.integer("passage_tokens", 300, 1, 1 << 20));
  o.prompt = template_from_params(params, "setwise", true);
  return o;
}

std::vector<std::string> labels_of(std::size_t m) {
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < m; ++i) labels.push_back(std::string(" ").append(letter_id(i)));
  return labels;
}

std::unique_ptr<Reranker> build_setwise(std::shared_ptr<LlmBackend> backend, const SetwiseOptions& o) {
  require_single_tokens(*backend, labels_of(o.children + 1), "setwise");
  const std::size_t k = o.top, c = o.children;
  Algorithm algorithm;
  if (o.heapsort)
    algorithm = [k, c](Asker& asker, std::size_t n) { return heap_top_k(asker, n, k, c, setwise_best_of); };
  else
    algorithm = [k, c](Asker& asker, std::size_t n) { return bubble_top_k(asker, n, k, c, setwise_best_of); };
  AnswererFactory answerer = [backend, o](const std::vector<CandidateList>& batch) -> Answerer {
    auto texts = std::make_shared<PassageTexts>(*backend, batch, o.passage_tokens);
    return label_answerer(backend, lettered_prompt(backend, o.prompt, texts, batch), labels_of);
  };
  return std::make_unique<RoundReranker>("setwise", std::move(algorithm), std::move(answerer));
}

const LlmStrategyRegistration<SetwiseOptions> kSetwise("setwise", parse_setwise, build_setwise);

}  // namespace
}  // namespace rerank::llm
