// Combining ranked lists (src/index/fusion.cpp): reciprocal rank fusion and interpolation of
// min-max normalised scores, for whole runs and as a FirstStage over other first stages.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "rerank/first_stage.h"
#include "rerank/types.h"

namespace rerank {

enum class FusionMethod {
  kRrf,            // score = sum over lists of 1 / (rrf_k + rank), rank from 1 (Cormack et al. 2009)
  kInterpolation,  // score = sum over lists of weight * (score - min) / (max - min) per query
};

struct FusionOptions {
  FusionMethod method = FusionMethod::kRrf;
  double rrf_k = 60;
  // Interpolation weights, one per list; empty: equal weights summing to 1.
  std::vector<double> weights;
  std::size_t depth = 1000;  // only the top `depth` of each list take part
  std::size_t k = 1000;      // length of the fused list
};

// Fuses one query's lists. A document missing from a list contributes nothing from it. Ties break
// by document id, ascending. Throws rerank::Error for bad options (weights count, rrf_k <= 0).
std::vector<ScoredDoc> fuse_lists(const std::vector<std::vector<ScoredDoc>>& lists,
                                  const FusionOptions& options);

// Fuses runs query by query (the union of their queries).
Run fuse_runs(const std::vector<Run>& runs, const FusionOptions& options, const std::string& tag = "fused");

// A first stage whose candidates are the fusion of other first stages' candidates.
class FusionRetriever : public FirstStage {
 public:
  FusionRetriever(std::vector<std::unique_ptr<FirstStage>> stages, FusionOptions options);
  std::string name() const override;
  std::vector<ScoredDoc> retrieve(const Query& query, std::size_t k) override;
  std::unique_ptr<FirstStage> fork() const override;
  // Each fused first stage's retrieve_many, then the fusion of every query's lists.
  std::vector<std::vector<ScoredDoc>> retrieve_many(const std::vector<Query>& queries, std::size_t k,
                                                    unsigned threads) const override;

 private:
  std::vector<std::unique_ptr<FirstStage>> stages_;
  FusionOptions options_;
};

}  // namespace rerank
