// Building the HNSW graph by insertion, the way FAISS's HNSW does it:
// - each row draws its top level (geometric, a level up with probability 1/M), from a fixed seed;
// - rows are inserted from the highest level down, shuffled within a level, so the first row is the
//   entry point throughout and threads only ever insert rows of one level at a time;
// - a row finds candidates by beam search (ef_construction) on each of its levels and keeps up to 2M
//   at level 0 and M above by the pruning heuristic: a candidate is kept only if it is nearer the
//   row than to every neighbour kept before it, which keeps links spread in all directions;
// - each kept neighbour links back; a neighbour whose list is full is pruned the same way.
// Threads take one node's (striped) lock at a time, to copy or change its links, so none can wait on
// another while holding one.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "index/hnsw_graph.h"
#include "rerank/parallel.h"

namespace rerank::hnsw {

namespace {

constexpr int kTopLevel = 32;
constexpr std::uint32_t kSeed = 20261129;

// One worker's buffers, reused from row to row.
struct Scratch {
  Visited visited;
  std::vector<float> row, candidate, neighbour;
  std::vector<Scored> found, pruned, chosen;
};

class Builder {
 public:
  Builder(const VectorSet& vectors, const HnswOptions& options)
      : options_(options),
        scorer_(vectors),
        stripes_(std::clamp<std::size_t>(vectors.num_rows(), 1, 1 << 16)),
        locks_(new std::mutex[stripes_]) {}

  BuiltGraph run();

 private:
  void draw_levels();
  std::vector<std::uint32_t> insertion_order() const;
  void insert(std::uint32_t node, Scratch& s);
  std::size_t read_links(std::uint32_t node, int level, std::uint32_t* out);
  std::uint32_t* links_of(std::uint32_t node, int level) {
    return (level == 0 ? g_.level0.data() : g_.upper.data()) + layout_.offset(node, level);
  }
  void keep_diverse(const std::vector<Scored>& best_first, std::size_t max, std::vector<Scored>& kept,
                    std::vector<float>& buffer) const;
  void add_link(std::uint32_t from, Scored to, int level, Scratch& s);
  std::mutex& lock_of(std::uint32_t node) { return locks_[node % stripes_]; }

