// The rerank.cpp side of bench/dense_peers.sh: dense retrieval on a raw float32 collection through the
// library's public API only (rerank/vectors.h). Writes the vector file in the given precision, runs
// exact search over all queries as one batch on 1 and on N threads, builds the HNSW graph, then for
// each efSearch measures recall@k and queries per second with N threads (queries spread over the
// threads, one HnswIndex::search each) and single-query latency on one thread.
//
//   bench_dense_search --base base.f32 --queries queries.f32 --dims 384 --truth truth.i32 --out-dir DIR
//                      [--precision f32|f16|int8] [--threads 2] [--k 10] [--truth-k 100]
//                      [--hnsw-m 16] [--hnsw-ef-construction 100] [--hnsw-threads 2]
//                      [--ef 10,16,32,64,128,256] [--exact-rounds 1] [--rebuild] [--skip-exact] [--skip-hnsw]
//
// base.f32 / queries.f32: little-endian float32 rows of `dims` components; truth.i32: int32, for each
// query its `truth-k` exact nearest rows by inner product, best first. The vector file and the graph
// are kept in DIR (vectors-<precision>.rrv, hnsw-<precision>-m<M>-efc<EFC>-t<T>.rrh, each with a
// .json beside it holding how long it took to make) and reused by later runs unless --rebuild; their
// recorded times are reported with "cached": true. Document i is the i-th row of base.f32 (id
// "d<i, 9 digits>", so id order is row order).
//
// Prints one JSON object per line (stdout), "event" naming it: setup, write, open, exact (per thread
// count), hnsw_build, hnsw (per ef), done. Resident memory: rss_mb (now) and peak_rss_mb (the
// largest since the stage began: the kernel's peak is reset through /proc/self/clear_refs).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "rerank/parallel.h"
#include "rerank/vectors.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// User + system CPU seconds of this process so far: cpu_seconds / seconds is how many cores a stage kept
// busy.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// A read-only memory map of a whole file.
class Mapped {
 public:
  explicit Mapped(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      throw std::runtime_error(path + ": cannot stat");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (data_ == MAP_FAILED) {
        ::close(fd);
        throw std::runtime_error(path + ": cannot map: " + std::strerror(errno));
      }
    }
    ::close(fd);
  }
  ~Mapped() {
    if (data_ && data_ != MAP_FAILED) ::munmap(data_, size_);
  }
  Mapped(const Mapped&) = delete;
  Mapped& operator=(const Mapped&) = delete;
  const void* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

// VmRSS / VmHWM of this process, in MB.
double status_mb(const char* field) {
  std::ifstream in("/proc/self/status");
  const std::string key = std::string(field) + ":";
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size())) / 1024.0;
  return 0;
}
double rss_mb() { return status_mb("VmRSS"); }
double peak_rss_mb() { return status_mb("VmHWM"); }
// Resets VmHWM to the current RSS (Linux >= 4.0), so the next peak_rss_mb() is this stage's.
void reset_peak() { std::ofstream("/proc/self/clear_refs") << "5"; }

std::vector<std::size_t> parse_list(const std::string& s) {
  std::vector<std::size_t> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(std::stoul(item));
  if (out.empty()) throw std::runtime_error("empty list: " + s);
  return out;
}

// Mean over queries of |top-k found ∩ exact top-k| / k.
double recall_at(const std::vector<std::vector<rerank::VectorHit>>& found, const std::int32_t* truth,
                 std::size_t truth_k, std::size_t k) {
  double sum = 0;
  for (std::size_t q = 0; q < found.size(); ++q) {
    const std::int32_t* t = truth + q * truth_k;
    std::size_t hit = 0;
    for (std::size_t i = 0; i < std::min(k, found[q].size()); ++i)
      if (std::find(t, t + k, static_cast<std::int32_t>(found[q][i].doc)) != t + k) ++hit;
    sum += static_cast<double>(hit) / static_cast<double>(k);
  }
  return found.empty() ? 0 : sum / static_cast<double>(found.size());
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = p * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}
void write_json(const fs::path& p, const json& j) { std::ofstream(p) << j.dump() << "\n"; }

void emit(json j) {
  j["rss_mb"] = rss_mb();
  std::cout << j.dump() << std::endl;
}

// Reads every page of the file's map once, so that the timed runs start with it resident.
void touch(const rerank::VectorSet& v) {
  unsigned sum = 0;
  const std::size_t step = std::max<std::size_t>(1, 4096 / v.row_bytes());
  for (std::uint64_t r = 0; r < v.num_rows(); r += step) sum += v.row(r)[0];
  volatile unsigned sink = sum;
  (void)sink;
}

