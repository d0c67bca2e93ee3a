// The one interface every first stage implements: BM25 over our index, BM25+RM3, a fusion of
// runs, or candidates read from another engine's run file.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "rerank/types.h"

namespace rerank {

class FirstStage {
 public:
  virtual ~FirstStage() = default;
  virtual std::string name() const = 0;
  // The top `k` documents for the query, best first (ties broken by document id, ascending).
  virtual std::vector<ScoredDoc> retrieve(const Query& query, std::size_t k) = 0;
};

}  // namespace rerank
