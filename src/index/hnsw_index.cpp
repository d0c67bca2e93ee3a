// The HNSW graph of a vector file, on hnswlib (Debian's libhnswlib-dev, header only). hnswlib is
// given a "space" whose distance is the negated inner product of two stored rows in the file's own
// precision, so the graph holds rows as the vector file does; an opened graph swaps in the distance
// from an F32 query to a stored row. The graph is saved in a format of our
// own that holds only the links (the vectors come from the vector file when it is opened) and is
// checked completely before hnswlib sees it: hnswlib's own loader trusts its input.
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "index/format.h"
#include "rerank/atomic_file.h"
#include "rerank/error.h"
#include "rerank/parallel.h"
#include "rerank/vectors.h"

namespace rerank {

namespace {

constexpr char kMagic[8] = {'R', 'R', 'H', 'N', 'S', 'W', '\r', '\n'};
constexpr std::uint32_t kVersion = 1;
using Graph = hnswlib::HierarchicalNSW<float>;

#define RERANK_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

// Inner products with 32 independent partial sums (enough to keep two FMA units busy through their
// latency), summed as a tree: a serial sum of the lanes would cost as much as the products.
template <typename A, typename B>
inline float lanes_dot(const A* a, const B* b, std::size_t n) {
  constexpr std::size_t kLanes = 32;
  float lanes[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (std::size_t j = 0; j < kLanes; ++j)
      lanes[j] += static_cast<float>(a[i + j]) * static_cast<float>(b[i + j]);
  for (std::size_t width = kLanes / 2; width > 0; width /= 2)
    for (std::size_t j = 0; j < width; ++j) lanes[j] += lanes[j + width];
  float sum = lanes[0];
  for (; i < n; ++i) sum += static_cast<float>(a[i]) * static_cast<float>(b[i]);
  return sum;
}

RERANK_CLONES float dot_f32(const float* a, const float* b, std::size_t n) { return lanes_dot(a, b, n); }
RERANK_CLONES float dot_f16(const _Float16* a, const _Float16* b, std::size_t n) {
  return lanes_dot(a, b, n);
}
RERANK_CLONES float dot_f32_f16(const float* a, const _Float16* b, std::size_t n) {
  return lanes_dot(a, b, n);
}
RERANK_CLONES float dot_f32_i8(const float* a, const std::int8_t* b, std::size_t n) {
  return lanes_dot(a, b, n);
}

RERANK_CLONES std::int32_t dot_i8(const std::int8_t* a, const std::int8_t* b, std::size_t n) {
  std::int32_t sum = 0;
  for (std::size_t i = 0; i < n; ++i)
    sum += static_cast<std::int32_t>(a[i]) * static_cast<std::int32_t>(b[i]);
  return sum;
}

std::size_t dims_of(const void* param) { return *static_cast<const std::size_t*>(param); }

// Between two stored rows (building the graph).
float distance_f32(const void* a, const void* b, const void* dims) {
  return -dot_f32(static_cast<const float*>(a), static_cast<const float*>(b), dims_of(dims));
}
float distance_f16(const void* a, const void* b, const void* dims) {
  return -dot_f16(static_cast<const _Float16*>(a), static_cast<const _Float16*>(b), dims_of(dims));
}
float distance_i8(const void* a, const void* b, const void* dims) {
  float sa, sb;
  std::memcpy(&sa, a, 4);
  std::memcpy(&sb, b, 4);
  const auto* pa = static_cast<const std::int8_t*>(a) + 4;
  const auto* pb = static_cast<const std::int8_t*>(b) + 4;
  return -sa * sb * static_cast<float>(dot_i8(pa, pb, dims_of(dims)));
}

// Between an F32 query and a stored row (searching: hnswlib passes the query first), so the query
// is never rounded and its distances are its exact-search scores.
float query_distance_f16(const void* q, const void* row, const void* dims) {
  return -dot_f32_f16(static_cast<const float*>(q), static_cast<const _Float16*>(row), dims_of(dims));
}
float query_distance_i8(const void* q, const void* row, const void* dims) {
  float scale;
  std::memcpy(&scale, row, 4);
  const auto* p = static_cast<const std::int8_t*>(row) + 4;
  return -scale * dot_f32_i8(static_cast<const float*>(q), p, dims_of(dims));
}

hnswlib::DISTFUNC<float> query_distance(VectorPrecision precision) {
  return precision == VectorPrecision::kF32   ? distance_f32
         : precision == VectorPrecision::kF16 ? query_distance_f16
                                              : query_distance_i8;
}

// Rows of a vector file as hnswlib sees them.
class RowSpace : public hnswlib::SpaceInterface<float> {
 public:
  RowSpace(VectorPrecision precision, std::size_t dims)
      : dims_(dims),
        bytes_(vector_row_bytes(precision, dims)),
        distance_(precision == VectorPrecision::kF32   ? distance_f32
                  : precision == VectorPrecision::kF16 ? distance_f16
                                                       : distance_i8) {}
  std::size_t get_data_size() override { return bytes_; }
  hnswlib::DISTFUNC<float> get_dist_func() override { return distance_; }
  void* get_dist_func_param() override { return &dims_; }

 private:
  std::size_t dims_, bytes_;
  hnswlib::DISTFUNC<float> distance_;
};

struct Header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t vectors_checksum;
  std::uint64_t count, m, max_m0, ef_construction;
  std::int32_t max_level;
  std::uint32_t entry_point;
};
static_assert(sizeof(Header) == 56);

void append(std::string& out, const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); }

std::string serialize(const Graph& g, std::uint32_t vectors_checksum) {
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kVersion;
  h.vectors_checksum = vectors_checksum;
  h.count = g.cur_element_count;
  h.m = g.maxM_;
  h.max_m0 = g.maxM0_;
  h.ef_construction = g.ef_construction_;
  h.max_level = g.maxlevel_;
  h.entry_point = g.enterpoint_node_;
  std::string out;
  append(out, &h, sizeof(h));
  for (std::size_t i = 0; i < h.count; ++i)
    append(out, g.get_linklist0(static_cast<hnswlib::tableint>(i)), g.size_links_level0_);
  for (std::size_t i = 0; i < h.count; ++i) {
    const auto level = static_cast<std::uint32_t>(g.element_levels_[i]);
    append(out, &level, 4);
  }
  for (std::size_t i = 0; i < h.count; ++i)
    if (g.element_levels_[i] > 0)
      append(out, g.linkLists_[i], g.size_links_per_element_ * g.element_levels_[i]);
  const std::uint32_t crc = index_format::crc32_update(0, out.data(), out.size());
  append(out, &crc, 4);
  return out;
}

}  // namespace

