// E2Rank: embedding reranking whose query embedding comes from a listwise prompt holding the query
// and its top first-stage candidates (option fb_docs) (pseudo-relevance feedback); documents are embedded as
// they are and ranked by cosine similarity, so the cost is one long query embedding plus the documents.
#include <algorithm>

#include "rerankers/llm_strategy.h"

namespace rerank::llm {

namespace {

class E2RankReranker : public Reranker {
 public:
  E2RankReranker(std::shared_ptr<LlmBackend> backend, PromptTemplate tmpl, std::string instruction,
                 std::size_t feedback_docs, std::size_t passage_tokens)
      : backend_(std::move(backend)),
        tmpl_(std::move(tmpl)),
        instruction_(std::move(instruction)),
        feedback_docs_(feedback_docs),
        passage_tokens_(passage_tokens) {}
  std::string name() const override { return "e2rank"; }
  ScoreScale score_scale() const override { return ScoreScale::Cosine; }
  std::vector<RerankResult> rerank(const std::vector<CandidateList>& batch) override {
    PassageTexts texts(*backend_, batch, passage_tokens_);
    std::vector<std::string> queries;
    for (std::size_t q = 0; q < batch.size(); ++q) {
      std::vector<PromptPassage> feedback;
      const std::size_t k = std::min(feedback_docs_, batch[q].candidates.size());
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
  std::size_t feedback_docs_;
  std::size_t passage_tokens_;
};

struct E2RankOptions {
  std::string instruction;
  std::size_t feedback_docs = 20;
  std::size_t passage_tokens = 512;
  PromptChoice prompt;
};

// Encoders (mean pooling, inputs cut at their end) need the query first; decoders pool the last token.
const char* e2rank_query_template(bool encoder) { return encoder ? "e2rank-query-encoder" : "e2rank-query"; }

E2RankOptions parse_e2rank(OptionReader& params) {
  E2RankOptions o;
  o.instruction = params.text("instruction", default_retrieval_instruction());
  o.feedback_docs = static_cast<std::size_t>(params.integer("fb_docs", 20, 0, 1000));
  o.passage_tokens = static_cast<std::size_t>(params.integer("passage_tokens", 512, 1, 1 << 20));
  o.prompt = read_prompt_choice(params);
  for (bool encoder : {false, true}) resolve_prompt(o.prompt, e2rank_query_template(encoder), "e2rank", true);
  return o;
}

std::unique_ptr<Reranker> build_e2rank(std::shared_ptr<LlmBackend> backend, const E2RankOptions& o) {
  PromptTemplate tmpl =
      resolve_prompt(o.prompt, e2rank_query_template(backend->is_encoder()), "e2rank", true);
  return std::make_unique<E2RankReranker>(std::move(backend), std::move(tmpl), o.instruction, o.feedback_docs,
                                          o.passage_tokens);
}

const LlmStrategyRegistration<E2RankOptions> kE2Rank("e2rank", parse_e2rank, build_e2rank);

}  // namespace
}  // namespace rerank::llm
