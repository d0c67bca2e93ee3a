// The HNSW graph file of a vector file, and search over it. The file is the index's checksummed
// container (section_file.h) with five sections: parameters (with the vector file's checksum), each
// node's top level, where each node's upper links start, the level-0 link slots and the upper link
// slots. Opening maps it and checks every link before any walk trusts one; the walk then reads the
// mapping directly, and the vectors stay in the vector file's own mapping (no copies).
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "index/hnsw_graph.h"
#include "index/section_file.h"
#include "rerank/error.h"
#include "rerank/vectors.h"

namespace rerank {

namespace {

using hnsw::kNone;
using hnsw::Scored;

enum : std::uint32_t { kParams = 1, kLevels, kUpperStart, kLevel0, kUpper, kSectionCount = kUpper };
const index_format::ContainerFormat kGraphFormat{"RRHNSW\r\n", 2, kSectionCount, "HNSW graph",
                                                 "rebuild it with `rerank index --embed ... --hnsw`"};

struct Params {
  std::uint64_t count;
  std::uint32_t m, m0, ef_construction, entry;
  std::int32_t max_level;
  std::uint32_t vectors_checksum;
};
static_assert(sizeof(Params) == 32);

void write_graph(const hnsw::BuiltGraph& g, std::uint32_t vectors_checksum, const std::string& path) {
  const Params p{g.levels.size(), g.m, g.m0, g.ef_construction, g.entry, g.max_level, vectors_checksum};
  index_format::SectionWriter sections;
  sections.memory(kParams, std::string(reinterpret_cast<const char*>(&p), sizeof(p)));
  sections.memory(kLevels, g.levels);
  sections.memory(kUpperStart, g.upper_start);
  sections.memory(kLevel0, g.level0);
  sections.memory(kUpper, g.upper);
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  try {
    sections.write(temp, kGraphFormat);
    std::filesystem::rename(temp, path);
  } catch (const std::exception& e) {
    std::filesystem::remove(temp, ec);
    throw Error("cannot write " + path + ": " + e.what());
  }
}

}  // namespace

struct HnswIndex::Impl {
  std::shared_ptr<const VectorSet> vectors;
  std::unique_ptr<index_format::MappedContainer> file;
  std::unique_ptr<hnsw::RowScorer> scorer;
  Params params{};
  hnsw::LinkLayout layout;
  const std::uint32_t* level0 = nullptr;
  const std::uint32_t* upper = nullptr;
  std::size_t ef_search = 1;

  void check();
  std::size_t read_links(std::uint32_t node, int level, std::uint32_t* out) const {
    return hnsw::copy_links((level == 0 ? level0 : upper) + layout.offset(node, level),
                            layout.capacity(level), out);
  }
};

void HnswIndex::Impl::check() {
  const auto& s = file->sections();
  auto corrupt = [&](const std::string& what) { file->corrupt(what); };
  if (s[kParams].second != sizeof(Params)) corrupt("bad parameters section");
  std::memcpy(&params, s[kParams].first, sizeof(Params));
  if (params.vectors_checksum != vectors->checksum())
    throw Error(file->path() + ": this HNSW graph was built over other vectors than " + vectors->path() +
                "; rebuild it with `rerank index --embed ... --hnsw`");
  const std::uint64_t n = params.count;
  if (n != vectors->num_rows() || params.m < 2 || params.m > 1024 || params.m0 != 2 * params.m)
    corrupt("bad parameters");
  if (s[kLevels].second != n || s[kUpperStart].second != 4 * n || s[kLevel0].second != 4 * n * params.m0)
    corrupt("section sizes do not match the graph");
  const auto* levels = s[kLevels].first;
  const auto* upper_start = reinterpret_cast<const std::uint32_t*>(s[kUpperStart].first);
  std::uint64_t blocks = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (levels[i] > params.max_level) corrupt("node " + std::to_string(i) + " is above the top level");
    if (levels[i] > 0 && upper_start[i] != blocks) corrupt("bad upper links of node " + std::to_string(i));
    blocks += levels[i];
  }
  if (s[kUpper].second != 4 * blocks * params.m) corrupt("section sizes do not match the graph");
  if (n > 0 && (params.entry >= n || levels[params.entry] != params.max_level)) corrupt("bad entry point");
  level0 = reinterpret_cast<const std::uint32_t*>(s[kLevel0].first);
  upper = reinterpret_cast<const std::uint32_t*>(s[kUpper].first);
  layout = hnsw::LinkLayout{params.m, params.m0, levels, upper_start};
  for (std::uint64_t i = 0; i < n * params.m0; ++i)
    if (level0[i] >= n && level0[i] != kNone) corrupt("a link points outside the graph");
  // A link of level l must lead to a node that has level l: search reads the target's links at l,
  // and a node below l has no such block (a forged graph made search read outside the file).
  for (std::uint64_t node = 0; node < n; ++node)
    for (int level = 1; level <= levels[node]; ++level) {
      const std::uint32_t* links = upper + layout.offset(static_cast<std::uint32_t>(node), level);
      for (std::uint32_t j = 0; j < params.m; ++j)
        if (links[j] != kNone && (links[j] >= n || levels[links[j]] < level))
          corrupt("a link of level " + std::to_string(level) + " points to a node without that level");
    }
}