struct HnswIndex::Impl {
  std::shared_ptr<const VectorSet> vectors;
  std::unique_ptr<RowSpace> space;
  std::unique_ptr<Graph> graph;
  std::string path;

  [[noreturn]] void corrupt(const std::string& what) const {
    throw Error(path + ": corrupt HNSW graph (" + what +
                "); rebuild it with `rerank index --embed ... --hnsw`");
  }
  // Checks one link list (a count word, then ids) and returns its words.
  void check_links(const std::uint32_t* list, std::size_t capacity, std::uint64_t count,
                   std::size_t node) const {
    const std::uint32_t n = list[0];
    if (n > capacity) corrupt("node " + std::to_string(node) + " has " + std::to_string(n) + " links");
    for (std::uint32_t j = 1; j <= n; ++j)
      if (list[j] >= count) corrupt("node " + std::to_string(node) + " links outside the graph");
  }
  void load(const std::string& bytes);
};

void HnswIndex::Impl::load(const std::string& bytes) {
  if (bytes.size() < sizeof(Header) + 4) corrupt("file is truncated");
  Header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  if (std::memcmp(h.magic, kMagic, 8) != 0) throw Error(path + ": not a rerank.cpp HNSW graph (bad magic)");
  if (h.version != kVersion)
    throw Error(path + ": HNSW graph format version " + std::to_string(h.version) +
                " is not supported (this build reads " + std::to_string(kVersion) + "); rebuild it");
  std::uint32_t crc;
  std::memcpy(&crc, bytes.data() + bytes.size() - 4, 4);
  if (index_format::crc32_update(0, bytes.data(), bytes.size() - 4) != crc) corrupt("checksum mismatch");
  if (h.vectors_checksum != vectors->checksum())
    throw Error(path + ": this HNSW graph was built over other vectors than " + vectors->path() +
                "; rebuild it with `rerank index --embed ... --hnsw`");
  if (h.count != vectors->num_rows() || h.m < 2 || h.m > 1024 || h.max_m0 != 2 * h.m) corrupt("bad header");
  const std::size_t words0 = h.max_m0 + 1, words = h.m + 1;
  const std::uint64_t fixed = sizeof(Header) + h.count * (words0 + 1) * 4 + 4;
  if (bytes.size() < fixed) corrupt("file is truncated");
  const auto* level0 = reinterpret_cast<const std::uint32_t*>(bytes.data() + sizeof(Header));
  const std::uint32_t* levels = level0 + h.count * words0;
  std::uint64_t upper_words = 0;
  for (std::uint64_t i = 0; i < h.count; ++i) {
    if (levels[i] > 64 || static_cast<std::int64_t>(levels[i]) > h.max_level) corrupt("bad node level");
    upper_words += levels[i] * words;
  }
  if (bytes.size() != fixed + upper_words * 4) corrupt("file size does not match its graph");
  if (h.count > 0 &&
      (h.entry_point >= h.count || static_cast<std::int64_t>(levels[h.entry_point]) != h.max_level))
    corrupt("bad entry point");

  space = std::make_unique<RowSpace>(vectors->precision(), vectors->dims());
  graph = std::make_unique<Graph>(space.get(), std::max<std::uint64_t>(h.count, 1), h.m, h.ef_construction);
  Graph& g = *graph;
  const std::uint32_t* upper = levels + h.count;
  for (std::uint64_t i = 0; i < h.count; ++i) {
    const auto node = static_cast<hnswlib::tableint>(i);
    check_links(level0 + i * words0, h.max_m0, h.count, i);
    std::memcpy(g.get_linklist0(node), level0 + i * words0, words0 * 4);
    std::memcpy(g.getDataByInternalId(node), vectors->row(i), g.data_size_);
    g.setExternalLabel(node, i);
    g.element_levels_[i] = static_cast<int>(levels[i]);
    g.linkLists_[i] = nullptr;
    if (levels[i] == 0) continue;
    for (std::uint32_t l = 0; l < levels[i]; ++l) check_links(upper + l * words, h.m, h.count, i);
    g.linkLists_[i] = static_cast<char*>(std::malloc(levels[i] * words * 4));
    if (!g.linkLists_[i]) throw Error(path + ": out of memory loading the HNSW graph");
    std::memcpy(g.linkLists_[i], upper, levels[i] * words * 4);
    upper += levels[i] * words;
    g.cur_element_count = i + 1;  // so that the destructor frees what is allocated so far
  }
  g.cur_element_count = h.count;
  g.maxlevel_ = h.max_level;
  g.enterpoint_node_ = h.entry_point;
}

