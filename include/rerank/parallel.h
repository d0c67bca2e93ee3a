// Work shared among threads: items handed out in order to whichever worker is free (the worker
// pool of the runtimes and the first stages).
#pragma once
#include <cstddef>
#include <functional>

namespace rerank::detail {

// Runs task(worker, item) for every item in [0, items) on `workers` threads (clamped to 1..items),
// the calling thread being worker 0. Items are handed out in increasing order to whichever worker
// is free, so a task may write to its own item's or its own worker's slots without locking. When a
// task throws, no worker starts another item; once all have stopped, the exception of the lowest
// failed item is rethrown.
void parallel_for(std::size_t items, std::size_t workers,
                  const std::function<void(std::size_t worker, std::size_t item)>& task);

}  // namespace rerank::detail
