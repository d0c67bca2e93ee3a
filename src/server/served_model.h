// A model as the server holds it: its served reranker, the strategies a request may choose instead
// (built on the same loaded model, cached by strategy and options so that requests asking for the
// same one share reranker calls), and the batcher that feeds them.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "rerank/server.h"
#include "server/batcher.h"
#include "server/dialects.h"

namespace rerank::server {

class ServedModelState {
 public:
  ServedModelState(ServedModel model, const ServeOptions& options, Metrics& metrics);
  const std::string& name() const { return model_.name; }
  const std::string& path() const { return model_.path; }
  const Reranker& served() const { return *model_.reranker; }
  Batcher& batcher() { return *batcher_; }
  std::vector<std::string> choosable_strategies() const;

  // The reranker a request asked for: null for the served one; throws RequestError(422) for a
  // strategy this model cannot run or invalid options.
  std::shared_ptr<Reranker> strategy_for(const RerankRequest& request);

 private:
  ServedModel model_;
  std::unique_ptr<Batcher> batcher_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Reranker>> chosen_;  // by strategy and options
};

}  // namespace rerank::server
