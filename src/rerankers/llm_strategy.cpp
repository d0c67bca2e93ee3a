#include "rerankers/llm_strategy.h"

#include <map>
#include <mutex>

#include "rerank/error.h"
#include "rerankers/llama_backend.h"

namespace rerank::llm {

PassageTexts::PassageTexts(const LlmBackend& backend, const std::vector<CandidateList>& batch,
                           std::size_t max_tokens) {
  texts_.resize(batch.size());
  for (std::size_t q = 0; q < batch.size(); ++q) {
    texts_[q].reserve(batch[q].candidates.size());
    // A caller's own limit (DocumentLimits::max_tokens) tightens the strategy's budget; passages
    // keep their start.
    const std::size_t limit = batch[q].limits.max_tokens;
    const std::size_t budget = limit > 0 ? std::min(max_tokens, limit) : max_tokens;
    for (const auto& c : batch[q].candidates)
      texts_[q].push_back(backend.truncate(document_text(c.title, c.text), budget));
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

namespace {
std::mutex& strategies_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, LlmStrategyFactory>& strategies() {
  static std::map<std::string, LlmStrategyFactory> all;
  return all;
}
}  // namespace

const std::vector<std::string>& runtime_option_keys() {
  static const std::vector<std::string> keys = {"context_tokens", "batch_tokens"};
  return keys;
}

void register_llm_strategy(const std::string& name, LlmStrategyFactory factory) {
  {
    std::lock_guard lock(strategies_mutex());
    strategies()[name] = factory;
  }
  register_reranker(name, [name, factory](const RerankerOptions& options) -> RerankerBuilder {
    OptionReader reader(name, options.params);
    const LlmRuntimeOptions runtime = read_runtime_options(reader);
    LlmStrategyBuilder build = factory(options);  // the strategy's own options, checked
    return [build, runtime, path = options.model_path, threads = options.threads] {
      return build(open_llama_backend(path, threads, runtime));
    };
  });
}

LlmStrategyBuilder prepare_llm_strategy(const std::string& name, const RerankerOptions& options) {
  LlmStrategyFactory factory;
  {
    std::lock_guard lock(strategies_mutex());
    auto it = strategies().find(name);
    if (it == strategies().end()) throw Error("unknown LLM strategy '" + name + "'");
    factory = it->second;
  }
  OptionReader reader(name, options.params);
  read_runtime_options(reader);
  return factory(options);
}

std::vector<std::string> llm_strategy_names() {
  std::lock_guard lock(strategies_mutex());
  std::vector<std::string> names;
  for (const auto& [name, factory] : strategies()) names.push_back(name);
  return names;
}

std::unique_ptr<Reranker> make_llm_strategy(const std::string& name, std::shared_ptr<LlmBackend> backend,
                                            const RerankerOptions& options) {
  return prepare_llm_strategy(name, options)(std::move(backend));
}

StrategyFactory llm_strategy(const std::string& name) {
  return [name](std::shared_ptr<LlmBackend> backend, const RerankerOptions& options) {
    return make_llm_strategy(name, std::move(backend), options);
  };
}

}  // namespace rerank::llm