HnswIndex::HnswIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HnswIndex::~HnswIndex() = default;

void HnswIndex::build(const VectorSet& vectors, const std::string& path, const HnswOptions& options) {
  if (options.m < 2 || options.m > 1024) throw Error("HNSW m must be within 2..1024");
  if (options.ef_construction < 1) throw Error("HNSW ef_construction must be positive");
  RowSpace space(vectors.precision(), vectors.dims());
  const std::uint64_t n = vectors.num_rows();
  Graph graph(&space, std::max<std::uint64_t>(n, 1), options.m, options.ef_construction, /*random_seed=*/100);
  unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  if (n > 0) graph.addPoint(vectors.row(0), 0);
  std::atomic<std::uint64_t> inserted{1};
  detail::parallel_for(n > 0 ? n - 1 : 0, threads, [&](std::size_t, std::size_t i) {
    graph.addPoint(vectors.row(i + 1), i + 1);
    const std::uint64_t done = ++inserted;
    if (options.progress && done % 10000 == 0) options.progress(done);
  });
  if (options.progress) options.progress(n);
  io::AtomicFile out(path);
  out.write(serialize(graph, vectors.checksum()));
  out.commit();
}

std::shared_ptr<const HnswIndex> HnswIndex::open(const std::string& path,
                                                 std::shared_ptr<const VectorSet> vectors,
                                                 std::size_t ef_search) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->vectors = std::move(vectors);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(
        path + ": no HNSW graph (build one with `rerank index --embed ... --hnsw`): " + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error("cannot read " + path);
  impl->load(bytes);
  impl->graph->ef_ = std::max<std::size_t>(ef_search, 1);
  // An opened graph only answers queries: every distance is from an F32 query to a stored row.
  impl->graph->fstdistfunc_ = query_distance(impl->vectors->precision());
  return std::shared_ptr<const HnswIndex>(new HnswIndex(std::move(impl)));
}

std::vector<VectorHit> HnswIndex::search(const float* query, std::size_t k) const {
  const VectorSet& v = *impl_->vectors;
  std::vector<VectorHit> hits;
  if (k == 0 || v.num_rows() == 0) return hits;
  const std::size_t keep = std::min<std::uint64_t>(v.num_rows(), std::uint64_t{k} * v.max_rows_per_doc());
  auto found = impl_->graph->searchKnn(query, keep);
  struct Row {
    float score;
    std::uint32_t doc;
  };
  std::vector<Row> rows;
  for (; !found.empty(); found.pop())
    rows.push_back({-found.top().first, v.row_doc(static_cast<std::uint64_t>(found.top().second))});
  std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    if (a.score != b.score) return a.score > b.score;
    return v.doc_id_rank(a.doc) < v.doc_id_rank(b.doc);
  });
  for (const auto& r : rows) {
    if (std::any_of(hits.begin(), hits.end(), [&](const VectorHit& h) { return h.doc == r.doc; })) continue;
    hits.push_back({r.doc, r.score});
    if (hits.size() == k) break;
  }
  return hits;
}

}  // namespace rerank
