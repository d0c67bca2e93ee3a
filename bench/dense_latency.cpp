// bench_dense_latency: query latency of first stages as a search engine sees them, one query at a
// time on one thread (query encoding included), and the throughput of a batch of all queries.
// Usage: bench_dense_latency INDEX_DIR QUERIES [SPEC[@key=value,...]]...
//   e.g. bench_dense_latency scifact.idx queries.tsv bm25 dense dense@search=hnsw hybrid
// Prints one JSON object per spec: p50/p99/mean milliseconds, queries/s alone and in a batch.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "rerank/error.h"
#include "rerank/first_stage.h"
#include "rerank/io.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// "dense@search=hnsw,ef_search=200" -> spec and params.
std::pair<std::string, std::map<std::string, std::string>> parse(const std::string& arg) {
  const auto at = arg.find('@');
  std::map<std::string, std::string> params;
  if (at != std::string::npos) {
    std::string rest = arg.substr(at + 1);
    for (std::size_t start = 0; start <= rest.size();) {
      const auto comma = std::min(rest.find(',', start), rest.size());
      const std::string kv = rest.substr(start, comma - start);
      const auto eq = kv.find('=');
      if (eq == std::string::npos) throw rerank::Error("bad option '" + kv + "' in " + arg);
      params[kv.substr(0, eq)] = kv.substr(eq + 1);
      start = comma + 1;
    }
  }
  return {arg.substr(0, at), params};
}

void measure(const std::string& index, const std::vector<rerank::Query>& queries, const std::string& arg) {
  const auto [spec, params] = parse(arg);
  const auto stage = rerank::make_first_stage(spec, {index, params});
  stage->retrieve(queries.front(), 1000);  // warm: pages, kernels
  std::vector<double> ms;
  for (const auto& q : queries) {
    const auto t = Clock::now();
    stage->retrieve(q, 1000);
    ms.push_back(ms_since(t));
  }
  const auto t = Clock::now();
  stage->retrieve_many(queries, 1000, 0);
  const double batch_ms = ms_since(t);
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  auto pct = [&](double p) {
    return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * sorted.size()))];
  };
  double sum = 0;
  for (double x : ms) sum += x;
  std::printf(
      "{\"first_stage\": \"%s\", \"queries\": %zu, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"mean_ms\": %.3f, "
      "\"qps_one_thread\": %.1f, \"qps_batch_all_threads\": %.1f}\n",
      arg.c_str(), queries.size(), pct(0.5), pct(0.99), sum / ms.size(), 1000.0 * ms.size() / sum,
      1000.0 * queries.size() / batch_ms);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s INDEX_DIR QUERIES SPEC[@key=value,...]...\n", argv[0]);
    return 2;
  }
  try {
    const auto queries = rerank::read_queries(argv[2]);
    if (queries.empty()) throw rerank::Error(std::string(argv[2]) + ": no queries");
    for (int i = 3; i < argc; ++i) measure(argv[1], queries, argv[i]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_dense_latency: %s\n", e.what());
    return 1;
  }
  return 0;
}
