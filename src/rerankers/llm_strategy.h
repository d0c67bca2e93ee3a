// Pieces shared by the LLM strategies: the passage text a prompt shows, the reranker that drives an
// algorithm through the round scheduler, and the factories of every strategy (the registry entries
// call these with the backend opened from the options; tests call them with a test double).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rerank/llm_backend.h"
#include "rerankers/prompts.h"
#include "rerank/reranker.h"
#include "rerankers/round_scheduler.h"

namespace rerank::llm {

// What a prompt shows of a candidate: "title text", or the text alone.
std::string passage_text(const Candidate& c);

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
// their prompt).
std::unique_ptr<Reranker> make_generated_listwise(const std::string& strategy,
                                                  const std::string& default_template,
                                                  std::shared_ptr<LlmBackend> backend,
                                                  const RerankerOptions& options);

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

using StrategyFactory =
    std::function<std::unique_ptr<Reranker>(std::shared_ptr<LlmBackend>, const RerankerOptions&)>;

std::unique_ptr<Reranker> make_listwise(std::shared_ptr<LlmBackend> backend, const RerankerOptions& options);
std::unique_ptr<Reranker> make_insertrank(std::shared_ptr<LlmBackend> backend,
                                          const RerankerOptions& options);
std::unique_ptr<Reranker> make_first(std::shared_ptr<LlmBackend> backend, const RerankerOptions& options);
std::unique_ptr<Reranker> make_pairwise(std::shared_ptr<LlmBackend> backend, const RerankerOptions& options);
std::unique_ptr<Reranker> make_setwise(std::shared_ptr<LlmBackend> backend, const RerankerOptions& options);
std::unique_ptr<Reranker> make_embedding(std::shared_ptr<LlmBackend> backend, const RerankerOptions& options);
std::unique_ptr<Reranker> make_e2rank(std::shared_ptr<LlmBackend> backend, const RerankerOptions& options);

// The LLM strategies by registry name.
const std::vector<std::pair<std::string, StrategyFactory>>& llm_strategies();

}  // namespace rerank::llm
