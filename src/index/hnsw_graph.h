// The HNSW graph (Malkov & Yashunin 2018) as rerank.cpp stores and walks it, laid out as FAISS lays
// out its own: level 0 gives every node 2M link slots, each upper level M, unused slots hold kNone.
// The walks here serve both insertion (hnsw_build.cpp, which reads links under locks) and search
// (hnsw_index.cpp, over the memory-mapped file): the caller says how links are read.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "index/hnsw_scorer.h"

namespace rerank::hnsw {

constexpr std::uint32_t kNone = 0xFFFFFFFFu;
constexpr std::size_t kMaxLinks = 2048;  // 2M for the largest M accepted (1024)

// Where each node's link lists are.
struct LinkLayout {
  std::uint32_t m = 0, m0 = 0;                 // slots per upper level, slots at level 0
  const std::uint8_t* levels = nullptr;        // each node's top level
  const std::uint32_t* upper_start = nullptr;  // each node's first upper block (if it has one)
  std::size_t capacity(int level) const { return level == 0 ? m0 : m; }
  std::size_t offset(std::uint32_t node, int level) const {  // into level 0 or into the upper blocks
    return level == 0 ? std::size_t{node} * m0 : (std::size_t{upper_start[node]} + level - 1) * m;
  }
};

struct Scored {
  float score;
  std::uint32_t id;
};
// Higher score first, then lower id: a total order, so walks do not depend on heap internals.
inline bool better(const Scored& a, const Scored& b) {
  return a.score != b.score ? a.score > b.score : a.id < b.id;
}

// Marks of the nodes one walk has seen; reused across walks by bumping the generation.
class Visited {
 public:
  void begin(std::size_t nodes) {
    if (marks_.size() != nodes) {
      marks_.assign(nodes, 0);
      generation_ = 0;
    }
    if (++generation_ == 0) {
      std::fill(marks_.begin(), marks_.end(), 0);
      generation_ = 1;
    }
  }
  bool first_visit(std::uint32_t node) {
    if (marks_[node] == generation_) return false;
    marks_[node] = generation_;
    return true;
  }

 private:
  std::vector<std::uint16_t> marks_;
  std::uint16_t generation_ = 0;
};

// Copies a link list (up to its first empty slot) to `out`; returns how many links it holds.
inline std::size_t copy_links(const std::uint32_t* list, std::size_t capacity, std::uint32_t* out) {
  std::size_t n = 0;
  for (; n < capacity && list[n] != kNone; ++n) out[n] = list[n];
  return n;
}

// Scores the unvisited among `links`, four at a time, and hands each to `take`.
template <typename Take>
void score_unvisited(const RowScorer& scorer, const float* query, const std::uint32_t* links, std::size_t n,
                     Visited& visited, Take&& take) {
  std::uint32_t todo[kMaxLinks];
  std::size_t t = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (visited.first_visit(links[i])) {
      scorer.prefetch(links[i]);
      todo[t++] = links[i];
    }
  float scores[4];
  std::size_t i = 0;
  for (; i + 4 <= t; i += 4) {
    scorer.score4(query, todo + i, scores);
    for (int j = 0; j < 4; ++j) take(Scored{scores[j], todo[i + j]});
  }
  for (; i < t; ++i) take(Scored{scorer.score(query, todo[i]), todo[i]});
}

// Greedy descent on one upper level: moves to the best neighbour while one is better.
template <typename ReadLinks>
Scored greedy_step(const RowScorer& scorer, const float* query, int level, Scored at, ReadLinks&& read_links,
                   Visited& visited) {
  std::uint32_t links[kMaxLinks];
  for (std::uint32_t from = kNone; from != at.id;) {
    from = at.id;
    const std::size_t n = read_links(from, level, links);
    visited.begin(scorer.rows());  // greedy steps may look at a node again from another node
    score_unvisited(scorer, query, links, n, visited, [&](Scored s) {
      if (better(s, at)) at = s;
    });
  }
  return at;
}

// Beam search of one level from `found` (scored entry points, already marked in `visited`) with a
// beam of `ef`; leaves the up to `ef` best nodes seen in `found`, in no order.
template <typename ReadLinks>
void search_level(const RowScorer& scorer, const float* query, int level, std::size_t ef,
                  ReadLinks&& read_links, Visited& visited, std::vector<Scored>& found) {
  auto worse_on_top = [](const Scored& a, const Scored& b) { return better(a, b); };
  auto best_on_top = [](const Scored& a, const Scored& b) { return better(b, a); };
  thread_local std::vector<Scored> candidates;  // reused: a walk must not allocate
  candidates.assign(found.begin(), found.end());
  std::make_heap(candidates.begin(), candidates.end(), best_on_top);
  std::vector<Scored>& results = found;
  std::make_heap(results.begin(), results.end(), worse_on_top);
  while (results.size() > ef) {
    std::pop_heap(results.begin(), results.end(), worse_on_top);
    results.pop_back();
  }
  std::uint32_t links[kMaxLinks];
  while (!candidates.empty()) {
    const Scored next = candidates.front();
    if (results.size() >= ef && better(results.front(), next)) break;
    std::pop_heap(candidates.begin(), candidates.end(), best_on_top);
    candidates.pop_back();
    const std::size_t n = read_links(next.id, level, links);
    score_unvisited(scorer, query, links, n, visited, [&](Scored s) {
      if (results.size() >= ef && !better(s, results.front())) return;
      candidates.push_back(s);
      std::push_heap(candidates.begin(), candidates.end(), best_on_top);
      results.push_back(s);
      std::push_heap(results.begin(), results.end(), worse_on_top);
      if (results.size() > ef) {
        std::pop_heap(results.begin(), results.end(), worse_on_top);
        results.pop_back();
      }
    });
  }
}

// A graph as insertion leaves it, before it is written.
struct BuiltGraph {
  std::uint32_t m = 0, m0 = 0, ef_construction = 0;
  std::uint32_t entry = kNone;
  std::int32_t max_level = -1;
  std::vector<std::uint8_t> levels;
  std::vector<std::uint32_t> upper_start, level0, upper;
};

// Inserts every row (hnsw_build.cpp). With one thread the graph depends on nothing but the rows and
// the options.
BuiltGraph build_graph(const VectorSet& vectors, const HnswOptions& options);

}  // namespace rerank::hnsw
