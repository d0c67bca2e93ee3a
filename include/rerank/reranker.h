// The one interface every reranker implements, whatever its paradigm (cross-encoder, LLM
// pointwise, listwise, pairwise, setwise, embedding, learning-to-rank). A new method is one new
// file in src/rerankers/ with a RerankerRegistration; nothing else changes.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rerank/cost.h"
#include "rerank/types.h"

namespace rerank {

struct RerankResult {
  std::vector<ScoredDoc> ranking;  // every candidate exactly once, best first
  RerankCost cost;
};

// Options as name=value strings (from the CLI, the server or code); each strategy parses them into
// its own typed options and rejects unknown ones with an error naming them and the known ones.
struct RerankerOptions {
  std::string model_path;
  int threads = 0;  // 0: all cores
  std::map<std::string, std::string> params;
};

// What a strategy's scores are, so that front ends can report relevance in [0, 1].
enum class ScoreScale {
  Logit,        // a cross-encoder's raw output
  Probability,  // already in [0, 1] (P(yes) of an LLM)
  Cosine,       // in [-1, 1] (embedding strategies)
  Ordinal,      // only the order means something (listwise, pairwise, setwise)
};

class Reranker {
 public:
  virtual ~Reranker() = default;
  virtual std::string name() const = 0;
  virtual ScoreScale score_scale() const { return ScoreScale::Ordinal; }
  // Reranks every query's candidates. Taking many queries at once lets an implementation batch
  // and schedule across queries; results are in the order of `batch`.
  virtual std::vector<RerankResult> rerank(const std::vector<CandidateList>& batch) = 0;
};

// Building a reranker takes two steps. The factory registered under a strategy's name reads and
// validates the options into the strategy's typed options, without reading the model file, so a
// misspelt or out-of-range option fails at once with the list of known options; it returns the
// builder, which loads the model and makes the reranker.
using RerankerBuilder = std::function<std::unique_ptr<Reranker>()>;
using RerankerFactory = std::function<RerankerBuilder(const RerankerOptions&)>;

// Registry of strategies by name ("pointwise", "listwise", ...).
void register_reranker(const std::string& name, RerankerFactory factory);
// Checks the options (throws rerank::Error naming the problem) and returns the builder.
RerankerBuilder prepare_reranker(const std::string& name, const RerankerOptions& options);
// prepare_reranker(name, options)().
std::unique_ptr<Reranker> make_reranker(const std::string& name, const RerankerOptions& options);
std::vector<std::string> reranker_names();

// A strategy registers itself from its own file: `const RerankerRegistration r("name", factory);`.
struct RerankerRegistration {
  RerankerRegistration(const std::string& name, RerankerFactory factory) {
    register_reranker(name, std::move(factory));
  }
};

}  // namespace rerank
