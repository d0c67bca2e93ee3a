// trec_eval's -m syntax: measure names, cutoff parameters, defaults and nicknames.
#include <gtest/gtest.h>

#include <algorithm>

#include "rerank/error.h"
#include "rerank/eval.h"

using rerank::eval::Measure;
using rerank::eval::MeasureRequest;
using rerank::eval::parse_measures;

namespace {

std::vector<std::string> column_names(const std::vector<std::string>& args) {
  rerank::Qrels qrels;
  qrels["q"]["d"] = 1;
  rerank::Run run;
  run.by_query["q"].push_back({"d", 1.0});
  std::vector<std::string> names;
  for (const auto& c : rerank::eval::evaluate(qrels, run, parse_measures(args)).columns)
    names.push_back(c.name);
  return names;
}

std::string error_of(const std::vector<std::string>& args) {
  try {
    parse_measures(args);
  } catch (const rerank::Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(MeasureSpec, DefaultIsTrecEvalOfficialSubset) {
  EXPECT_EQ(column_names({}),
            (std::vector<std::string>{"runid", "num_q", "num_ret", "num_rel", "num_rel_ret", "map", "Rprec",
                                      "bpref", "recip_rank", "P_5", "P_10", "P_15", "P_20", "P_30", "P_100",
                                      "P_200", "P_500", "P_1000"}));
}

TEST(MeasureSpec, CutoffsAreSortedAndNamedLikeTrecEval) {
  EXPECT_EQ(column_names({"P.10,5"}), (std::vector<std::string>{"P_5", "P_10"}));
  EXPECT_EQ(column_names({"ndcg_cut.10"}), (std::vector<std::string>{"ndcg_cut_10"}));
  EXPECT_EQ(column_names({"success"}), (std::vector<std::string>{"success_1", "success_5", "success_10"}));
  EXPECT_EQ(column_names({"recall"}).size(), 9u);
  EXPECT_EQ(column_names({"judged"}), (std::vector<std::string>{"judged_10"}));
}

TEST(MeasureSpec, OutputFollowsTrecEvalOrderNotArgumentOrder) {
  EXPECT_EQ(column_names({"ndcg_cut.10", "P.5", "map", "num_q"}),
            (std::vector<std::string>{"num_q", "map", "P_5", "ndcg_cut_10"}));
}

TEST(MeasureSpec, ExplicitCutoffsReplaceDefaultsAndMerge) {
  // As trec_eval: explicit parameters replace the nickname's defaults.
  const auto names = column_names({"all_trec", "P.7"});
  EXPECT_NE(std::find(names.begin(), names.end(), "P_7"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "P_5"), names.end());
  // Several lists for one measure are merged (trec_eval would keep only the first).
  EXPECT_EQ(column_names({"P.5", "P.10,5"}), (std::vector<std::string>{"P_5", "P_10"}));
}

TEST(MeasureSpec, NicknamesExpand) {
  const auto all = parse_measures({"all"});
  EXPECT_EQ(all.size(), 15u);
  EXPECT_EQ(all.back().measure, Measure::kJudged);
  const auto trec = parse_measures({"all_trec"});
  EXPECT_EQ(trec.size(), 14u);
  EXPECT_EQ(trec.back().measure, Measure::kSuccess);
}

TEST(MeasureSpec, BadArgumentsNameTheProblem) {
  EXPECT_EQ(error_of({"P.0"}), "measure \"P.0\": cutoff \"0\" is not a positive integer");
  EXPECT_EQ(error_of({"P.5,x"}), "measure \"P.5,x\": cutoff \"x\" is not a positive integer");
  EXPECT_EQ(error_of({"P.5,"}), "measure \"P.5,\": cutoff \"\" is not a positive integer");
  EXPECT_EQ(error_of({"P.23.4"}), "measure \"P.23.4\": cutoff \"23.4\" is not a positive integer");
  EXPECT_EQ(error_of({"P.5,5"}), "measure \"P.5,5\": duplicate cutoff 5");
  EXPECT_EQ(error_of({"map.5"}), "measure \"map.5\": map takes no parameters");
  EXPECT_EQ(error_of({"official.5"}), "measure \"official.5\": the nickname official takes no parameters");
  EXPECT_EQ(error_of({"MAP"}).rfind("unknown measure \"MAP\" (known: runid, num_q,", 0), 0u)
      << error_of({"MAP"});
}

}  // namespace
