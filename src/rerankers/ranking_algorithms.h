// The ranking algorithms of the LLM strategies, over candidate indices 0..n-1 in first-stage order.
// They only ask a Asker (round_scheduler.h); what a question means (a listwise window, a set, a pair
// in both orders) is up to the strategy's answerer.
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

#include "rerankers/round_scheduler.h"

namespace rerank::llm {

// Picks the best of a group of candidates: the position in `group` of the winner.
using BestOf = std::function<std::size_t(Asker&, const std::vector<std::size_t>& group)>;

// Sliding windows from the bottom of the list to the top (RankGPT): each window is reordered by the
// asker's preference; consecutive windows overlap by window - stride, so after one pass the top
// `stride` candidates are the best of the whole list when the asker is perfect. Window count per pass:
// 1 + ceil(max(0, n - window) / stride).
Ordering sliding_windows(Asker& asker, std::size_t n, std::size_t window, std::size_t stride, int passes);

// Heapsort top-k with a heap of `children` children per node; each heapify step asks best_of(parent
// and its children). The top k come out in order, the rest follow in first-stage order.
Ordering heap_top_k(Asker& asker, std::size_t n, std::size_t k, std::size_t children, const BestOf& best_of);

// Bubble-sort top-k: k passes of a window of children + 1 candidates sliding from the bottom up with
// an overlap of one, carrying the best so far upwards. The rest follows in its current order.
Ordering bubble_top_k(Asker& asker, std::size_t n, std::size_t k, std::size_t children,
                      const BestOf& best_of);

// PRP: the probability that `a` is more relevant than `b`, asking both orders (a, b) and (b, a) in
// one round. Each answer holds the logits of the labels of the first and second passage shown.
double prp_beats(Asker& asker, std::size_t a, std::size_t b);

// PRP all pairs: n(n-1) prompts in one round; candidate i scores the sum over j of P(i beats j).
// More than kMaxAllPairCandidates candidates are refused (rerank::InvalidInput).
inline constexpr std::size_t kMaxAllPairCandidates = 1000;
Ordering prp_all_pairs(Asker& asker, std::size_t n);

// Best of a group by pairwise comparisons (PRP heapsort / sliding).
std::size_t prp_best_of(Asker& asker, const std::vector<std::size_t>& group);

// Best of a group by one setwise question: the highest preference, the first on ties.
std::size_t setwise_best_of(Asker& asker, const std::vector<std::size_t>& group);

}  // namespace rerank::llm
