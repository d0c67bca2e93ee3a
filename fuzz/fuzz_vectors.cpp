// The dense stage's files opened from arbitrary bytes: a vector file (VectorSet::open) then read
// row by row and searched exactly, or an HNSW graph file (HnswIndex::open) over a fixed valid
// vector file, then searched. Control byte: bit 0 mends the container's checksums (as in
// fuzz_index), bit 1 chooses the graph. With RERANK_FUZZ_SEED_DIR set, initialisation writes seed
// inputs there: vector files in each precision and a graph over the fixed vectors.
#include <sys/stat.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "fuzz_input.h"
#include "rerank/vectors.h"

namespace {
constexpr std::size_t kDims = 8, kDocs = 64;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A small vector file (documents d0..d63, a few with two vectors), written deterministically.
void write_vectors(const std::string& path, rerank::VectorPrecision precision) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  rerank::VectorWriter writer(path, kDims, precision, "{\"model\":\"fuzz\"}", true);
  for (std::size_t d = 0; d < kDocs; ++d) {
    const std::size_t rows = d % 9 == 0 ? 2 : 1;
    std::vector<float> v(rows * kDims);
    for (float& x : v) x = normal(rng);
    writer.add("d" + std::to_string(d), v.data(), rows);
  }
  writer.finish();
}

struct Fixture {
  rerank::fuzz::ScratchFile vec{".vec"}, graph{".hnsw"};
  std::shared_ptr<const rerank::VectorSet> vectors;
  Fixture() {
    write_vectors(vec.path(), rerank::VectorPrecision::kF32);
    vectors = rerank::VectorSet::open(vec.path());
  }
};
Fixture& fixture() {
  static Fixture f;
  return f;
}

void write_seeds(const std::string& dir) {
  mkdir(dir.c_str(), 0755);
  auto seed = [&](const std::string& name, char control, const std::string& bytes) {
    std::ofstream(dir + "/" + name, std::ios::binary) << control << bytes;
  };
  const rerank::fuzz::ScratchFile tmp(".seed");
  for (const auto& [name, precision] :
       {std::pair{"f32", rerank::VectorPrecision::kF32}, std::pair{"f16", rerank::VectorPrecision::kF16},
        std::pair{"int8", rerank::VectorPrecision::kInt8}}) {
    write_vectors(tmp.path(), precision);
    seed(std::string("vectors-") + name, 1, read_file(tmp.path()));
  }
  rerank::HnswOptions options;
  options.m = 4;
  options.ef_construction = 16;
  rerank::HnswIndex::build(*fixture().vectors, tmp.path(), options);
  seed("graph", 3, read_file(tmp.path()));
}

std::vector<float> query(std::size_t dims) {
  std::vector<float> q(dims);
  for (std::size_t i = 0; i < dims; ++i) q[i] = static_cast<float>(i % 5) - 2.0f;
  return q;
}

void read_vectors(const std::string& path) {
  const auto v = rerank::VectorSet::open(path);
  for (std::uint32_t d = 0; d < v->num_docs(); ++d) {
    if (v->doc_id_rank(d) >= v->num_docs()) std::abort();
    (void)v->doc_id(d);
  }
  for (std::uint64_t r = 0; r < v->num_rows(); ++r)
    if (v->row_doc(r) >= v->num_docs()) std::abort();
  const std::vector<float> q = query(v->dims());
  const auto hits = rerank::search_exact(*v, q.data(), 1, 5, 1);
  for (const auto& hit : hits.at(0))
    if (hit.doc >= v->num_docs()) std::abort();
}

void read_graph(const std::string& path) {
  const auto graph = rerank::HnswIndex::open(path, fixture().vectors, 16);
  const std::vector<float> q = query(kDims);
  for (const auto& hit : graph->search(q.data(), 5))
    if (hit.doc >= kDocs) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("RERANK_FUZZ_SEED_DIR")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const rerank::fuzz::ScratchFile scratch(".input");
  const rerank::fuzz::Control input = rerank::fuzz::split_control(data, size);
  const std::uint8_t control = input.byte;
  const std::string_view payload = input.payload;
  std::string file(payload);
  if (control & 1) rerank::fuzz::mend_container_checksums(file);
  const std::string& path = scratch.write(file);
  rerank::fuzz::expect_clean_outcome([&] { (control & 2) ? read_graph(path) : read_vectors(path); });
  return 0;
}
