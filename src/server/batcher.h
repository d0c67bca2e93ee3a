// Cross-request batching: requests for one model wait in a bounded queue; one worker thread takes
// everything waiting (up to max_batch) and hands it to the reranker in one call, so concurrent
// clients share forward passes. Scores do not depend on batch-mates, so batching never changes them.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "rerank/reranker.h"

namespace rerank::server {

class Batcher {
 public:
  Batcher(Reranker& reranker, std::size_t capacity, std::size_t max_batch);
  ~Batcher();  // answers what is queued, then stops
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues one query's candidates; throws RequestError(429) when the queue is full.
  std::future<RerankResult> submit(CandidateList list);
  std::size_t queued() const;
  std::size_t batches() const { return batches_; }

 private:
  struct Pending {
    CandidateList list;
    std::promise<RerankResult> result;
  };
  void loop();

  Reranker& reranker_;
  const std::size_t capacity_, max_batch_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::size_t batches_ = 0;
  std::thread worker_;
};

}  // namespace rerank::server
