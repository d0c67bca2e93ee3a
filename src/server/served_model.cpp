#include "server/served_model.h"

namespace rerank::server {
namespace {

// Built strategies kept for reuse; beyond this many distinct option sets the cache starts again
// (queued requests keep theirs alive), so hostile clients cannot grow it without bound.
constexpr std::size_t kMaxCachedStrategies = 64;

std::string key_of(const RerankRequest& r) {
  std::string key = r.strategy;
  for (const auto& [k, v] : r.strategy_options) key += '\n' + k + '=' + v;
  return key;
}

}  // namespace

ServedModelState::ServedModelState(ServedModel model, const ServeOptions& options, Metrics& metrics)
    : model_(std::move(model)) {
  batcher_ = std::make_unique<Batcher>(model_.name, *model_.reranker, options.queue_capacity,
                                       options.max_batch_queries, options.max_batch_documents, metrics);
}

std::vector<std::string> ServedModelState::choosable_strategies() const {
  return model_.strategies ? StrategyPool::names() : std::vector<std::string>{};
}

std::shared_ptr<Reranker> ServedModelState::strategy_for(const RerankRequest& request) {
  if (request.strategy.empty()) return nullptr;
  if (request.strategy == model_.reranker->name() && request.strategy_options.empty()) return nullptr;
  if (!model_.strategies)
    throw RequestError(422, "model '" + model_.name + "' serves strategy " + model_.reranker->name() +
                                " only; requests cannot choose another");
  try {
    const std::string key = key_of(request);  // make() checks the options of a new key
    std::lock_guard lock(mutex_);
    if (auto it = chosen_.find(key); it != chosen_.end()) return it->second;
    if (chosen_.size() >= kMaxCachedStrategies) chosen_.clear();
    auto made = model_.strategies->make(request.strategy, request.strategy_options);
    chosen_[key] = made;
    return made;
  } catch (const RequestError&) {
    throw;
  } catch (const Error& e) {
    throw RequestError(422, e.what());
  }
}

}  // namespace rerank::server
