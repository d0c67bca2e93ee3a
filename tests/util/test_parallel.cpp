// detail::parallel_for: every item exactly once, on at most the workers asked for, and a failing
// item's exception rethrown after every worker has stopped.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "rerank/parallel.h"

namespace {

using rerank::detail::parallel_for;

TEST(ParallelFor, RunsEveryItemOnceOnTheWorkersAsked) {
  for (std::size_t workers : {0u, 1u, 3u, 8u}) {
    std::vector<int> runs(50, 0);
    std::vector<std::size_t> worker_of(50, 99);
    parallel_for(runs.size(), workers, [&](std::size_t w, std::size_t i) {
      runs[i] += 1;
      worker_of[i] = w;
    });
    for (std::size_t i = 0; i < runs.size(); ++i) {
      EXPECT_EQ(runs[i], 1) << "item " << i;
      EXPECT_LT(worker_of[i], std::max<std::size_t>(workers, 1));
    }
  }
}

TEST(ParallelFor, NoItemsRunsNothing) {
  bool called = false;
  parallel_for(0, 4, [&](std::size_t, std::size_t) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ParallelFor, WorkersBeyondTheItemsAreNotStarted) {
  std::atomic<std::size_t> highest{0};
  parallel_for(2, 16, [&](std::size_t w, std::size_t) {
    for (std::size_t h = highest; w > h && !highest.compare_exchange_weak(h, w);) {
    }
  });
  EXPECT_LT(highest.load(), 2u);
}

TEST(ParallelFor, RethrowsTheLowestFailedItemsError) {
  for (std::size_t workers : {1u, 4u}) {
    std::atomic<std::size_t> started{0};
    try {
      parallel_for(1000, workers, [&](std::size_t, std::size_t i) {
        started += 1;
        if (i == 3 || i == 5) throw std::runtime_error("item " + std::to_string(i));
      });
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "item 3");
    }
    // The workers stop taking items after the failure.
    EXPECT_LT(started.load(), 1000u);
  }
}

}  // namespace
