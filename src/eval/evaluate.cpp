// Running the measures over all queries and averaging them as trec_eval does (trec_eval.c,
// meas_avg.c): only judged queries are evaluated, queries the run lacks are skipped unless -c.
#include "eval/judged_ranking.h"
#include "rerank/error.h"
#include "rerank/eval.h"

namespace rerank::eval {

namespace {

void check_options(const EvalOptions& options) {
  // trec_eval accepts any level, but below 0 its own counts stop adding up (documents absent from
  // the qrels would be "relevant" yet not in num_rel), so refuse it.
  if (options.relevance_level < 0)
    throw Error("relevance level must be 0 or more, not " + std::to_string(options.relevance_level));
  if (options.max_docs < 0) throw Error("the number of documents per query must be positive");
}

const std::vector<ScoredDoc>* find_ranking(const Run& run, const std::string& qid) {
  const auto it = run.by_query.find(qid);
  // A query with an empty list is one the run did not answer: trec_eval cannot tell them apart.
  return it == run.by_query.end() || it->second.empty() ? nullptr : &it->second;
}

}  // namespace

Report evaluate(const Qrels& qrels, const Run& run, const std::vector<MeasureRequest>& measures,
                const EvalOptions& options) {
  check_options(options);
  Report report;
  report.columns = detail::make_columns(measures);
  report.runid = run.tag;
  const std::size_t width = report.columns.size();

  detail::RankingScratch scratch;
  detail::JudgedRanking ranking;
  for (const auto& [qid, judgements] : qrels) {  // std::map: qid byte order, as trec_eval's qsort
    const std::vector<ScoredDoc>* docs = find_ranking(run, qid);
    if (!docs && !options.complete) continue;
    detail::judge(qid, judgements, docs, options, scratch, ranking);
    QueryValues q{qid, std::vector<double>(width, 0.0)};
    detail::compute_measures(ranking, measures, options.relevance_level, q.values.data());
    report.queries.push_back(std::move(q));
  }
  if (report.queries.empty())
    throw Error("no query has both judgements and results (the qrels judge " + std::to_string(qrels.size()) +
                " queries, the run answers " + std::to_string(run.by_query.size()) + ")");

  // Sum in query order, then divide: the same operations as trec_eval's te_acc_meas_s and
  // te_calc_avg_meas_s. Counts stay sums; num_q is the number of queries evaluated.
  report.summary.assign(width, 0.0);
  for (const auto& q : report.queries)
    for (std::size_t c = 0; c < width; ++c) report.summary[c] += q.values[c];
  const double n = static_cast<double>(report.queries.size());
  for (std::size_t c = 0; c < width; ++c) {
    const Column& col = report.columns[c];
    if (col.name == "num_q")
      report.summary[c] = n;
    else if (col.type == ValueType::kFloat)
      report.summary[c] /= n;
  }
  return report;
}

std::vector<std::vector<double>> evaluate_queries(const Qrels& qrels, const Run& run,
                                                  const std::vector<std::string>& qids,
                                                  const std::vector<MeasureRequest>& measures,
                                                  const EvalOptions& options, std::vector<Column>& columns) {
  check_options(options);
  columns = detail::make_columns(measures);
  std::vector<std::vector<double>> values(columns.size(), std::vector<double>(qids.size(), 0.0));
  std::vector<double> row(columns.size());
  detail::RankingScratch scratch;
  detail::JudgedRanking ranking;
  static const std::unordered_map<std::string, int> kNoJudgements;
  for (std::size_t q = 0; q < qids.size(); ++q) {
    const auto judged = qrels.find(qids[q]);
    detail::judge(qids[q], judged == qrels.end() ? kNoJudgements : judged->second, find_ranking(run, qids[q]),
                  options, scratch, ranking);
    detail::compute_measures(ranking, measures, options.relevance_level, row.data());
    for (std::size_t c = 0; c < columns.size(); ++c) values[c][q] = row[c];
  }
  return values;
}

}  // namespace rerank::eval
