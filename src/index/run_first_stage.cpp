#include "rerank/run_first_stage.h"

#include <algorithm>

#include "rerank/io.h"

namespace rerank {

RunRetriever::RunRetriever(Run run, std::string name) : run_(std::move(run)), name_(std::move(name)) {
  for (auto& [qid, list] : run_.by_query)
    std::stable_sort(list.begin(), list.end(), [](const ScoredDoc& a, const ScoredDoc& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.doc_id < b.doc_id;
    });
}

std::unique_ptr<RunRetriever> RunRetriever::from_file(const std::string& path) {
  return std::make_unique<RunRetriever>(read_run(path), "run:" + path);
}

std::vector<ScoredDoc> RunRetriever::retrieve(const Query& query, std::size_t k) {
  const auto it = run_.by_query.find(query.id);
  if (it == run_.by_query.end()) return {};
  const auto& list = it->second;
  return {list.begin(), list.begin() + static_cast<std::ptrdiff_t>(std::min(k, list.size()))};
}

}  // namespace rerank
