#include "rerank/fusion.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include "rerank/error.h"

namespace rerank {

namespace {

void check_options(const FusionOptions& options, std::size_t lists) {
  if (options.method == FusionMethod::kRrf && !(options.rrf_k > 0)) throw Error("RRF needs k > 0");
  if (options.method == FusionMethod::kInterpolation && !options.weights.empty() &&
      options.weights.size() != lists)
    throw Error("interpolation needs one weight per run: got " + std::to_string(options.weights.size()) +
                " weights for " + std::to_string(lists) + " runs");
}

}  // namespace

std::vector<ScoredDoc> fuse_lists(const std::vector<std::vector<ScoredDoc>>& lists,
                                  const FusionOptions& options) {
  check_options(options, lists.size());
  std::unordered_map<std::string, double> scores;
  for (std::size_t l = 0; l < lists.size(); ++l) {
    const auto& list = lists[l];
    const std::size_t n = std::min(list.size(), options.depth);
    if (options.method == FusionMethod::kRrf) {
      for (std::size_t r = 0; r < n; ++r)
        scores[list[r].doc_id] += 1.0 / (options.rrf_k + static_cast<double>(r + 1));
    } else {
      const double weight =
          options.weights.empty() ? 1.0 / static_cast<double>(lists.size()) : options.weights[l];
      double lo = INFINITY, hi = -INFINITY;
      for (std::size_t r = 0; r < n; ++r) {
        lo = std::min(lo, list[r].score);
        hi = std::max(hi, list[r].score);
      }
      for (std::size_t r = 0; r < n; ++r) {
        // All-equal scores normalise to 1: every document of the list is equally good.
        const double normalized = hi > lo ? (list[r].score - lo) / (hi - lo) : 1.0;
        scores[list[r].doc_id] += weight * normalized;
      }
    }
  }
  std::vector<ScoredDoc> out;
  out.reserve(scores.size());
  for (auto& [id, score] : scores) out.push_back({id, score});
  auto better = [](const ScoredDoc& a, const ScoredDoc& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.doc_id < b.doc_id;
  };
  if (out.size() > options.k) {
    std::nth_element(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(options.k), out.end(), better);
    out.resize(options.k);
  }
  std::sort(out.begin(), out.end(), better);
  return out;
}

Run fuse_runs(const std::vector<Run>& runs, const FusionOptions& options, const std::string& tag) {
  check_options(options, runs.size());
  std::set<std::string> qids;
  for (const auto& run : runs)
    for (const auto& [qid, list] : run.by_query) qids.insert(qid);
  Run fused;
  fused.tag = tag;
  static const std::vector<ScoredDoc> kEmpty;
  for (const auto& qid : qids) {
    std::vector<std::vector<ScoredDoc>> lists;
    for (const auto& run : runs) {
      const auto it = run.by_query.find(qid);
      lists.push_back(it == run.by_query.end() ? kEmpty : it->second);
    }
    fused.by_query[qid] = fuse_lists(lists, options);
  }
  return fused;
}

FusionRetriever::FusionRetriever(std::vector<std::unique_ptr<FirstStage>> stages, FusionOptions options)
    : stages_(std::move(stages)), options_(std::move(options)) {
  if (stages_.empty()) throw Error("fusion needs at least one first stage");
  check_options(options_, stages_.size());
}

std::string FusionRetriever::name() const {
  std::string name = options_.method == FusionMethod::kRrf ? "rrf(" : "interpolate(";
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    if (i) name.push_back(',');
    name.append(stages_[i]->name());
  }
  name.push_back(')');
  return name;
}

std::vector<ScoredDoc> FusionRetriever::retrieve(const Query& query, std::size_t k) {
  std::vector<std::vector<ScoredDoc>> lists;
  for (auto& stage : stages_) lists.push_back(stage->retrieve(query, options_.depth));
  FusionOptions options = options_;
  options.k = k;
  return fuse_lists(lists, options);
}

std::vector<std::vector<ScoredDoc>> FusionRetriever::retrieve_many(const std::vector<Query>& queries,
                                                                   std::size_t k, unsigned threads) const {
  std::vector<std::vector<std::vector<ScoredDoc>>> per_stage;
  for (const auto& stage : stages_)
    per_stage.push_back(stage->retrieve_many(queries, options_.depth, threads));
  FusionOptions options = options_;
  options.k = k;
  std::vector<std::vector<ScoredDoc>> fused(queries.size());
  for (std::size_t q = 0; q < queries.size(); ++q) {
    std::vector<std::vector<ScoredDoc>> lists;
    for (auto& stage_lists : per_stage) lists.push_back(std::move(stage_lists[q]));
    fused[q] = fuse_lists(lists, options);
  }
  return fused;
}

std::unique_ptr<FirstStage> FusionRetriever::fork() const {
  std::vector<std::unique_ptr<FirstStage>> stages;
  for (const auto& stage : stages_) stages.push_back(stage->fork());
  return std::make_unique<FusionRetriever>(std::move(stages), options_);
}

}  // namespace rerank
