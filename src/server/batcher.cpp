#include "server/batcher.h"

#include "server/dialects.h"

namespace rerank::server {

Batcher::Batcher(Reranker& reranker, std::size_t capacity, std::size_t max_batch)
    : reranker_(reranker), capacity_(capacity), max_batch_(max_batch ? max_batch : 1), worker_([this] { loop(); }) {}

Batcher::~Batcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

std::future<RerankResult> Batcher::submit(CandidateList list) {
  Pending p{std::move(list), {}};
  auto future = p.result.get_future();
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= capacity_)
      throw RequestError(429, "the server is busy: " + std::to_string(queue_.size()) + " requests are waiting");
    queue_.push_back(std::move(p));
  }
  wake_.notify_one();
  return future;
}

std::size_t Batcher::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void Batcher::loop() {
  for (;;) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      ++batches_;
    }
    std::vector<CandidateList> lists;
    lists.reserve(batch.size());
    for (auto& p : batch) lists.push_back(std::move(p.list));
    try {
      auto results = reranker_.rerank(lists);
      if (results.size() != batch.size()) throw Error(reranker_.name() + " returned a wrong number of results");
      for (std::size_t i = 0; i < batch.size(); ++i) batch[i].result.set_value(std::move(results[i]));
    } catch (...) {
      for (auto& p : batch) p.result.set_exception(std::current_exception());
    }
  }
}

}  // namespace rerank::server
