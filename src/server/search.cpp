#include "server/search.h"

#include <nlohmann/json.hpp>

#include "rerank/io.h"
#include "rerank/pipeline.h"

namespace rerank::server {

using nlohmann::json;
SearchService::SearchService(const SearchOptions& options) : options_(options) {
  prototype_ = make_first_stage(options.first_stage, options.first_stage_options);
  name_ = prototype_->name();
  CorpusReader corpus(options.corpus_path);
  for (Document d; corpus.next(d);) {
    const std::string id = d.doc_id;
    documents_.insert_or_assign(id, std::move(d));
  }
  if (documents_.empty()) throw Error(options.corpus_path + ": no documents in the corpus");
}

std::unique_ptr<FirstStage> SearchService::take() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto stage = std::move(idle_.back());
      idle_.pop_back();
      return stage;
    }
  }
  return prototype_->fork();
}

void SearchService::give_back(std::unique_ptr<FirstStage> stage) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(stage));
}

CandidateList SearchService::retrieve(const std::string& query, std::size_t k) {
  auto stage = take();
  const Query q{"q", query};
  Run run;
  run.by_query[q.id] = stage->retrieve(q, k);
  give_back(std::move(stage));
  if (run.by_query[q.id].empty()) return CandidateList{q, {}};
  // The library's join: a document the index has and the corpus lacks is an error naming both.
  auto jobs = jobs_from_run(run, {q}, documents_, k, {name_, "the request", options_.corpus_path});
  return std::move(jobs.front().head);
}

std::string render_search(const RerankRequest& request, const SearchService& service,
                          const CandidateList& list, const RerankResult& result, ScoreScale scale,
                          const std::string& id, const std::string& model, double first_stage_seconds,
                          double rerank_seconds) {
  std::unordered_map<std::string, std::size_t> first_rank;
  for (std::size_t i = 0; i < list.candidates.size(); ++i) first_rank[list.candidates[i].doc_id] = i;
  json results = json::array();
  const std::size_t n = result.ranking.size();
  for (std::size_t rank = 0; rank < n && rank < request.top_n.value_or(n); ++rank) {
    const ScoredDoc& d = result.ranking[rank];
    const std::size_t from = first_rank.at(d.doc_id);
    json item{{"id", d.doc_id},
              {"relevance_score", relevance_of(scale, d.score, rank, n)},
              {"score", d.score},
              {"first_stage_rank", from + 1},
              {"first_stage_score", list.candidates[from].score}};
    if (request.return_documents) {
      const Document& doc = service.document(d.doc_id);
      item["document"] = {{"title", doc.title}, {"text", doc.text}};
    }
    results.push_back(std::move(item));
  }
  const auto ms = [](double s) { return s * 1000.0; };
  return json{{"id", id},
              {"model", model},
              {"first_stage", service.first_stage()},
              {"results", std::move(results)},
              {"timings",
               {{"first_stage_ms", ms(first_stage_seconds)},
                {"rerank_ms", ms(rerank_seconds)},
                {"total_ms", ms(first_stage_seconds + rerank_seconds)}}},
              {"usage", {{"total_tokens", result.cost.prompt_tokens}}}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace rerank::server
