// FIRST (single-token listwise): the window's passages are labelled [A]..[T]; after the answer prefix
// "[" one forward pass gives the logits of every identifier letter, and the window is ordered by them,
// instead of generating the whole permutation.
#include "rerankers/llm_strategy.h"
#include "rerankers/ranking_algorithms.h"

namespace rerank::llm {

std::unique_ptr<Reranker> make_first(std::shared_ptr<LlmBackend> backend, const RerankerOptions& options) {
  StrategyParams params("first", options.params);
  const int window = params.integer("window", 20, 2, 26);
  const int stride = params.integer("stride", 10, 1, window);
  const int passes = params.integer("passes", 1, 1, 100);
  const int passage_tokens = params.integer("passage_tokens", 300, 1, 1 << 20);
  const PromptTemplate tmpl = template_from_params(params, "first", true);
  params.finish();

  auto labels_of = [](std::size_t m) {
    std::vector<std::string> labels;
    for (std::size_t i = 0; i < m; ++i) labels.push_back(letter_id(i));
    return labels;
  };
  require_single_tokens(*backend, labels_of(static_cast<std::size_t>(window)), "first");

  Algorithm algorithm = [=](Judge& judge, std::size_t n) {
    return sliding_windows(judge, n, static_cast<std::size_t>(window), static_cast<std::size_t>(stride),
                           passes);
  };
  AnswererFactory answerer = [=](const std::vector<CandidateList>& batch) -> Answerer {
    auto texts = std::make_shared<PassageTexts>(*backend, batch, static_cast<std::size_t>(passage_tokens));
    auto prompt_of = lettered_prompt(backend, tmpl, texts, batch);
    return label_answerer(backend, prompt_of, labels_of);
  };
  return std::make_unique<RoundReranker>("first", std::move(algorithm), std::move(answerer));
}

}  // namespace rerank::llm
