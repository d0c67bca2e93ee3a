#include "rerank/pipeline.h"

#include <algorithm>
#include <unordered_set>

#include "rerank/error.h"
#include "rerank/io.h"

namespace rerank {

std::vector<RerankJob> jobs_from_run(const Run& run, const std::vector<Query>& queries,
                                     const std::unordered_map<std::string, Document>& documents,
                                     std::size_t depth, const JoinSources& sources) {
  std::unordered_map<std::string, const Query*> query_of;
  for (const auto& q : queries) query_of.emplace(q.id, &q);
  std::vector<RerankJob> jobs;
  jobs.reserve(run.by_query.size());
  for (const auto& [qid, docs] : run.by_query) {
    const auto q = query_of.find(qid);
    if (q == query_of.end())
      throw Error("query \"" + qid + "\" of " + sources.run + " is not in " + sources.queries);
    RerankJob job;
    job.head.query = *q->second;
    for (std::size_t i = 0; i < docs.size(); ++i) {
      if (i >= depth) {
        job.tail.push_back(docs[i]);
        continue;
      }
      const auto d = documents.find(docs[i].doc_id);
      if (d == documents.end())
        throw Error("document \"" + docs[i].doc_id + "\" (query \"" + qid + "\") of " + sources.run +
                    " is not in " + sources.corpus);
      job.head.candidates.push_back({docs[i].doc_id, d->second.title, d->second.text, docs[i].score});
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::vector<RerankJob> jobs_from_run(const Run& run, const std::vector<Query>& queries,
                                     const std::string& corpus_path, std::size_t depth,
                                     const std::string& run_name, const std::string& queries_name) {
  std::unordered_set<std::string> wanted;
  for (const auto& [qid, docs] : run.by_query)
    for (std::size_t i = 0; i < docs.size() && i < depth; ++i) wanted.insert(docs[i].doc_id);
  const auto documents = read_documents(corpus_path, wanted);
  return jobs_from_run(run, queries, documents, depth, {run_name, queries_name, corpus_path});
}

std::vector<RerankJob> jobs_from_run(const Run& run, const std::string& queries_path,
                                     const std::string& corpus_path, std::size_t depth,
                                     const std::string& run_name) {
  return jobs_from_run(run, read_queries(queries_path), corpus_path, depth, run_name, queries_path);
}

std::vector<RerankJob> jobs_from_candidates(std::vector<CandidateList> lists, std::size_t depth) {
  std::vector<RerankJob> jobs;
  jobs.reserve(lists.size());
  for (auto& list : lists) {
    RerankJob job;
    job.head.query = std::move(list.query);
    for (std::size_t i = 0; i < list.candidates.size(); ++i) {
      if (i < depth)
        job.head.candidates.push_back(std::move(list.candidates[i]));
      else
        job.tail.push_back({list.candidates[i].doc_id, list.candidates[i].score});
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::vector<RerankJob> jobs_from_candidates_file(const std::string& path, std::size_t depth) {
  std::vector<CandidateList> lists;
  CandidatesReader reader(path);
  for (CandidateList list; reader.next(list);) lists.push_back(std::move(list));
  return jobs_from_candidates(std::move(lists), depth);
}

namespace {

// The head's ranking followed by the tail, each tail entry scored 1 below the one above it.
void append_tail(std::vector<ScoredDoc>& ranking, const std::vector<ScoredDoc>& tail) {
  double floor = ranking.empty() ? 0.0 : ranking.back().score;
  for (const auto& d : tail) ranking.push_back({d.doc_id, floor -= 1.0});
}

}  // namespace

RerankedRun rerank_jobs(Reranker& reranker, const std::vector<RerankJob>& jobs,
                        const RerankRunOptions& options) {
  if (options.query_batch == 0) throw Error("the query batch must hold at least one query");
  RerankedRun out;
  out.run.tag = options.tag;
  out.queries = jobs.size();
  for (const auto& job : jobs) out.documents += job.head.candidates.size();
  std::size_t done = 0;
  for (std::size_t begin = 0; begin < jobs.size(); begin += options.query_batch) {
    const std::size_t end = std::min(jobs.size(), begin + options.query_batch);
    std::vector<CandidateList> group;
    for (std::size_t j = begin; j < end; ++j) group.push_back(jobs[j].head);
    std::vector<RerankResult> results = reranker.rerank(group);
    if (results.size() != group.size()) throw Error(reranker.name() + " returned a wrong number of results");
    for (std::size_t j = begin; j < end; ++j) {
      const RerankJob& job = jobs[j];
      RerankResult& result = results[j - begin];
      out.cost += result.cost;
      done += job.head.candidates.size();
      auto& ranking = out.run.by_query[job.head.query.id];
      ranking = std::move(result.ranking);
      append_tail(ranking, job.tail);
      if (ranking.empty()) out.run.by_query.erase(job.head.query.id);
    }
    if (options.progress) options.progress(done, out.documents);
  }
  return out;
}

RerankedRun retrieve_and_rerank(const FirstStage& first_stage, const std::vector<Query>& queries,
                                const std::string& corpus_path, Reranker& reranker, std::size_t hits,
                                std::size_t depth, unsigned threads, const RerankRunOptions& options) {
  const Run run = retrieve_all(first_stage, queries, hits, threads, options.tag);
  return rerank_jobs(
      reranker, jobs_from_run(run, queries, corpus_path, depth, first_stage.name(), "the queries"), options);
}

}  // namespace rerank
