// Evaluation speed and memory: a generated 1,000-query x 1,000-document TREC run (1M lines) and
// qrels (fixed seed), timed reading, evaluating every measure, printing per-query output, and a
// paired comparison. There is no peer to measure against here (trec_eval is not installable on
// the build machines), so the numbers are absolute. Usage: bench_eval [QUERIES] [DOCS_PER_QUERY]
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>

#include "rerank/eval.h"
#include "rerank/io.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // KiB on Linux
}

// Run: each query retrieves `docs` documents from a 10M-document id space, scores rounded to 4
// decimals so that ties occur. Qrels: about 10% of each ranking judged (grades 0-3), plus 50
// judged documents the run did not retrieve.
void generate(const std::string& run_path, const std::string& qrels_path, int queries, int docs,
              unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<long> doc_id(0, 9'999'999);
  std::uniform_int_distribution<int> grade(0, 3);
  std::uniform_real_distribution<double> score(0.0, 30.0);
  std::ofstream run(run_path), qrels(qrels_path);
  char name[32];
  for (int q = 0; q < queries; ++q) {
    for (int d = 0; d < docs; ++d) {
      // The document's position keeps ids unique within a query; the random part varies the order.
      std::snprintf(name, sizeof name, "doc%07ld-%d", doc_id(rng), d);
      run << q << " Q0 " << name << ' ' << d + 1 << ' ' << std::round(score(rng) * 1e4) / 1e4 << " bench\n";
      if (rng() % 10 == 0) qrels << q << " 0 " << name << ' ' << grade(rng) << '\n';
    }
    for (int j = 0; j < 50; ++j) qrels << q << " 0 unretrieved" << j << ' ' << grade(rng) << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int queries = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int docs = argc > 2 ? std::atoi(argv[2]) : 1000;
  const auto dir =
      std::filesystem::temp_directory_path() / ("rerank_eval_bench_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string run_path = (dir / "run.txt").string(), qrels_path = (dir / "qrels.txt").string();
  generate(run_path, qrels_path, queries, docs, 20240611u);

  auto t = Clock::now();
  const rerank::Qrels qrels = rerank::read_qrels(qrels_path);
  const double read_qrels_s = seconds_since(t);
  t = Clock::now();
  const rerank::Run run = rerank::read_run(run_path);
  const double read_run_s = seconds_since(t);

  const auto measures = rerank::eval::parse_measures({"all"});
  t = Clock::now();
  const auto report = rerank::eval::evaluate(qrels, run, measures);
  const double eval_s = seconds_since(t);

  std::ostringstream sink;
  t = Clock::now();
  rerank::eval::write_report(sink, report, /*per_query=*/true);
  const double print_s = seconds_since(t);

  std::vector<std::string> qids;
  for (const auto& [qid, j] : qrels) qids.push_back(qid);
  std::vector<rerank::eval::Column> columns;
  t = Clock::now();
  const auto values = rerank::eval::evaluate_queries(
      qrels, run, qids, rerank::eval::parse_measures({"ndcg_cut.10"}), {}, columns);
  const auto test = rerank::eval::paired_test(values[0], values[0]);
  const double compare_s = seconds_since(t);

  std::size_t lines = 0;
  for (const auto& [qid, list] : run.by_query) lines += list.size();
  std::printf("eval benchmark: %d queries x %d documents = %zu run lines, %zu judged queries\n", queries,
              docs, lines, qrels.size());
  std::printf("  read qrels          %8.3f s\n", read_qrels_s);
  std::printf("  read run            %8.3f s\n", read_run_s);
  std::printf("  evaluate (%zu columns, every measure) %8.3f s  (%.2f M run lines/s)\n",
              report.columns.size(), eval_s, static_cast<double>(lines) / eval_s / 1e6);
  std::printf("  print -q output     %8.3f s  (%zu bytes)\n", print_s, sink.str().size());
  std::printf("  compare ndcg_cut.10 %8.3f s  (%zu queries, %zu permutations, p = %.4f)\n", compare_s, test.n,
              rerank::eval::kDefaultPermutations, test.p_perm);
  std::printf("  peak RSS            %8.1f MiB\n", static_cast<double>(peak_rss_kib()) / 1024.0);
  std::filesystem::remove_all(dir);
  return 0;
}
