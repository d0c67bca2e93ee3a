// FIRST (Reddy et al. 2024; single-token listwise, registered as "first"): the window's passages are
// labelled [A]..[T]; after the answer prefix "[" one forward pass gives the logits of every identifier
// letter, and the window is ordered by them, instead of generating the whole permutation.
#include "rerankers/llm_strategy.h"
#include "rerankers/ranking_algorithms.h"

namespace rerank::llm {
namespace {

struct FirstListwiseOptions {
  std::size_t window = 20;
  std::size_t stride = 10;
  int passes = 1;
  std::size_t passage_tokens = 300;
  PromptTemplate prompt;
};

FirstListwiseOptions parse_first_listwise(OptionReader& params) {
  FirstListwiseOptions o;
  const int window = params.integer("window", 20, 2, 26);
  o.window = static_cast<std::size_t>(window);
  o.stride = static_cast<std::size_t>(params.integer("stride", 10, 1, window));
  o.passes = params.integer("passes", 1, 1, 100);
  o.passage_tokens = static_cast<std::size_t>(params.integer("passage_tokens", 300, 1, 1 << 20));
  o.prompt = template_from_params(params, "first", true);
  return o;
}

std::vector<std::string> labels_of(std::size_t m) {
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < m; ++i) labels.push_back(letter_id(i));
  return labels;
}

std::unique_ptr<Reranker> build_first_listwise(std::shared_ptr<LlmBackend> backend,
                                               const FirstListwiseOptions& o) {
  require_single_tokens(*backend, labels_of(o.window), "first");
  Algorithm algorithm = [o](Asker& asker, std::size_t n) {
    return sliding_windows(asker, n, o.window, o.stride, o.passes);
  };
  AnswererFactory answerer = [backend, o](const std::vector<CandidateList>& batch) -> Answerer {
    auto texts = std::make_shared<PassageTexts>(*backend, batch, o.passage_tokens);
    return label_answerer(backend, lettered_prompt(backend, o.prompt, texts, batch), labels_of);
  };
  return std::make_unique<RoundReranker>("first", std::move(algorithm), std::move(answerer));
}

const LlmStrategyRegistration<FirstListwiseOptions> kFirst("first", parse_first_listwise,
                                                           build_first_listwise);

}  // namespace
}  // namespace rerank::llm
