// POST /search: retrieve, then rerank, in one call over an index the server holds (what TEI, Cohere
// and llama-server leave to the caller). The first stage runs on the request's thread (a fork per
// concurrent request); its top candidates, joined with their texts, go to the model's batcher like
// any rerank request.
//   request   {query, top_n (10), candidates (first-stage hits reranked), return_documents (true),
//              model, strategy, strategy_options}: parse_request(Dialect::Search, ...)
//   response  {id, model, first_stage, results: [{id, relevance_score, score, first_stage_rank,
//              first_stage_score, document?: {title, text}}], timings: {first_stage_ms, rerank_ms,
//              total_ms}, usage: {total_tokens}}
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "rerank/first_stage.h"
#include "rerank/reranker.h"
#include "rerank/server.h"
#include "server/dialects.h"

namespace rerank::server {

class SearchService {
 public:
  // Opens the first stage and reads the corpus' texts into memory; throws rerank::Error naming what
  // is wrong (a bad spec or option, a missing index or corpus).
  explicit SearchService(const SearchOptions& options);
  const std::string& first_stage() const { return name_; }
  std::size_t default_candidates() const { return options_.candidates; }
  std::size_t documents() const { return documents_.size(); }

  // The first stage's top `k` for the query, joined with the texts (the list to rerank).
  CandidateList retrieve(const std::string& query, std::size_t k);
  const Document& document(const std::string& id) const { return documents_.at(id); }

 private:
  std::unique_ptr<FirstStage> take();
  void give_back(std::unique_ptr<FirstStage> stage);

  SearchOptions options_;
  std::string name_;
  std::unique_ptr<FirstStage> prototype_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<FirstStage>> idle_;
  std::unordered_map<std::string, Document> documents_;
};

// The response body: `list` is what was reranked (first-stage order), `result` the reranker's answer.
std::string render_search(const RerankRequest& request, const SearchService& service,
                          const CandidateList& list, const RerankResult& result, ScoreScale scale,
                          const std::string& id, const std::string& model, double first_stage_seconds,
                          double rerank_seconds);

}  // namespace rerank::server
