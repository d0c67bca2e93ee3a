// `rerank eval [-q] [-c] [-n] [-l LEVEL] [-M N] [-m MEASURE]... QRELS RUN`: trec_eval's command
// line and output, so scripts written for trec_eval can switch over (docs/evaluation.md).
#include <iostream>

#include "cli/command.h"
#include "rerank/eval.h"
#include "rerank/io.h"

namespace rerank::cli {

namespace {

struct EvalArgs {
  std::string qrels;
  std::string run;
  std::vector<std::string> measures;
  bool per_query = false;
  bool no_summary = false;
  eval::EvalOptions options;  // -l, -c, -M
};

std::function<int()> setup_eval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  app.add_flag("-q,--query_eval_wanted", args->per_query,
               "Also print each query's values, before the summary");
  app.add_flag("-c,--complete_rel_info_wanted", args->options.complete,
               "Average over every judged query; queries the run lacks count as retrieving nothing");
  app.add_flag("-n,--nosummary", args->no_summary, "Do not print the summary (\"all\") lines");
  app.add_option("-l,--level_for_rel", args->options.relevance_level,
                 "Minimum grade that counts as relevant (default 1)");
  app.add_option("-M,--Max_retrieved_per_topic", args->options.max_docs,
                 "Evaluate only the top N documents of each ranking")
      ->check(CLI::PositiveNumber);
  app.add_option("-m,--measure", args->measures,
                 "Measure to compute, trec_eval syntax: map, P.5,10, ndcg_cut.10, recall.100, success.1, "
                 "judged.10, bpref, Rprec, recip_rank, ndcg, num_q, num_ret, num_rel, num_rel_ret, runid, "
                 "or official / all_trec / all. Repeatable; default: official")
      ->allow_extra_args(false)
      ->take_all();
  app.add_option("QRELS", args->qrels, "Judgements: TREC qrels or BEIR qrels TSV")->required();
  app.add_option("RUN", args->run, "Run to evaluate: TREC run file")->required();
  app.footer(
      "Output lines are \"measure<TAB>qid<TAB>value\" exactly as trec_eval prints them; see "
      "docs/evaluation.md.");
  return [args] {
    const auto measures = eval::parse_measures(args->measures);
    const eval::EvalOptions& options = args->options;
    const Qrels qrels = read_qrels(args->qrels);
    const Run run = read_run(args->run);
    const eval::Report report = eval::evaluate(qrels, run, measures, options);
    eval::write_report(std::cout, report, args->per_query, !args->no_summary);
    std::cout.flush();
    return std::cout ? 0 : 1;
  };
}

const CommandRegistration kEval("eval", "Evaluate a run against judgements, as trec_eval does", setup_eval);

}  // namespace

}  // namespace rerank::cli
