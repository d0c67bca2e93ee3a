// trec_eval-exact evaluation (src/eval): per-query and aggregate measures, trec_eval's output
// format, and paired significance tests between two runs. docs/evaluation.md lists the measures
// and the trec_eval conventions they follow (ranking by score with ties broken by docid, skipped
// queries, -c, -l, negative judgements).
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "rerank/types.h"

namespace rerank::eval {

// Measures in trec_eval's output order (its measures.c), then the ones trec_eval does not have.
enum class Measure {
  kRunid,      // the run's tag (summary only)
  kNumQ,       // number of queries evaluated (summary only)
  kNumRet,     // documents retrieved (summed over queries)
  kNumRel,     // relevant documents in the judgements (summed)
  kNumRelRet,  // relevant documents retrieved (summed)
  kMap,        // average precision
  kRprec,      // precision after R documents, R = num_rel
  kBpref,      // binary preference
  kRecipRank,  // reciprocal rank of the first relevant document
  kP,          // precision at cutoffs
  kRecall,     // recall at cutoffs
  kNdcg,       // nDCG over the whole ranking, graded gains
  kNdcgCut,    // nDCG at cutoffs, graded gains
  kSuccess,    // 1 if a relevant document is in the top k
  kJudged,     // fraction of the top k that is judged (ir_measures' Judged@k; not in trec_eval)
};

// One requested measure; cutoffs are ascending and unique, empty for measures without cutoffs.
struct MeasureRequest {
  Measure measure;
  std::vector<long> cutoffs;
};

// trec_eval's name of a measure ("P", "ndcg_cut", ...).
const char* measure_name(Measure m);

// Parses trec_eval -m arguments: "map", "P.5,10", "ndcg_cut.10", or the nicknames "official",
// "all_trec" and "all". Measures given without parameters take trec_eval's default cutoffs;
// parameters given in several -m for one measure are merged. An empty list gives the default set
// ("official"). Throws rerank::Error naming the bad argument.
std::vector<MeasureRequest> parse_measures(const std::vector<std::string>& args);

struct EvalOptions {
  long relevance_level = 1;   // -l: minimum grade that counts as relevant
  bool complete = false;      // -c: average over every judged query; missing ones retrieve nothing
  std::int64_t max_docs = 0;  // -M: evaluate only the top max_docs of each ranking (0: all)
};

enum class ValueType { kFloat, kCount, kText };

// One output column: "P_5", "num_ret", "runid". Columns follow trec_eval's printing order.
struct Column {
  std::string name;
  ValueType type = ValueType::kFloat;
  bool per_query = true;  // runid and num_q are printed only in the summary, as trec_eval does
};

struct QueryValues {
  std::string qid;
  std::vector<double> values;  // one per column (0 for summary-only columns)
};

struct Report {
  std::vector<Column> columns;
  std::vector<QueryValues> queries;  // evaluated queries, in qid (byte) order
  std::vector<double> summary;       // means, sums (num_*) or the query count (num_q)
  std::string runid;
};

// Evaluates `run` against `qrels` as trec_eval does. Throws rerank::Error when no query has both
// judgements and results, when a query lists a document twice, or on a NaN score.
Report evaluate(const Qrels& qrels, const Run& run, const std::vector<MeasureRequest>& measures,
                const EvalOptions& options = {});

// Per-query values of single columns for a fixed list of queries (absent queries retrieve nothing),
// for paired comparisons. Returns values[column][query].
std::vector<std::vector<double>> evaluate_queries(const Qrels& qrels, const Run& run,
                                                  const std::vector<std::string>& qids,
                                                  const std::vector<MeasureRequest>& measures,
                                                  const EvalOptions& options, std::vector<Column>& columns);

// trec_eval's line: "%-22s\t%s\t%6.4f" for measures, "%ld" for counts, the text for runid.
std::string format_line(const std::string& name, const std::string& qid, double value, ValueType type,
                        const std::string& text = "");

// Writes the report as trec_eval prints it: per-query lines first when per_query is set, then the
// "all" lines unless summary is false.
void write_report(std::ostream& out, const Report& report, bool per_query, bool summary = true);

// ---- paired significance tests (rerank compare)

// Regularized incomplete beta function I_x(a, b), for x in [0, 1], a, b > 0.
double incomplete_beta(double a, double b, double x);

// Two-sided p-value of Student's t statistic with `df` degrees of freedom.
double student_t_two_sided_p(double t, double df);

struct PairedTest {
  std::size_t n = 0;
  double mean_a = 0, mean_b = 0;
  double t = 0;       // paired t statistic of b - a (NaN when n < 2)
  double p_t = 1;     // two-sided p of the paired t-test (NaN when n < 2)
  double p_perm = 1;  // two-sided p of the sign-flip randomization test
  std::size_t a_wins = 0, ties = 0, b_wins = 0;
};

// Randomization test defaults: documented in docs/evaluation.md; fixed so results are reproducible.
inline constexpr std::size_t kDefaultPermutations = 10000;
inline constexpr std::uint64_t kDefaultSeed = 42;

// Paired tests on per-query values a[i], b[i] of the same queries.
PairedTest paired_test(const std::vector<double>& a, const std::vector<double>& b,
                       std::size_t permutations = kDefaultPermutations, std::uint64_t seed = kDefaultSeed);

}  // namespace rerank::eval