  HnswOptions options_;
  RowScorer scorer_;
  std::size_t stripes_;
  std::unique_ptr<std::mutex[]> locks_;
  BuiltGraph g_;
  LinkLayout layout_;
};

void Builder::draw_levels() {
  std::mt19937 rng(kSeed);
  const double per_level = 1.0 / std::log(static_cast<double>(g_.m));
  g_.levels.resize(scorer_.rows());
  g_.upper_start.assign(scorer_.rows(), 0);
  std::uint32_t blocks = 0;
  for (std::size_t i = 0; i < g_.levels.size(); ++i) {
    const double u = (static_cast<double>(rng()) + 1.0) / 4294967296.0;  // (0, 1]
    const int level = std::min(kTopLevel, static_cast<int>(-std::log(u) * per_level));
    g_.levels[i] = static_cast<std::uint8_t>(level);
    g_.upper_start[i] = level > 0 ? blocks : 0;
    blocks += static_cast<std::uint32_t>(level);
  }
  g_.level0.assign(g_.levels.size() * g_.m0, kNone);
  g_.upper.assign(std::size_t{blocks} * g_.m, kNone);
}

std::vector<std::uint32_t> Builder::insertion_order() const {
  std::vector<std::uint32_t> order(g_.levels.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937 rng(kSeed + 1);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return g_.levels[a] > g_.levels[b]; });
  return order;
}

std::size_t Builder::read_links(std::uint32_t node, int level, std::uint32_t* out) {
  std::lock_guard<std::mutex> hold(lock_of(node));
  return copy_links(links_of(node, level), layout_.capacity(level), out);
}

void Builder::keep_diverse(const std::vector<Scored>& best_first, std::size_t max, std::vector<Scored>& kept,
                           std::vector<float>& buffer) const {
  kept.clear();
  if (best_first.size() <= max) {
    kept = best_first;
    return;
  }
  for (const Scored& c : best_first) {
    const float* vector = scorer_.as_query(c.id, buffer);
    const bool nearer_to_a_kept_one = std::any_of(
        kept.begin(), kept.end(), [&](const Scored& k) { return scorer_.score(vector, k.id) > c.score; });
    if (nearer_to_a_kept_one) continue;
    kept.push_back(c);
    if (kept.size() >= max) break;
  }
}

void Builder::add_link(std::uint32_t from, Scored to, int level, Scratch& s) {
  std::lock_guard<std::mutex> hold(lock_of(from));
  std::uint32_t* list = links_of(from, level);
  const std::size_t cap = layout_.capacity(level);
  for (std::size_t i = 0; i < cap; ++i)
    if (list[i] == kNone || list[i] == to.id) {
      list[i] = to.id;
      return;
    }
  const float* vector = scorer_.as_query(from, s.neighbour);
  s.found.assign(1, to);
  for (std::size_t i = 0; i < cap; ++i) s.found.push_back({scorer_.score(vector, list[i]), list[i]});
  std::sort(s.found.begin(), s.found.end(), better);
  keep_diverse(s.found, cap, s.pruned, s.candidate);
  for (std::size_t i = 0; i < cap; ++i) list[i] = i < s.pruned.size() ? s.pruned[i].id : kNone;
}

void Builder::insert(std::uint32_t node, Scratch& s) {
  const float* query = scorer_.as_query(node, s.row);
  auto read = [this](std::uint32_t n, int level, std::uint32_t* out) { return read_links(n, level, out); };
  const int top = g_.levels[node];
  Scored at{scorer_.score(query, g_.entry), g_.entry};
  for (int level = g_.max_level; level > top; --level)
    at = greedy_step(scorer_, query, level, at, read, s.visited);
  std::vector<Scored> entry_points{at};
  for (int level = std::min(top, g_.max_level); level >= 0; --level) {
    s.visited.begin(scorer_.rows());
    s.visited.first_visit(node);
    for (const Scored& e : entry_points) s.visited.first_visit(e.id);
    search_level(scorer_, query, level, g_.ef_construction, read, s.visited, entry_points);
    std::sort(entry_points.begin(), entry_points.end(), better);
    keep_diverse(entry_points, layout_.capacity(level), s.chosen, s.candidate);
    {
      std::lock_guard<std::mutex> hold(lock_of(node));
      std::uint32_t* list = links_of(node, level);
      for (std::size_t i = 0; i < s.chosen.size(); ++i) list[i] = s.chosen[i].id;
    }
    for (const Scored& c : s.chosen) add_link(c.id, Scored{c.score, node}, level, s);
  }
}

BuiltGraph Builder::run() {
  g_.m = static_cast<std::uint32_t>(options_.m);
  g_.m0 = 2 * g_.m;
  g_.ef_construction = static_cast<std::uint32_t>(options_.ef_construction);
  draw_levels();
  layout_ = LinkLayout{g_.m, g_.m0, g_.levels.data(), g_.upper_start.data()};
  if (g_.levels.empty()) return std::move(g_);
  const auto order = insertion_order();
  g_.entry = order[0];
  g_.max_level = g_.levels[g_.entry];
  const unsigned threads =
      options_.threads ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<Scratch> scratch(threads);
  std::atomic<std::uint64_t> inserted{1};
  // Level by level, so that a row's upper neighbours are all in the graph before rows below start.
  for (std::size_t begin = 1; begin < order.size();) {
    std::size_t end = begin;
    while (end < order.size() && g_.levels[order[end]] == g_.levels[order[begin]]) ++end;
    detail::parallel_for(end - begin, threads, [&](std::size_t worker, std::size_t i) {
      insert(order[begin + i], scratch[worker]);
      const std::uint64_t done = ++inserted;
      if (options_.progress && done % 10000 == 0) options_.progress(done);
    });
    begin = end;
  }
  if (options_.progress) options_.progress(order.size());
  return std::move(g_);
}

}  // namespace

BuiltGraph build_graph(const VectorSet& vectors, const HnswOptions& options) {
  return Builder(vectors, options).run();
}

}  // namespace rerank::hnsw
