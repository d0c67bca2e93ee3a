// rerank eval against trec_eval's own published outputs: topic 302 of trec_eval's test data
// (tests/eval/data/trec_eval/README.md). The expected lines were printed by trec_eval itself.
#include <gtest/gtest.h>

#include <sstream>

#include "cli_runner.h"
#include "rerank/eval.h"
#include "rerank/io.h"

namespace {

const std::string kData = std::string(RERANK_SOURCE_DIR) + "/tests/eval/data/trec_eval/";

std::string lines_for_query(const std::string& text, const std::string& qid) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line))
    if (line.find("\t" + qid + "\t") != std::string::npos) out += line + "\n";
  return out;
}

std::string evaluate_to_text(const std::vector<std::string>& measures) {
  const auto qrels = rerank::read_qrels(kData + "qrels-302.test");
  const auto run = rerank::read_run(kData + "results-302.test");
  const auto report = rerank::eval::evaluate(qrels, run, rerank::eval::parse_measures(measures));
  std::ostringstream out;
  rerank::eval::write_report(out, report, /*per_query=*/true);
  return out.str();
}

TEST(TrecEvalReference, AllTrecMeasuresMatchTrecEvalOutput) {
  // trec_eval -m all_trec -q test/qrels.test test/results.test, lines of topic 302
  const std::string expected = rerank::test::slurp(kData + "out.test.aq.302");
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(lines_for_query(evaluate_to_text({"all_trec"}), "302"), expected);
}

TEST(TrecEvalReference, MeasureParametersMatchTrecEvalOutput) {
  // trec_eval -q -m P.5,7,3 -m recall.20,2000 -mndcg_cut.10,20,23.4 -msuccess.2,5,20 ...
  const std::string expected = rerank::test::slurp(kData + "out.test.meas_params.302");
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(
      lines_for_query(evaluate_to_text({"P.5,7,3", "recall.20,2000", "ndcg_cut.10,20,23", "success.2,5,20"}),
                      "302"),
      expected);
}

TEST(TrecEvalReference, CommandLinePrintsTrecEvalLinesThenSummary) {
  const auto r = rerank::test::run_cli(
      {"eval", "-q", "-m", "all_trec", kData + "qrels-302.test", kData + "results-302.test"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string per_query = rerank::test::slurp(kData + "out.test.aq.302");
  // One query: the summary repeats its values under "all", after runid (the run's tag) and num_q.
  std::string summary = "runid                 \tall\tSTANDARD\nnum_q                 \tall\t1\n";
  std::istringstream in(per_query);
  for (std::string line; std::getline(in, line);)
    summary += line.replace(line.find("\t302\t"), 5, "\tall\t") + "\n";
  EXPECT_EQ(r.out, per_query + summary);
  EXPECT_EQ(r.err, "");
}

}  // namespace
