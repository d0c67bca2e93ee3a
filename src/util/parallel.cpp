#include "rerank/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <vector>

namespace rerank::detail {

void parallel_for(std::size_t items, std::size_t workers,
                  const std::function<void(std::size_t worker, std::size_t item)>& task) {
  const std::size_t n = std::clamp<std::size_t>(workers, 1, std::max<std::size_t>(items, 1));
  std::atomic<std::size_t> next{0};
  std::vector<std::exception_ptr> errors(n);
  std::vector<std::size_t> failed(n, items);  // the item each worker failed on
  auto work = [&](std::size_t w) {
    std::size_t i = 0;
    try {
      while ((i = next.fetch_add(1)) < items) task(w, i);
    } catch (...) {
      errors[w] = std::current_exception();
      failed[w] = i;
      next = items;  // the others stop before their next item
    }
  };
  std::vector<std::thread> threads;  // workers 1..n-1; worker 0 is this thread
  threads.reserve(n - 1);
  try {
    for (std::size_t w = 1; w < n; ++w) threads.emplace_back(work, w);
  } catch (...) {  // no thread to be had: stop those started, then report
    next = items;
    for (auto& t : threads) t.join();
    throw;
  }
  work(0);
  for (auto& t : threads) t.join();
  const auto first = std::min_element(failed.begin(), failed.end()) - failed.begin();
  if (errors[static_cast<std::size_t>(first)])
    std::rethrow_exception(errors[static_cast<std::size_t>(first)]);
}

}  // namespace rerank::detail
