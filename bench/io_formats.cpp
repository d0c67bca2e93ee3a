// Reading speed of the TREC run reader (src/io) on a generated 1,000-query x 1,000-document run
// (1M lines, fixed seed), against the straightforward peer measured in the same process: an
// std::ifstream with operator>> into the same Run structure. Also times CorpusReader on the shared
// collections when they are present. Usage: bench_io_formats [QUERIES] [DOCS_PER_QUERY]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "rerank/io.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The peer: what a reader written with iostreams looks like (no validation beyond stream state).
rerank::Run read_run_iostream(const std::string& path) {
  rerank::Run run;
  std::ifstream in(path);
  std::string qid, q0, doc, tag;
  long rank;
  double score;
  while (in >> qid >> q0 >> doc >> rank >> score >> tag) run.by_query[qid].push_back({doc, score});
  return run;
}

template <typename Fn>
double best_of(int reps, Fn fn) {
  double best = 1e9;
  for (int i = 0; i < reps; ++i) {
    const auto t = Clock::now();
    fn();
    best = std::min(best, seconds_since(t));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int queries = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int docs = argc > 2 ? std::atoi(argv[2]) : 1000;
  const auto path =
      (std::filesystem::temp_directory_path() / ("bench_io_run_" + std::to_string(::getpid()))).string();
  {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> score(0.0, 30.0);
    std::ofstream out(path);
    for (int q = 0; q < queries; ++q)
      for (int d = 0; d < docs; ++d)
        out << q << " Q0 doc" << rng() % 10'000'000 << '-' << d << ' ' << d + 1 << ' ' << score(rng)
            << " bench\n";
  }
  const auto bytes = std::filesystem::file_size(path);
  std::size_t n_ours = 0, n_peer = 0;
  const double ours = best_of(3, [&] { n_ours = rerank::read_run(path).by_query.size(); });
  const double peer = best_of(3, [&] { n_peer = read_run_iostream(path).by_query.size(); });
  std::filesystem::remove(path);
  std::printf("run file: %d queries x %d docs, %.1f MB (best of 3)\n", queries, docs, bytes / 1e6);
  std::printf("  rerank::read_run     %7.3f s  (%zu queries)\n", ours, n_ours);
  std::printf("  iostream >> peer     %7.3f s  (%zu queries)\n", peer, n_peer);
  std::printf("  speedup vs peer      %7.2fx\n", peer / ours);

  const std::string shared = RERANK_SHARED_DATASETS;
  for (const char* rel : {"/scifact/corpus.jsonl", "/npl/docs.trec"}) {
    const std::string corpus = shared + rel;
    if (!std::filesystem::exists(corpus)) {
      std::printf("%s: not present, skipped\n", corpus.c_str());
      continue;
    }
    std::size_t count = 0;
    const double s = best_of(3, [&] {
      rerank::CorpusReader reader(corpus);
      rerank::Document d;
      count = 0;
      while (reader.next(d)) ++count;
    });
    const double mb = std::filesystem::file_size(corpus) / 1e6;
    std::printf("CorpusReader %-22s %6zu docs %6.1f MB %7.3f s  %6.1f MB/s\n", rel, count, mb, s, mb / s);
  }
  return 0;
}
