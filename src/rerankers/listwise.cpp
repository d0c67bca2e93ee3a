// Listwise reranking by generation (RankGPT / RankZephyr): passages [1]..[m] of a window in one
// prompt, the model writes a permutation "[3] > [1] > ...", constrained to name each passage once; windows
// slide from the bottom of the list to the top.
#include <algorithm>

#include "rerank/error.h"
#include "rerankers/llm_strategy.h"
#include "rerankers/permutation_constraint.h"
#include "rerankers/ranking_algorithms.h"

namespace rerank::llm {
namespace {

// Qwen-style BPE writes "[12] > " in at most 6 tokens; a little slack for the end.
int generation_budget(std::size_t m) { return static_cast<int>(6 * m + 8); }

}  // namespace

GeneratedListwiseOptions parse_generated_listwise(OptionReader& params, const std::string& default_template) {
  GeneratedListwiseOptions o;
  o.strategy = params.owner();
  const int window = params.integer("window", 20, 2, 100);
  o.window = static_cast<std::size_t>(window);
  o.stride = static_cast<std::size_t>(params.integer("stride", 10, 1, window));
  o.passes = params.integer("passes", 1, 1, 100);
  o.passage_tokens = static_cast<std::size_t>(params.integer("passage_tokens", 300, 1, 1 << 20));
  o.constrained = params.on_off("constrained", true);
  o.prompt = template_from_params(params, default_template, true);
  return o;
}

std::unique_ptr<Reranker> build_generated_listwise(std::shared_ptr<LlmBackend> backend,
                                                   const GeneratedListwiseOptions& o) {
  const PromptTemplate& tmpl = o.prompt;
  const bool constrained = o.constrained;
  Algorithm algorithm = [o](Asker& asker, std::size_t n) {
    return sliding_windows(asker, n, o.window, o.stride, o.passes);
  };
  AnswererFactory answerer = [=](const std::vector<CandidateList>& batch) -> Answerer {
    auto texts = std::make_shared<PassageTexts>(*backend, batch, o.passage_tokens);
    return [backend, tmpl, texts, constrained, &batch](const std::vector<Question>& questions) {
      std::vector<GenerationRequest> requests;
      requests.reserve(questions.size());
      for (const auto& q : questions) {
        std::vector<PromptPassage> passages;
        for (std::size_t i = 0; i < q.shown.size(); ++i)
          passages.push_back({std::to_string(i + 1), texts->at(q.query, q.shown[i]),
                              batch[q.query].candidates[q.shown[i]].score});
        const std::string user = render_user(tmpl, batch[q.query].query.text, passages);
        const std::size_t m = q.shown.size();
        GenerationRequest request{backend->chat(tmpl.system, user, tmpl.answer_prefix), "",
                                  generation_budget(m), nullptr};
        if (constrained) request.constraint = [m] { return std::make_unique<PermutationConstraint>(m); };
        requests.push_back(std::move(request));
      }
      const auto generations = backend->generate(requests);
      if (generations.size() != questions.size())
        throw Error("LLM backend returned a wrong number of results");
      std::vector<Answer> answers;
      answers.reserve(questions.size());
      for (std::size_t i = 0; i < questions.size(); ++i) {
        const std::size_t m = questions[i].shown.size();
        // The answer prefix (e.g. "[") is part of the prompt: the parsed answer starts with it.
        bool complete = false;
        const auto order = parse_permutation(tmpl.answer_prefix + generations[i].text, m, &complete);
        Preference pref(m);
        for (std::size_t r = 0; r < m; ++r) pref[order[r]] = static_cast<double>(m - r);
        RerankCost cost = request_cost(generations[i].cost);
        if (!complete) cost.repaired_answers += 1;
        answers.push_back({std::move(pref), cost});
      }
      return answers;
    };
  };
  return std::make_unique<RoundReranker>(o.strategy, std::move(algorithm), std::move(answerer));
}

namespace {
GeneratedListwiseOptions parse_listwise(OptionReader& params) {
  return parse_generated_listwise(params, "rankzephyr");
}
const LlmStrategyRegistration<GeneratedListwiseOptions> kListwise("listwise", parse_listwise,
                                                                  build_generated_listwise);
}  // namespace

}  // namespace rerank::llm
