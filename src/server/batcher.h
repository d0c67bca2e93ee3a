// Cross-request batching: requests for one model wait in a bounded queue; one worker thread takes
// everything waiting (up to max_batch requests and max_documents documents) and hands it to the reranker in
// one call, so concurrent clients share forward passes. Scores do not depend on batch-mates, so batching
// never changes them. Requests whose client has gone (disconnected, timed out) are dropped before they cost
// compute.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "rerank/reranker.h"
#include "server/metrics.h"

namespace rerank::server {

// Why nobody waits for a request any more (the worker drops it if its batch has not started).
enum class Abandoned { No, Disconnected, TimedOut };

// A queued request: its result, and what tells the worker that nobody waits for it any more.
struct Ticket {
  std::future<RerankResult> result;
  std::shared_ptr<std::atomic<Abandoned>> abandoned;
};

class Batcher {
 public:
  Batcher(std::string model, Reranker& reranker, std::size_t capacity, std::size_t max_batch,
          std::size_t max_documents, Metrics& metrics);
  ~Batcher();  // answers what is queued, then stops
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues one query's candidates for `strategy` (nullptr: the model's served reranker; requests
  // with the same strategy object share calls). Throws RequestError(429) when the queue is full.
  Ticket submit(CandidateList list, std::shared_ptr<Reranker> strategy = nullptr);
  std::size_t queued() const;

 private:
  struct Pending {
    CandidateList list;
    std::shared_ptr<Reranker> strategy;
    std::promise<RerankResult> result;
    std::shared_ptr<std::atomic<Abandoned>> abandoned;
  };
  std::vector<Pending> take_batch();
  void run_group(Reranker& reranker, std::vector<Pending*>& group);
  bool answer(Reranker& reranker, std::vector<Pending*>& group, const std::vector<CandidateList>& lists);
  void loop();

  const std::string model_;
  Reranker& reranker_;
  const std::size_t capacity_, max_batch_, max_documents_;
  Metrics& metrics_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace rerank::server
