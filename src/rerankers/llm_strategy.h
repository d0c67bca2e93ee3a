// Pieces shared by the LLM strategies: the passage text a prompt shows, the reranker that drives an
// algorithm through the round scheduler, and the registration every strategy uses.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rerank/llm_backend.h"
#include "rerank/options.h"
#include "rerank/reranker.h"
#include "rerankers/prompts.h"
#include "rerankers/round_scheduler.h"

namespace rerank::llm {

// Every candidate's passage text of a batch, truncated to the strategy's token budget once.
class PassageTexts {
 public:
  PassageTexts(const LlmBackend& backend, const std::vector<CandidateList>& batch, std::size_t max_tokens);
  const std::string& at(std::size_t query, std::size_t candidate) const { return texts_[query][candidate]; }

 private:
  std::vector<std::vector<std::string>> texts_;
};

// Builds the answerer of one batch.
using AnswererFactory = std::function<Answerer(const std::vector<CandidateList>& batch)>;

class RoundReranker : public Reranker {
 public:
  RoundReranker(std::string name, Algorithm algorithm, AnswererFactory answerer)
      : name_(std::move(name)), algorithm_(std::move(algorithm)), answerer_(std::move(answerer)) {}
  std::string name() const override { return name_; }
  std::vector<RerankResult> rerank(const std::vector<CandidateList>& batch) override {
    return run_rounds(batch, algorithm_, answerer_(batch));
  }

 private:
  std::string name_;
  Algorithm algorithm_;
  AnswererFactory answerer_;
};

// Throws rerank::Error unless every label is one token of the backend's vocabulary.
void require_single_tokens(const LlmBackend& backend, const std::vector<std::string>& labels,
                           const std::string& strategy);

// A backend's cost for one request, without its own model-call count (the scheduler counts calls).
RerankCost request_cost(RerankCost cost);

// Answers questions whose preference is read from label logits (FIRST, PRP, setwise): each question
// becomes one prompt built by `prompt_of` and scored on `labels_of(size)`.
Answerer label_answerer(std::shared_ptr<LlmBackend> backend,
                        std::function<std::string(const Question&)> prompt_of,
                        std::function<std::vector<std::string>(std::size_t)> labels_of);

// Listwise reranking by generation over sliding windows (listwise and InsertRank differ only in
// their prompt): the options, read with the strategy's default template, and the builder.
struct GeneratedListwiseOptions {
  std::string strategy;
  std::size_t window = 20;
  std::size_t stride = 10;
  int passes = 1;
  std::size_t passage_tokens = 300;
  // off: free generation, as RankGPT/RankZephyr decode; answers that are not permutations are then
  // repaired (and counted in RerankCost::repaired_answers).
  bool constrained = true;
  PromptTemplate prompt;
};
GeneratedListwiseOptions parse_generated_listwise(OptionReader& params, const std::string& default_template);
std::unique_ptr<Reranker> build_generated_listwise(std::shared_ptr<LlmBackend> backend,
                                                   const GeneratedListwiseOptions& options);

// The prompt of a question whose passages are labelled A, B, C, ... (FIRST, PRP, setwise).
std::function<std::string(const Question&)> lettered_prompt(std::shared_ptr<LlmBackend> backend,
                                                            PromptTemplate tmpl,
                                                            std::shared_ptr<PassageTexts> texts,
                                                            const std::vector<CandidateList>& batch);

// Ranks every query's candidates by the cosine similarity of their embeddings with the embedding of
// query_texts[q] (embedding, E2Rank); all texts of the batch go to the backend in one call.
std::vector<RerankResult> rank_by_cosine(LlmBackend& backend, const std::vector<CandidateList>& batch,
                                         const std::vector<std::string>& query_texts,
                                         const PassageTexts& texts);

// ---- Registration. Every LLM strategy is one file that parses its options into a typed struct and
// builds its reranker on a backend, and one line that registers the pair:
//   const LlmStrategyRegistration<SetwiseOptions> kSetwise("setwise", parse_setwise, build_setwise);
// The registration puts the strategy in the reranker registry (reranker.h): its options are parsed
// and checked before the model file is opened by llama.cpp's backend (llama_backend.h).

// Builds a strategy on a backend (the registry passes llama.cpp's; tests pass doubles).
using LlmStrategyBuilder = std::function<std::unique_ptr<Reranker>(std::shared_ptr<LlmBackend>)>;
// Parses and checks a strategy's options (no model involved) and returns its builder.
using LlmStrategyFactory = std::function<LlmStrategyBuilder(const RerankerOptions&)>;

void register_llm_strategy(const std::string& name, LlmStrategyFactory factory);
// The options every LLM strategy accepts for the runtime (context_tokens, batch_tokens).
const std::vector<std::string>& runtime_option_keys();

// Checks strategy `name`'s options (as make_reranker does, without a model) and returns its builder.
LlmStrategyBuilder prepare_llm_strategy(const std::string& name, const RerankerOptions& options);
std::vector<std::string> llm_strategy_names();
// Strategy `name` on `backend` (tests and benchmarks); options are checked as make_reranker does.
std::unique_ptr<Reranker> make_llm_strategy(const std::string& name, std::shared_ptr<LlmBackend> backend,
                                            const RerankerOptions& options);
// The same as a function of (backend, options), for tables of strategies in tests.
using StrategyFactory =
    std::function<std::unique_ptr<Reranker>(std::shared_ptr<LlmBackend>, const RerankerOptions&)>;
StrategyFactory llm_strategy(const std::string& name);

template <class Options>
struct LlmStrategyRegistration {
  using Parse = Options (*)(OptionReader&);
  using Build = std::unique_ptr<Reranker> (*)(std::shared_ptr<LlmBackend>, const Options&);
  LlmStrategyRegistration(const std::string& name, Parse parse, Build build) {
    register_llm_strategy(name, [name, parse, build](const RerankerOptions& o) -> LlmStrategyBuilder {
      OptionReader reader(name, o.params);
      reader.accept(runtime_option_keys());
      Options options = parse(reader);
      reader.finish();
      return [options, build](std::shared_ptr<LlmBackend> backend) {
        return build(std::move(backend), options);
      };
    });
  }
};

}  // namespace rerank::llm
