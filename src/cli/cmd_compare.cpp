// `rerank compare RUN_A RUN_B QRELS [-m MEASURE]...`: per-measure means of two runs on the same
// queries, a paired two-sided t-test, a paired randomization (sign-flip) test with a fixed seed,
// and win/tie/loss counts. Output format: docs/evaluation.md.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "rerank/error.h"
#include "rerank/eval.h"
#include "rerank/io.h"

namespace rerank::cli {

namespace {

struct CompareArgs {
  std::string run_a, run_b, qrels;
  std::vector<std::string> measures;
  eval::EvalOptions options;  // -l, -c, -M
  std::size_t permutations = eval::kDefaultPermutations;
  std::uint64_t seed = eval::kDefaultSeed;
};

bool answers(const Run& run, const std::string& qid) {
  const auto it = run.by_query.find(qid);
  return it != run.by_query.end() && !it->second.empty();
}

// Judged queries that either run answers (a query only one run answers counts as retrieving
// nothing in the other); with -c every judged query.
std::vector<std::string> compared_queries(const Qrels& qrels, const Run& a, const Run& b, bool complete) {
  std::vector<std::string> qids;
  for (const auto& [qid, judgements] : qrels)
    if (complete || answers(a, qid) || answers(b, qid)) qids.push_back(qid);
  return qids;
}

std::string number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

std::function<int()> setup_compare(CLI::App& app) {
  auto args = std::make_shared<CompareArgs>();
  app.add_option("RUN_A", args->run_a, "First run (the baseline): TREC run file")->required();
  app.add_option("RUN_B", args->run_b, "Second run: TREC run file")->required();
  app.add_option("QRELS", args->qrels, "Judgements: TREC qrels or BEIR qrels TSV")->required();
  app.add_option("-m,--measure", args->measures,
                 "Measure to compare, trec_eval syntax (map, ndcg_cut.10, P.5,10, ...). Repeatable; default: "
                 "map and ndcg_cut.10")
      ->allow_extra_args(false)
      ->take_all();
  app.add_flag("-c,--complete_rel_info_wanted", args->options.complete,
               "Compare on every judged query, not only those either run answers");
  app.add_option("-l,--level_for_rel", args->options.relevance_level,
                 "Minimum grade that counts as relevant (default 1)");
  app.add_option("-M,--Max_retrieved_per_topic", args->options.max_docs,
                 "Evaluate only the top N documents per query");
  app.add_option("--permutations", args->permutations, "Sign flips in the randomization test (default 10000)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000000}));
  app.add_option("--seed", args->seed, "Seed of the randomization test (default 42)");
  return [args] {
    const auto measures = eval::parse_measures(
        args->measures.empty() ? std::vector<std::string>{"map", "ndcg_cut.10"} : args->measures);
    for (const auto& m : measures)
      if (m.measure == eval::Measure::kRunid || m.measure == eval::Measure::kNumQ)
        throw Error(std::string("measure \"") + eval::measure_name(m.measure) +
                    "\" has no per-query values to compare");
    const eval::EvalOptions& options = args->options;
    const Qrels qrels = read_qrels(args->qrels);
    const Run a = read_run(args->run_a);
    const Run b = read_run(args->run_b);
    const auto qids = compared_queries(qrels, a, b, options.complete);
    if (qids.empty()) throw Error("no judged query is answered by either run");

    std::vector<eval::Column> columns;
    const auto va = eval::evaluate_queries(qrels, a, qids, measures, options, columns);
    const auto vb = eval::evaluate_queries(qrels, b, qids, measures, options, columns);

    std::string out;
    out += "# A: " + args->run_a + "\n# B: " + args->run_b + "\n";
    out += "# queries: " + std::to_string(qids.size()) +
           (options.complete ? " (all judged queries)\n" : " (judged queries answered by A or B)\n");
    out += "# paired two-sided t-test on B - A; randomization test: " + std::to_string(args->permutations) +
           " sign flips, seed " + std::to_string(args->seed) + "\n";
    out += "measure\tmean_A\tmean_B\tB-A\tt\tp_ttest\tp_random\tA>B\tA=B\tA<B\n";
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const auto r = eval::paired_test(va[c], vb[c], args->permutations, args->seed);
      out += columns[c].name + "\t" + number(r.mean_a) + "\t" + number(r.mean_b) + "\t" +
             number(r.mean_b - r.mean_a) + "\t" + number(r.t) + "\t" + number(r.p_t) + "\t" +
             number(r.p_perm) + "\t" + std::to_string(r.a_wins) + "\t" + std::to_string(r.ties) + "\t" +
             std::to_string(r.b_wins) + "\n";
    }
    std::cout << out << std::flush;
    return std::cout ? 0 : 1;
  };
}

const CommandRegistration kCompare("compare", "Compare two runs: means, paired t-test, randomization test",
                                   setup_compare);

}  // namespace

}  // namespace rerank::cli