struct Args {
  std::string base, queries, truth, out_dir, precision = "f32";
  std::size_t dims = 0, threads = 2, k = 10, truth_k = 100, m = 16, efc = 100, hnsw_threads = 2,
              exact_rounds = 1;
  std::vector<std::size_t> ef{10, 16, 32, 64, 128, 256};
  bool rebuild = false, skip_exact = false, skip_hnsw = false;
};

const char* kUsage =
    "usage: bench_dense_search --base base.f32 --queries queries.f32 --dims D --truth truth.i32 --out-dir "
    "DIR\n"
    "       [--precision f32|f16|int8] [--threads 2] [--k 10] [--truth-k 100] [--hnsw-m 16]\n"
    "       [--hnsw-ef-construction 100] [--hnsw-threads 2] [--ef 10,16,32,64,128,256] [--exact-rounds 1]\n"
    "       [--rebuild] [--skip-exact] [--skip-hnsw]\n";

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "--rebuild") {
      a.rebuild = true;
      continue;
    }
    if (f == "--skip-exact") {
      a.skip_exact = true;
      continue;
    }
    if (f == "--skip-hnsw") {
      a.skip_hnsw = true;
      continue;
    }
    if (i + 1 >= argc) throw std::runtime_error(f + " needs a value");
    const std::string v = argv[++i];
    if (f == "--base")
      a.base = v;
    else if (f == "--queries")
      a.queries = v;
    else if (f == "--truth")
      a.truth = v;
    else if (f == "--out-dir")
      a.out_dir = v;
    else if (f == "--precision")
      a.precision = v;
    else if (f == "--dims")
      a.dims = std::stoul(v);
    else if (f == "--threads")
      a.threads = std::stoul(v);
    else if (f == "--k")
      a.k = std::stoul(v);
    else if (f == "--truth-k")
      a.truth_k = std::stoul(v);
    else if (f == "--hnsw-m")
      a.m = std::stoul(v);
    else if (f == "--hnsw-ef-construction")
      a.efc = std::stoul(v);
    else if (f == "--hnsw-threads")
      a.hnsw_threads = std::stoul(v);
    else if (f == "--ef")
      a.ef = parse_list(v);
    else if (f == "--exact-rounds")
      a.exact_rounds = std::max<std::size_t>(1, std::stoul(v));
    else
      throw std::runtime_error("unknown argument " + f);
  }
  if (a.base.empty() || a.queries.empty() || a.truth.empty() || a.out_dir.empty() || a.dims == 0)
    throw std::runtime_error("missing --base, --queries, --truth, --out-dir or --dims");
  if (a.k == 0 || a.k > a.truth_k) throw std::runtime_error("--k must be within 1..--truth-k");
  if (a.threads == 0 || a.hnsw_threads == 0) throw std::runtime_error("thread counts must be positive");
  return a;
}

