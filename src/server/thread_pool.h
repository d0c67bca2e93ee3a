// The HTTP connection threads. httplib serves a connection on one thread until it closes, so a
// fixed pool lets a few slow or silent clients (slowloris) hold every thread while real clients
// wait. This pool keeps `keep` threads and grows up to `max` while connections wait for one; threads
// beyond `keep` exit after a minute idle. Timeouts (ServeOptions) bound how long a client may stay silent.
#pragma once
#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

namespace rerank::server {

class GrowingThreadPool final : public httplib::TaskQueue {
 public:
  GrowingThreadPool(std::size_t keep, std::size_t max);
  void enqueue(std::function<void()> job) override;
  void shutdown() override;  // runs what is queued, then waits for every thread to end
  std::size_t threads() const;

 private:
  void work();

  const std::size_t keep_, max_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, ended_;
  std::deque<std::function<void()>> jobs_;
  std::size_t threads_ = 0, idle_ = 0;
  bool stopping_ = false;
};

}  // namespace rerank::server
