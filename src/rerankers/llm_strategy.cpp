#include "rerankers/llm_strategy.h"

#include "rerank/error.h"

namespace rerank::llm {

std::string passage_text(const Candidate& c) {
  if (c.title.empty()) return c.text;
  if (c.text.empty()) return c.title;
  return c.title + " " + c.text;
}

PassageTexts::PassageTexts(const LlmBackend& backend, const std::vector<CandidateList>& batch,
                           std::size_t max_tokens) {
  texts_.resize(batch.size());
  for (std::size_t q = 0; q < batch.size(); ++q) {
    texts_[q].reserve(batch[q].candidates.size());
    for (const auto& c : batch[q].candidates)
      texts_[q].push_back(backend.truncate(passage_text(c), max_tokens));
  }
}

void require_single_tokens(const LlmBackend& backend, const std::vector<std::string>& labels,
                           const std::string& strategy) {
  if (backend.labels_are_single_tokens(labels)) return;
  std::string list;
  for (const auto& l : labels) list += (list.empty() ? "'" : ", '") + l + "'";
  throw Error(strategy + ": the answer labels " + list +
              " are not single tokens of this model's vocabulary, so their logits cannot rank passages");
}

RerankCost request_cost(RerankCost cost) {
  cost.model_calls = 0;
  return cost;
}

Answerer label_answerer(std::shared_ptr<LlmBackend> backend,
                        std::function<std::string(const Question&)> prompt_of,
                        std::function<std::vector<std::string>(std::size_t)> labels_of) {
  return [backend, prompt_of, labels_of](const std::vector<Question>& questions) {
    std::vector<LabelRequest> requests;
    requests.reserve(questions.size());
    for (const auto& q : questions) requests.push_back({prompt_of(q), labels_of(q.shown.size()), q.query});
    const auto results = backend->label_logits(requests);
    if (results.size() != questions.size()) throw Error("LLM backend returned a wrong number of results");
    std::vector<Answer> answers;
    answers.reserve(results.size());
    for (const auto& r : results)
      answers.push_back({Preference(r.logits.begin(), r.logits.end()), request_cost(r.cost)});
    return answers;
  };
}

std::function<std::string(const Question&)> lettered_prompt(std::shared_ptr<LlmBackend> backend,
                                                            PromptTemplate tmpl,
                                                            std::shared_ptr<PassageTexts> texts,
                                                            const std::vector<CandidateList>& batch) {
  return [backend, tmpl, texts, &batch](const Question& q) {
    std::vector<PromptPassage> passages;
    for (std::size_t i = 0; i < q.shown.size(); ++i)
      passages.push_back(
          {letter_id(i), texts->at(q.query, q.shown[i]), batch[q.query].candidates[q.shown[i]].score});
    return backend->chat(tmpl.system, render_user(tmpl, batch[q.query].query.text, passages),
                         tmpl.answer_prefix);
  };
}

const std::vector<std::pair<std::string, StrategyFactory>>& llm_strategies() {
  static const std::vector<std::pair<std::string, StrategyFactory>> all = {
      {"listwise", make_listwise}, {"first", make_first},           {"pairwise", make_pairwise},
      {"setwise", make_setwise},   {"insertrank", make_insertrank}, {"embedding", make_embedding},
      {"e2rank", make_e2rank},
  };
  return all;
}

}  // namespace rerank::llm
