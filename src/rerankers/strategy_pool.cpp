#include "rerank/strategy_pool.h"

#include <algorithm>

#include "rerank/error.h"
#include "rerankers/llama_backend.h"
#include "rerankers/llm_strategy.h"

namespace rerank {

StrategyPool::StrategyPool(RerankerOptions model) : model_(std::move(model)) {
  OptionReader reader("the shared model", model_.params);
  llm::read_runtime_options(reader);
  reader.finish();  // only runtime options may be fixed for the pool
}

StrategyPool::~StrategyPool() = default;

std::vector<std::string> StrategyPool::names() { return llm::llm_strategy_names(); }

bool StrategyPool::offers(const std::string& strategy) {
  const auto all = names();
  return std::find(all.begin(), all.end(), strategy) != all.end();
}

StrategyPool::Builder StrategyPool::prepare(const std::string& strategy,
                                            const std::map<std::string, std::string>& params) const {
  if (!offers(strategy)) {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("strategy '" + strategy + "' cannot be chosen per request (these can: " + known + ")");
  }
  for (const auto& key : llm::runtime_option_keys())
    if (params.count(key))
      throw Error(strategy + ": option " + key +
                  " is fixed for the served model and cannot be set per request");
  RerankerOptions options = model_;
  options.params = params;
  return llm::prepare_llm_strategy(strategy, options);
}

std::shared_ptr<Reranker> StrategyPool::make(const std::string& strategy,
                                             const std::map<std::string, std::string>& params) {
  const Builder build = prepare(strategy, params);
  std::shared_ptr<LlmBackend> backend;
  {
    std::lock_guard lock(mutex_);
    if (!backend_ && load_error_.empty()) {
      OptionReader reader("the shared model", model_.params);
      try {
        backend_ =
            llm::open_llama_backend(model_.model_path, model_.threads, llm::read_runtime_options(reader));
      } catch (const std::exception& e) {
        load_error_ = e.what();
      }
    }
    if (!backend_) throw Error(load_error_);
    backend = backend_;
  }
  return build(std::move(backend));
}

}  // namespace rerank