HnswIndex::HnswIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HnswIndex::~HnswIndex() = default;

void HnswIndex::build(const VectorSet& vectors, const std::string& path, const HnswOptions& options) {
  if (options.m < 2 || options.m > 1024) throw Error("HNSW m must be within 2..1024");
  if (options.ef_construction < 1) throw Error("HNSW ef_construction must be positive");
  if (vectors.num_rows() >= kNone) throw Error("HNSW graphs hold fewer than 2^32 - 1 vectors");
  write_graph(hnsw::build_graph(vectors, options), vectors.checksum(), path);
}

std::shared_ptr<const HnswIndex> HnswIndex::open(const std::string& path,
                                                 std::shared_ptr<const VectorSet> vectors,
                                                 std::size_t ef_search) {
  auto impl = std::make_unique<Impl>();
  impl->vectors = std::move(vectors);
  impl->file = std::make_unique<index_format::MappedContainer>(
      path, kGraphFormat, path + ": no HNSW graph (build one with `rerank index --embed ... --hnsw`)");
  impl->check();
  impl->scorer = std::make_unique<hnsw::RowScorer>(*impl->vectors);
  impl->ef_search = std::max<std::size_t>(ef_search, 1);
  return std::shared_ptr<const HnswIndex>(new HnswIndex(std::move(impl)));
}

std::vector<VectorHit> HnswIndex::search(const float* query, std::size_t k) const {
  const Impl& g = *impl_;
  const VectorSet& v = *g.vectors;
  std::vector<VectorHit> hits;
  if (k == 0 || v.num_rows() == 0) return hits;
  const std::size_t keep = std::min<std::uint64_t>(v.num_rows(), std::uint64_t{k} * v.max_rows_per_doc());
  auto read = [&g](std::uint32_t node, int level, std::uint32_t* out) {
    return g.read_links(node, level, out);
  };
  thread_local hnsw::Visited visited;
  Scored at{g.scorer->score(query, g.params.entry), g.params.entry};
  for (int level = g.params.max_level; level > 0; --level)
    at = hnsw::greedy_step(*g.scorer, query, level, at, read, visited);
  visited.begin(v.num_rows());
  visited.first_visit(at.id);
  const std::size_t ef = std::max(g.ef_search, keep);
  std::vector<Scored> found;
  found.reserve(ef + 1);
  found.push_back(at);
  hnsw::search_level(*g.scorer, query, 0, ef, read, visited, found);
  std::sort(found.begin(), found.end(), [&](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    return v.doc_id_rank(v.row_doc(a.id)) < v.doc_id_rank(v.row_doc(b.id));
  });
  for (const Scored& r : found) {
    const std::uint32_t doc = v.row_doc(r.id);
    if (std::any_of(hits.begin(), hits.end(), [&](const VectorHit& h) { return h.doc == doc; })) continue;
    hits.push_back({doc, r.score});
    if (hits.size() == k) break;
  }
  return hits;
}

}  // namespace rerank
