#include "rerank/run_first_stage.h"

#include <algorithm>

#include "rerank/io.h"

namespace rerank {

RunRetriever::RunRetriever(Run run, std::string name) : name_(std::move(name)) {
  for (auto& [qid, list] : run.by_query)
    std::stable_sort(list.begin(), list.end(), [](const ScoredDoc& a, const ScoredDoc& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.doc_id < b.doc_id;
    });
  run_ = std::make_shared<const Run>(std::move(run));
}

std::unique_ptr<RunRetriever> RunRetriever::from_file(const std::string& path) {
  return std::make_unique<RunRetriever>(read_run(path), "run:" + path);
}

std::vector<ScoredDoc> RunRetriever::retrieve(const Query& query, std::size_t k) {
  const auto it = run_->by_query.find(query.id);
  if (it == run_->by_query.end()) return {};
  const auto& list = it->second;
  return {list.begin(), list.begin() + static_cast<std::ptrdiff_t>(std::min(k, list.size()))};
}

std::unique_ptr<FirstStage> RunRetriever::fork() const {
  return std::unique_ptr<RunRetriever>(new RunRetriever(run_, name_));
}

}  // namespace rerank
