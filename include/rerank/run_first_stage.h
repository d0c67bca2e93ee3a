// Candidates produced elsewhere: a FirstStage that serves a TREC run file (for example Pyserini's
// or another engine's BM25 run), so rerankers can start from published candidate lists.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "rerank/first_stage.h"
#include "rerank/types.h"

namespace rerank {

class RunRetriever : public FirstStage {
 public:
  // Each query's list is ordered by score, best first, ties by document id ascending.
  explicit RunRetriever(Run run, std::string name = "run");
  // Reads the run with read_run (io.h); malformed files throw rerank::InputError. Named "run:PATH".
  static std::unique_ptr<RunRetriever> from_file(const std::string& path);

  std::string name() const override { return name_; }
  // The top k of the query's list; empty when the run has no such query.
  std::vector<ScoredDoc> retrieve(const Query& query, std::size_t k) override;
  std::unique_ptr<FirstStage> fork() const override;

 private:
  RunRetriever(std::shared_ptr<const Run> run, std::string name)
      : run_(std::move(run)), name_(std::move(name)) {}
  std::shared_ptr<const Run> run_;
  std::string name_;
};

}  // namespace rerank
