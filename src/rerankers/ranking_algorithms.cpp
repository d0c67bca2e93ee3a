#include "rerankers/ranking_algorithms.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace rerank::llm {
namespace {

std::vector<std::size_t> identity(std::size_t n) {
  std::vector<std::size_t> v(n);
  std::iota(v.begin(), v.end(), std::size_t{0});
  return v;
}

// The top candidates in the order found, then every other candidate in first-stage order.
Ordering top_then_rest(const std::vector<std::size_t>& top, std::size_t n) {
  Ordering o{top, {}};
  std::vector<bool> in_top(n, false);
  for (auto c : top) in_top[c] = true;
  for (std::size_t c = 0; c < n; ++c)
    if (!in_top[c]) o.order.push_back(c);
  return o;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

Ordering sliding_windows(Asker& asker, std::size_t n, std::size_t window, std::size_t stride, int passes) {
  std::vector<std::size_t> order = identity(n);
  if (n < 2) return {order, {}};
  for (int pass = 0; pass < passes; ++pass) {
    std::size_t end = n;
    while (true) {
      const std::size_t start = end > window ? end - window : 0;
      if (end - start < 2) break;  // a window of one passage has nothing to order
      Shown shown(order.begin() + static_cast<std::ptrdiff_t>(start),
                  order.begin() + static_cast<std::ptrdiff_t>(end));
      const Preference pref = asker.ask(shown);
      std::vector<std::size_t> pos = identity(shown.size());
      // Stable: on equal preference the earlier (better-ranked so far) passage stays first.
      std::stable_sort(pos.begin(), pos.end(),
                       [&](std::size_t a, std::size_t b) { return pref[a] > pref[b]; });
      for (std::size_t i = 0; i < pos.size(); ++i) order[start + i] = shown[pos[i]];
      if (start == 0) break;
      end -= stride;
    }
  }
  return {order, {}};
}

Ordering heap_top_k(Asker& asker, std::size_t n, std::size_t k, std::size_t children, const BestOf& best_of) {
  std::vector<std::size_t> arr = identity(n);
  auto heapify = [&](std::size_t i, std::size_t size) {
    while (true) {
      const std::size_t first = children * i + 1;
      if (first >= size) return;
      const std::size_t last = std::min(first + children, size);
      std::vector<std::size_t> group{arr[i]};
      group.insert(group.end(), arr.begin() + static_cast<std::ptrdiff_t>(first),
                   arr.begin() + static_cast<std::ptrdiff_t>(last));
      const std::size_t best = best_of(asker, group);
      if (best == 0) return;
      const std::size_t child = first + best - 1;
      std::swap(arr[i], arr[child]);
      i = child;
    }
  };
  if (n > 1)
    for (std::size_t i = (n - 2) / children + 1; i-- > 0;) heapify(i, n);
  std::vector<std::size_t> top;
  std::size_t size = n;
  for (std::size_t r = 0; r < k && size > 0; ++r) {
    top.push_back(arr[0]);
    arr[0] = arr[size - 1];
    --size;
    if (r + 1 < k && size > 1) heapify(0, size);
  }
  return top_then_rest(top, n);
}

Ordering bubble_top_k(Asker& asker, std::size_t n, std::size_t k, std::size_t children,
                      const BestOf& best_of) {
  std::vector<std::size_t> arr = identity(n);
  const std::size_t width = children + 1;
  for (std::size_t i = 0; i < k && i + 1 < n; ++i) {
    std::size_t end = n;
    while (true) {
      const std::size_t start = std::max(end >= width ? end - width : 0, i);
      std::vector<std::size_t> group(arr.begin() + static_cast<std::ptrdiff_t>(start),
                                     arr.begin() + static_cast<std::ptrdiff_t>(end));
      const std::size_t best = best_of(asker, group);
      std::swap(arr[start], arr[start + best]);
      if (start == i) break;
      end = start + 1;  // the best so far, now at `start`, opens the next window
    }
  }
  return {arr, {}};
}

double prp_beats(Asker& asker, std::size_t a, std::size_t b) {
  const auto answers = asker.ask(std::vector<Shown>{{a, b}, {b, a}});
  const double a_first = sigmoid(answers[0][0] - answers[0][1]);   // a shown as Passage A
  const double a_second = sigmoid(answers[1][1] - answers[1][0]);  // a shown as Passage B
  return 0.5 * (a_first + a_second);
}

Ordering prp_all_pairs(Asker& asker, std::size_t n) {
  // The prompts and their answers are held at once: 10,000 candidates would need 10^8 of each
  // (gigabytes before the first forward pass), and days of compute.
  if (n > kMaxAllPairCandidates)
    throw InvalidInput("pairwise allpair asks about every ordered pair: " + std::to_string(n) +
                       " candidates would take " + std::to_string(n * (n - 1)) + " prompts (at most " +
                       std::to_string(kMaxAllPairCandidates) +
                       " candidates); use variant heapsort or sliding, or rerank fewer candidates");
  std::vector<Shown> prompts;
  prompts.reserve(n * (n > 0 ? n - 1 : 0));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      prompts.push_back({i, j});
      prompts.push_back({j, i});
    }
  const auto answers = asker.ask(prompts);
  std::vector<double> score(n, 0.0);
  std::size_t p = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j, p += 2) {
      const double i_beats_j =
          0.5 * (sigmoid(answers[p][0] - answers[p][1]) + sigmoid(answers[p + 1][1] - answers[p + 1][0]));
      score[i] += i_beats_j;
      score[j] += 1.0 - i_beats_j;
    }
  std::vector<std::size_t> order = identity(n);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  return {order, score};
}

std::size_t prp_best_of(Asker& asker, const std::vector<std::size_t>& group) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < group.size(); ++i)
    if (prp_beats(asker, group[i], group[best]) > 0.5) best = i;
  return best;
}

std::size_t setwise_best_of(Asker& asker, const std::vector<std::size_t>& group) {
  const Preference pref = asker.ask(group);
  std::size_t best = 0;
  for (std::size_t i = 1; i < pref.size(); ++i)
    if (pref[i] > pref[best]) best = i;
  return best;
}

}  // namespace rerank::llm
