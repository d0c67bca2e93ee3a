// Retrieve, then rerank, as library calls: the one pipeline the CLI (`rerank rerank`, `rerank convert`)
// and the HTTP server share. A first stage (or a run read from a file, or candidate lists sent by a
// client) gives each query a ranked list; the top `depth` of it, joined with the query's and the
// documents' texts, is the head that a Reranker reorders; the rest is the tail, kept in its order
// below the head.
//
//   FirstStage::retrieve / read_run / CandidatesReader
//        |  jobs_from_run (+ queries, corpus)   jobs_from_candidates
//        v
//   RerankJob { head: CandidateList, tail }  --rerank_jobs(Reranker)-->  RerankedRun { Run, RerankCost }
#pragma once
#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "rerank/cost.h"
#include "rerank/first_stage.h"
#include "rerank/reranker.h"
#include "rerank/types.h"

namespace rerank {

// One query's work: its top candidates with their texts (reranked) and the rest of its list.
struct RerankJob {
  CandidateList head;
  std::vector<ScoredDoc> tail;
};

inline constexpr std::size_t kWholeList = std::numeric_limits<std::size_t>::max();

// The names error messages give the inputs of a join (file paths, or "the request").
struct JoinSources {
  std::string run = "the run";
  std::string queries = "the queries";
  std::string corpus = "the corpus";
};

// Joins a run with texts: each query of the run (in the run's order of query ids) becomes a job whose
// head is its first `depth` documents. Throws rerank::Error naming the query or document (and the
// inputs) when a text is missing.
std::vector<RerankJob> jobs_from_run(const Run& run, const std::vector<Query>& queries,
                                     const std::unordered_map<std::string, Document>& documents,
                                     std::size_t depth, const JoinSources& sources = {});

// The same with texts from files: reads from the corpus only the documents the heads show.
std::vector<RerankJob> jobs_from_run(const Run& run, const std::vector<Query>& queries,
                                     const std::string& corpus_path, std::size_t depth,
                                     const std::string& run_name, const std::string& queries_name);
// ... and the queries from their file too.
std::vector<RerankJob> jobs_from_run(const Run& run, const std::string& queries_path,
                                     const std::string& corpus_path, std::size_t depth,
                                     const std::string& run_name);

// Candidate lists (the candidates JSONL format, or a client's request): the first `depth` of each are
// the head.
std::vector<RerankJob> jobs_from_candidates(std::vector<CandidateList> lists, std::size_t depth);
// Every list of a candidates JSONL file.
std::vector<RerankJob> jobs_from_candidates_file(const std::string& path, std::size_t depth);

struct RerankRunOptions {
  // Queries handed to the reranker at once, so strategies can batch model calls across queries
  // (scores do not depend on batch-mates, so it never changes the output).
  std::size_t query_batch = 16;
  std::string tag = "rerank";
  // Called after every batch with the documents reranked so far and in all.
  std::function<void(std::size_t done, std::size_t total)> progress;
};

struct RerankedRun {
  Run run;
  RerankCost cost;
  std::size_t queries = 0;
  std::size_t documents = 0;  // reranked (in heads)
};

// Reranks every job's head and puts its tail below, in order, with scores strictly under the head's
// (each one lower by 1 than the one above), so the run stays sorted. A query with nothing to rank is
// left out of the run.
RerankedRun rerank_jobs(Reranker& reranker, const std::vector<RerankJob>& jobs,
                        const RerankRunOptions& options);

// Retrieve, then rerank: every query's top `hits` from the first stage (threads: see retrieve_all),
// the top `depth` of them reranked with texts from the corpus file.
RerankedRun retrieve_and_rerank(const FirstStage& first_stage, const std::vector<Query>& queries,
                                const std::string& corpus_path, Reranker& reranker, std::size_t hits,
                                std::size_t depth, unsigned threads, const RerankRunOptions& options);

}  // namespace rerank