int run(const Args& a) {
  const rerank::VectorPrecision precision = rerank::parse_vector_precision(a.precision);
  // The collection is mapped only while the vector file is written (its pages would count in RSS).
  auto base_map = std::make_unique<Mapped>(a.base);
  const Mapped& base = *base_map;
  const Mapped queries(a.queries), truth(a.truth);
  const std::size_t row = a.dims * sizeof(float);
  if (base.size() == 0 || base.size() % row)
    throw std::runtime_error(a.base + ": size is not a multiple of dims x 4");
  if (queries.size() == 0 || queries.size() % row)
    throw std::runtime_error(a.queries + ": size is not a multiple of dims x 4");
  const std::size_t n = base.size() / row, nq = queries.size() / row;
  if (truth.size() != nq * a.truth_k * sizeof(std::int32_t))
    throw std::runtime_error(a.truth + ": expected " + std::to_string(nq) + " x " +
                             std::to_string(a.truth_k) + " int32 ids, found " + std::to_string(truth.size()) +
                             " bytes");
  const auto* qv = static_cast<const float*>(queries.data());
  const auto* tv = static_cast<const std::int32_t*>(truth.data());
  fs::create_directories(a.out_dir);
  emit({{"event", "setup"},
        {"precision", a.precision},
        {"n", n},
        {"dims", a.dims},
        {"queries", nq},
        {"k", a.k},
        {"threads", a.threads}});

  // The vector file.
  const fs::path vec_path = fs::path(a.out_dir) / ("vectors-" + a.precision + ".rrv");
  const fs::path vec_meta = fs::path(a.out_dir) / ("vectors-" + a.precision + ".json");
  // A cached file is reused when it opens and holds the collection (a file of an older format does not).
  std::shared_ptr<const rerank::VectorSet> vectors;
  double open_seconds = 0;
  const auto open_vectors = [&] {
    const auto t_open = Clock::now();
    vectors = rerank::VectorSet::open(vec_path.string());
    open_seconds = since(t_open);
    if (vectors->num_rows() != n || vectors->dims() != a.dims || vectors->precision() != precision)
      throw std::runtime_error(vec_path.string() + ": does not hold this collection");
  };
  bool vec_cached = !a.rebuild && fs::exists(vec_path) && fs::exists(vec_meta);
  if (vec_cached) {
    try {
      open_vectors();
    } catch (const std::exception& e) {
      std::cerr << "[bench_dense_search] cached vector file unusable, rewriting it: " << e.what() << "\n";
      vectors.reset();
      vec_cached = false;
    }
  }
  if (!vec_cached) {
    // Graphs over an older file of this precision no longer match it.
    for (const auto& e : fs::directory_iterator(a.out_dir))
      if (e.path().filename().string().rfind("hnsw-" + a.precision + "-", 0) == 0) fs::remove(e.path());
    reset_peak();
    const auto t0 = Clock::now();
    rerank::VectorWriter writer(
        vec_path.string(), a.dims, precision,
        json{{"bench", "dense_search"}, {"source", fs::path(a.base).filename().string()}}.dump(),
        /*overwrite=*/true);
    const auto* bv = static_cast<const float*>(base.data());
    char id[32];
    for (std::size_t i = 0; i < n; ++i) {
      std::snprintf(id, sizeof id, "d%09zu", i);
      writer.add(id, bv + i * a.dims, 1);
    }
    const rerank::VectorFileStats stats = writer.finish();
    const double seconds = since(t0);
    write_json(vec_meta, {{"seconds", seconds}, {"peak_rss_mb", peak_rss_mb()}});
    emit({{"event", "write"},
          {"cached", false},
          {"seconds", seconds},
          {"rows_per_s", double(n) / seconds},
          {"file_bytes", stats.file_bytes},
          {"peak_rss_mb", peak_rss_mb()}});
    open_vectors();
  } else {
    const json m = read_json(vec_meta);
    emit({{"event", "write"},
          {"cached", true},
          {"seconds", m.at("seconds")},
          {"rows_per_s", double(n) / m.at("seconds").get<double>()},
          {"file_bytes", fs::file_size(vec_path)},
          {"peak_rss_mb", m.at("peak_rss_mb")}});
  }
  base_map.reset();
  touch(*vectors);
  emit({{"event", "open"},
        {"seconds", open_seconds},
        {"file_bytes", fs::file_size(vec_path)},
        {"row_bytes", vectors->row_bytes()}});

  // Exact search: all queries as one batch.
  if (!a.skip_exact) {
    std::vector<std::size_t> counts{1};
    if (a.threads > 1) counts.push_back(a.threads);
    for (const std::size_t t : counts) {
      std::vector<double> times;
      std::vector<std::vector<rerank::VectorHit>> hits;
      reset_peak();
      const double cpu0 = cpu_seconds();
      for (std::size_t r = 0; r < a.exact_rounds; ++r) {
        const auto t0 = Clock::now();
        hits = rerank::search_exact(*vectors, qv, nq, a.k, static_cast<unsigned>(t));
        times.push_back(since(t0));
      }
      const double best = *std::min_element(times.begin(), times.end());
      double sum = 0;
      for (double v : times) sum += v;
      emit({{"event", "exact"},
            {"threads", t},
            {"seconds", best},
            {"seconds_all", times},
            {"qps", double(nq) / best},
            {"cores_busy", (cpu_seconds() - cpu0) / sum},
            {"recall", recall_at(hits, tv, a.truth_k, a.k)},
            {"peak_rss_mb", peak_rss_mb()}});
    }
  }

  if (a.skip_hnsw) {
    emit({{"event", "done"}, {"peak_rss_mb", peak_rss_mb()}});
    return 0;
  }

  // The HNSW graph.
  const std::string tag = a.precision + "-m" + std::to_string(a.m) + "-efc" + std::to_string(a.efc) + "-t" +
                          std::to_string(a.hnsw_threads);
  const fs::path graph_path = fs::path(a.out_dir) / ("hnsw-" + tag + ".rrh");
  const fs::path graph_meta = fs::path(a.out_dir) / ("hnsw-" + tag + ".json");
  bool graph_cached = !a.rebuild && fs::exists(graph_path) && fs::exists(graph_meta);
  if (graph_cached) {
    try {
      (void)rerank::HnswIndex::open(graph_path.string(), vectors, 10);
    } catch (const std::exception& e) {
      std::cerr << "[bench_dense_search] cached HNSW graph unusable, rebuilding it: " << e.what() << "\n";
      graph_cached = false;
    }
  }
  if (!graph_cached) {
    fs::remove(graph_meta);
    reset_peak();
    const auto t0 = Clock::now();
    const double cpu0 = cpu_seconds();
    rerank::HnswOptions options;
    options.m = a.m;
    options.ef_construction = a.efc;
    options.threads = static_cast<unsigned>(a.hnsw_threads);
    options.progress = [&](std::uint64_t done) {
      if (done % 100000 == 0 || done == n)
        std::cerr << "[bench_dense_search] hnsw " << a.precision << ": " << done << "/" << n << " inserted, "
                  << static_cast<long>(since(t0)) << " s\n";
    };
    rerank::HnswIndex::build(*vectors, graph_path.string(), options);
    const double seconds = since(t0);
    const double cores_busy = (cpu_seconds() - cpu0) / seconds;
    write_json(graph_meta,
               {{"seconds", seconds}, {"peak_rss_mb", peak_rss_mb()}, {"cores_busy", cores_busy}});
    emit({{"event", "hnsw_build"},
          {"cached", false},
          {"seconds", seconds},
          {"m", a.m},
          {"ef_construction", a.efc},
          {"threads", a.hnsw_threads},
          {"file_bytes", fs::file_size(graph_path)},
          {"peak_rss_mb", peak_rss_mb()},
          {"cores_busy", cores_busy}});
  } else {
    const json m = read_json(graph_meta);
    emit({{"event", "hnsw_build"},
          {"cached", true},
          {"seconds", m.at("seconds")},
          {"m", a.m},
          {"ef_construction", a.efc},
          {"threads", a.hnsw_threads},
          {"file_bytes", fs::file_size(graph_path)},
          {"peak_rss_mb", m.at("peak_rss_mb")},
          {"cores_busy", m.value("cores_busy", 0.0)}});
  }

  for (const std::size_t ef : a.ef) {
    reset_peak();
    const auto t_load = Clock::now();
    const auto index = rerank::HnswIndex::open(graph_path.string(), vectors, ef);
    const double load_seconds = since(t_load);
    // Warm-up: one pass over a few queries (the graph's pages are fresh allocations).
    for (std::size_t q = 0; q < std::min<std::size_t>(nq, 50); ++q) (void)index->search(qv + q * a.dims, a.k);
    // Throughput: queries handed out to `threads` workers, one search each.
    std::vector<std::vector<rerank::VectorHit>> hits(nq);
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    rerank::detail::parallel_for(
        nq, a.threads, [&](std::size_t, std::size_t q) { hits[q] = index->search(qv + q * a.dims, a.k); });
    const double seconds = since(t0), cores_busy = (cpu_seconds() - cpu0) / seconds;
    // Latency: one query at a time on this thread.
    std::vector<double> ms(nq);
    for (std::size_t q = 0; q < nq; ++q) {
      const auto t1 = Clock::now();
      (void)index->search(qv + q * a.dims, a.k);
      ms[q] = since(t1) * 1e3;
    }
    double total_ms = 0;
    for (double v : ms) total_ms += v;
    emit({{"event", "hnsw"},
          {"ef", ef},
          {"threads", a.threads},
          {"seconds", seconds},
          {"qps", double(nq) / seconds},
          {"cores_busy", cores_busy},
          {"recall", recall_at(hits, tv, a.truth_k, a.k)},
          {"p50_ms", percentile(ms, 0.5)},
          {"p99_ms", percentile(ms, 0.99)},
          {"qps_1thread", 1e3 * double(nq) / total_ms},
          {"load_seconds", load_seconds},
          {"peak_rss_mb", peak_rss_mb()}});
  }
  emit({{"event", "done"}, {"peak_rss_mb", peak_rss_mb()}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "bench_dense_search: error: " << e.what() << "\n" << kUsage;
    return 1;
  }
}
