// E2Rank: embedding reranking whose query embedding comes from a listwise prompt holding the query
// and its top-k first-stage candidates (pseudo-relevance feedback); documents are embedded as they are
// and ranked by cosine similarity, so the cost is one long query embedding plus the documents.
#include <algorithm>

#include "rerankers/llm_strategy.h"

namespace rerank::llm {

namespace {

class E2RankReranker : public Reranker {
 public:
  E2RankReranker(std::shared_ptr<LlmBackend> backend, PromptTemplate tmpl, std::string instruction,
                 std::size_t topk, std::size_t passage_tokens)
      : backend_(std::move(backend)),
        tmpl_(std::move(tmpl)),
        instruction_(std::move(instruction)),
        topk_(topk),
        passage_tokens_(passage_tokens) {}
  std::string name() const override { return "e2rank"; }
  std::vector<RerankResult> rerank(const std::vector<CandidateList>& batch) override {
    PassageTexts texts(*backend_, batch, passage_tokens_);
    std::vector<std::string> queries;
    for (std::size_t q = 0; q < batch.size(); ++q) {
      std::vector<PromptPassage> feedback;
      const std::size_t k = std::min(topk_, batch[q].candidates.size());
      for (std::size_t c = 0; c < k; ++c)
        feedback.push_back({std::to_string(c + 1), texts.at(q, c), batch[q].candidates[c].score});
      queries.push_back(render_user(tmpl_, batch[q].query.text, feedback, instruction_));
    }
    return rank_by_cosine(*backend_, batch, queries, texts);
  }

 private:
  std::shared_ptr<LlmBackend> backend_;
  PromptTemplate tmpl_;
  std::string instruction_;
  std::size_t topk_;
  std::size_t passage_tokens_;
};

}  // namespace

std::unique_ptr<Reranker> make_e2rank(std::shared_ptr<LlmBackend> backend, const RerankerOptions& options) {
  StrategyParams params("e2rank", options.params);
  const std::string instruction = params.text("instruction", kDefaultRetrievalInstruction);
  const int topk = params.integer("topk", 20, 0, 1000);
  const int passage_tokens = params.integer("passage_tokens", 512, 1, 1 << 20);
  // Encoders (mean pooling, inputs cut at their end) need the query first; decoders pool the last token.
  const PromptTemplate tmpl =
      template_from_params(params, backend->is_encoder() ? "e2rank-query-encoder" : "e2rank-query", true);
  params.finish();
  return std::make_unique<E2RankReranker>(std::move(backend), tmpl, instruction,
                                          static_cast<std::size_t>(topk),
                                          static_cast<std::size_t>(passage_tokens));
}

}  // namespace rerank::llm
