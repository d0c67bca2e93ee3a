#include "server/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <system_error>
#include <thread>

namespace rerank::server {

GrowingThreadPool::GrowingThreadPool(std::size_t keep, std::size_t max)
    : keep_(std::max<std::size_t>(keep, 1)), max_(std::max(max, std::max<std::size_t>(keep, 1))) {}

void GrowingThreadPool::enqueue(std::function<void()> job) {
  std::lock_guard lock(mutex_);
  jobs_.push_back(std::move(job));
  if (jobs_.size() > idle_ && threads_ < max_) {
    // Detached: shutdown() waits for the count of running threads to reach zero instead of joining.
    try {
      std::thread([this] { work(); }).detach();
      ++threads_;
      return;
    } catch (const std::system_error&) {
      // No thread to be had: the job waits for a running one.
    }
  }
  { wake_.notify_one(); }
}

void GrowingThreadPool::shutdown() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  wake_.notify_all();
  ended_.wait(lock, [this] { return threads_ == 0; });
}

std::size_t GrowingThreadPool::threads() const {
  std::lock_guard lock(mutex_);
  return threads_;
}

void GrowingThreadPool::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_;
    const bool woken =
        wake_.wait_for(lock, std::chrono::minutes(1), [this] { return stopping_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) {
      if (stopping_ || (!woken && threads_ > keep_)) break;
      continue;
    }
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
  // The last touch of the pool: shutdown() may destroy it as soon as the lock is released.
  if (--threads_ == 0) ended_.notify_all();
}

}  // namespace rerank::server
