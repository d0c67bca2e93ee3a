// Embedding-based reranking: cosine similarity between the embedding of the query (in the
// instruction format of Qwen3-Embedding-style models) and the embedding of each document.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "rerank/error.h"
#include "rerankers/llm_strategy.h"

namespace rerank::llm {
namespace {

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) throw Error("LLM backend returned embeddings of different sizes");
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (na == 0 || nb == 0) return 0.0;  // an empty text can embed to zero: no similarity
  return dot / (std::sqrt(na) * std::sqrt(nb));
}

}  // namespace

std::vector<RerankResult> rank_by_cosine(LlmBackend& backend, const std::vector<CandidateList>& batch,
                                         const std::vector<std::string>& query_texts,
                                         const PassageTexts& texts) {
  std::vector<std::string> inputs;
  for (std::size_t q = 0; q < batch.size(); ++q) {
    if (batch[q].candidates.empty()) continue;  // nothing to rank: no need for the query's embedding
    inputs.push_back(query_texts[q]);
    for (std::size_t c = 0; c < batch[q].candidates.size(); ++c) inputs.push_back(texts.at(q, c));
  }
  const auto embeddings = backend.embed(inputs);
  if (embeddings.size() != inputs.size()) throw Error("LLM backend returned a wrong number of embeddings");
  std::vector<RerankResult> results;
  std::size_t next = 0;
  for (std::size_t q = 0; q < batch.size(); ++q) {
    const std::size_t n = batch[q].candidates.size();
    if (n == 0) {
      results.emplace_back();
      continue;
    }
    RerankCost cost = request_cost(embeddings[next].cost);
    const auto& query_vec = embeddings[next++].vector;
    std::vector<double> score(n);
    for (std::size_t c = 0; c < n; ++c, ++next) {
      score[c] = cosine(query_vec, embeddings[next].vector);
      cost += request_cost(embeddings[next].cost);
    }
    cost.model_calls = n + 1;
    Ordering o;
    o.order.resize(n);
    std::iota(o.order.begin(), o.order.end(), std::size_t{0});
    std::stable_sort(o.order.begin(), o.order.end(),
                     [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
    o.scores = score;
    results.push_back(to_result(batch[q], o));
    results.back().cost = cost;
  }
  return results;
}

namespace {

class EmbeddingReranker : public Reranker {
 public:
  EmbeddingReranker(std::shared_ptr<LlmBackend> backend, PromptTemplate tmpl, std::string instruction,
                    std::size_t passage_tokens)
      : backend_(std::move(backend)),
        tmpl_(std::move(tmpl)),
        instruction_(std::move(instruction)),
        passage_tokens_(passage_tokens) {}
  std::string name() const override { return "embedding"; }
  ScoreScale score_scale() const override { return ScoreScale::Cosine; }
  std::vector<RerankResult> rerank(const std::vector<CandidateList>& batch) override {
    PassageTexts texts(*backend_, batch, passage_tokens_);
    std::vector<std::string> queries;
    for (const auto& list : batch) queries.push_back(render_user(tmpl_, list.query.text, {}, instruction_));
    return rank_by_cosine(*backend_, batch, queries, texts);
  }

 private:
  std::shared_ptr<LlmBackend> backend_;
  PromptTemplate tmpl_;
  std::string instruction_;
  std::size_t passage_tokens_;
};

struct EmbeddingOptions {
  std::string instruction;
  std::size_t passage_tokens = 512;
  PromptChoice prompt;
};

// Instruction-aware decoders (Qwen3-Embedding) get the instruct prompt; encoders embed the query as is.
const char* embedding_query_template(bool encoder) { return encoder ? "plain-query" : "embedding-query"; }

EmbeddingOptions parse_embedding(OptionReader& params) {
  EmbeddingOptions o;
  o.instruction = params.text("instruction", default_retrieval_instruction());
  o.passage_tokens = static_cast<std::size_t>(params.integer("passage_tokens", 512, 1, 1 << 20));
  o.prompt = read_prompt_choice(params);
  for (bool encoder : {false, true})
    resolve_prompt(o.prompt, embedding_query_template(encoder), "embedding", false);
  return o;
}

std::unique_ptr<Reranker> build_embedding(std::shared_ptr<LlmBackend> backend, const EmbeddingOptions& o) {
  PromptTemplate tmpl =
      resolve_prompt(o.prompt, embedding_query_template(backend->is_encoder()), "embedding", false);
  return std::make_unique<EmbeddingReranker>(std::move(backend), std::move(tmpl), o.instruction,
                                             o.passage_tokens);
}

const LlmStrategyRegistration<EmbeddingOptions> kEmbedding("embedding", parse_embedding, build_embedding);

}  // namespace
}  // namespace rerank::llm
