// Strategies chosen per call over one model loaded once: what lets a server's client ask for
// "listwise" or "setwise" (with its own options) on the model the server already holds. The LLM
// strategies (listwise, setwise, pairwise, FIRST, ...) share a loaded decoder model this way; each
// call's options are checked before anything runs, and the model loads on the first make().
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rerank/reranker.h"

namespace rerank {

class LlmBackend;

class StrategyPool {
 public:
  // `model`: the model path, threads, and the runtime options every strategy of the pool shares
  // (context_tokens, batch_tokens); no other option is allowed there. Nothing loads yet.
  explicit StrategyPool(RerankerOptions model);
  ~StrategyPool();
  StrategyPool(const StrategyPool&) = delete;
  StrategyPool& operator=(const StrategyPool&) = delete;

  // The strategies a pool offers.
  static std::vector<std::string> names();
  static bool offers(const std::string& strategy);

  // The strategy on the pool's model, its options checked first (see prepare), the model loaded on
  // first use (a model that cannot serve these strategies
  // fails here, and every later call fails with the same error without loading again).
  std::shared_ptr<Reranker> make(const std::string& strategy,
                                 const std::map<std::string, std::string>& params);

 private:
  using Builder = std::function<std::unique_ptr<Reranker>(std::shared_ptr<LlmBackend>)>;
  // The strategy's builder, once its options are valid (throws rerank::Error naming the problem: an
  // unknown strategy, an unknown or invalid option, or a runtime option, which the pool fixes).
  Builder prepare(const std::string& strategy, const std::map<std::string, std::string>& params) const;

  RerankerOptions model_;
  std::mutex mutex_;
  std::shared_ptr<LlmBackend> backend_;
  std::string load_error_;
};

}  // namespace rerank
