// Each measure on small cases computed by hand (the arithmetic is in the comments), including the
// trec_eval conventions: ranking by score with ties broken by docid descending, unjudged and
// negatively judged documents, graded gains, -l, -M, and queries without relevant documents.
#include <gtest/gtest.h>

#include "eval_test_util.h"
#include "rerank/error.h"

using rerank::test::make_qrels;
using rerank::test::make_run;
using rerank::test::printed;
using rerank::test::run_eval;
using rerank::test::value_of;

namespace {

// q1: judged d1:1 d2:0 d3:1 d4:1 d5:0 (R = 3 relevant, 2 judged non-relevant); x1 is unjudged.
// Ranking by score: d1(rel) d2(non) x1(unjudged) d3(rel) d5(non); d4 is not retrieved.
rerank::Qrels basic_qrels() {
  return make_qrels({{"q1", {{"d1", 1}, {"d2", 0}, {"d3", 1}, {"d4", 1}, {"d5", 0}}}});
}
rerank::Run basic_run() {
  // Listed out of score order on purpose: only the scores decide the ranking.
  return make_run({{"q1", {{"d3", 0.6}, {"d1", 0.9}, {"x1", 0.7}, {"d5", 0.5}, {"d2", 0.8}}}});
}

TEST(Measures, CountsOnBasicRanking) {
  const auto r = run_eval(basic_qrels(), basic_run(), {"num_q", "num_ret", "num_rel", "num_rel_ret"});
  EXPECT_EQ(printed(r, "q1", "num_ret"), "5");
  EXPECT_EQ(printed(r, "q1", "num_rel"), "3");
  EXPECT_EQ(printed(r, "q1", "num_rel_ret"), "2");  // d1, d3
  EXPECT_EQ(printed(r, "all", "num_q"), "1");
}

TEST(Measures, MapPrecisionRecallOnBasicRanking) {
  const auto r =
      run_eval(basic_qrels(), basic_run(), {"map", "P.1,2,5,10", "recall.1,5,1000", "Rprec", "recip_rank"});
  auto v = [&](const char* column) { return value_of(r, "q1", column); };
  // AP: relevant at ranks 1 and 4: (1/1 + 2/4) / R=3 = 1.5 / 3 = 0.5
  EXPECT_DOUBLE_EQ(v("map"), 0.5);
  // P@1 = 1/1, P@2 = 1/2, P@5 = 2/5, P@10 = 2/10 (missing ranks count as non-relevant)
  EXPECT_DOUBLE_EQ(v("P_1"), 1.0);
  EXPECT_DOUBLE_EQ(v("P_2"), 0.5);
  EXPECT_DOUBLE_EQ(v("P_5"), 0.4);
  EXPECT_DOUBLE_EQ(v("P_10"), 0.2);
  // recall@1 = 1/3, recall@5 = 2/3, recall@1000 = 2/3
  EXPECT_DOUBLE_EQ(v("recall_1"), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(v("recall_5"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(v("recall_1000"), 2.0 / 3.0);
  // R-prec: top R=3 are d1 d2 x1 -> 1 relevant / 3
  EXPECT_DOUBLE_EQ(v("Rprec"), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(v("recip_rank"), 1.0);  // first relevant at rank 1
  EXPECT_EQ(printed(r, "q1", "recall_5"), "0.6667");
}

TEST(Measures, BprefSkipsUnjudgedDocuments) {
  const auto r = run_eval(basic_qrels(), basic_run(), {"bpref"});
  // R = 3, judged non-relevant N = 2 (d2, d5). Walk, skipping x1:
  //   d1 relevant, no non-relevant above: +1
  //   d2 non-relevant (1 so far); d3 relevant: +1 - min(1,3)/min(2,3) = 1 - 1/2 = 0.5
  // bpref = (1 + 0.5) / 3 = 0.5
  EXPECT_DOUBLE_EQ(r.queries.at(0).values[0], 0.5);
}

TEST(Measures, NdcgBinaryOnBasicRanking) {
  const auto r = run_eval(basic_qrels(), basic_run(), {"ndcg", "ndcg_cut.1,3,5,10"});
  // DCG = 1/log2(2) + 1/log2(5) = 1 + 0.4306766 = 1.4306766
  // ideal (three grade-1 documents) = 1 + 1/log2(3) + 1/log2(4) = 1 + 0.6309298 + 0.5 = 2.1309298
  // ndcg = 1.4306766 / 2.1309298 = 0.671386
  EXPECT_EQ(printed(r, "q1", "ndcg"), "0.6714");
  // @1: 1 / 1 = 1; @3: 1 / 2.1309298 = 0.469278; @5 and @10: as the full ndcg
  EXPECT_EQ(printed(r, "q1", "ndcg_cut_1"), "1.0000");
  EXPECT_EQ(printed(r, "q1", "ndcg_cut_3"), "0.4693");
  EXPECT_EQ(printed(r, "q1", "ndcg_cut_5"), "0.6714");
  EXPECT_EQ(printed(r, "q1", "ndcg_cut_10"), "0.6714");
}

TEST(Measures, JudgedFractionOfTopK) {
  const auto r = run_eval(basic_qrels(), basic_run(), {"judged.1,3,5,10"});
  EXPECT_DOUBLE_EQ(value_of(r, "q1", "judged_1"), 1.0);        // d1
  EXPECT_DOUBLE_EQ(value_of(r, "q1", "judged_3"), 2.0 / 3.0);  // d1 d2 x1 -> 2 of 3
  EXPECT_DOUBLE_EQ(value_of(r, "q1", "judged_5"), 0.8);        // 4 of 5
  EXPECT_DOUBLE_EQ(value_of(r, "q1", "judged_10"), 0.8);       // only 5 retrieved: 4 of min(10, 5)
}

TEST(Measures, SuccessAtCutoffs) {
  // x1 (unjudged) at rank 1, d1 (relevant) at rank 2.
  const auto qrels = make_qrels({{"q", {{"d1", 1}}}});
  const auto run = make_run({{"q", {{"x1", 0.9}, {"d1", 0.8}}}});
  const auto r = run_eval(qrels, run, {"success"});  // default cutoffs 1,5,10
  EXPECT_EQ(printed(r, "q", "success_1"), "0.0000");
  EXPECT_EQ(printed(r, "q", "success_5"), "1.0000");
  EXPECT_EQ(printed(r, "q", "success_10"), "1.0000");
}

TEST(Measures, EqualScoresRankByDocidDescending) {
  // All three score 1.0; listed a, b, c. trec_eval orders ties by docid descending: c, b, a.
  // Only a is relevant, so it sits at rank 3 (ascending order or file order would put it first).
  const auto qrels = make_qrels({{"q", {{"a", 1}, {"b", 0}}}});
  const auto run = make_run({{"q", {{"a", 1.0}, {"b", 1.0}, {"c", 1.0}}}});
  const auto r = run_eval(qrels, run, {"recip_rank", "map", "success.1,3", "P.1"});
  EXPECT_EQ(printed(r, "q", "recip_rank"), "0.3333");  // 1/3
  EXPECT_EQ(printed(r, "q", "map"), "0.3333");         // (1/3) / 1
  EXPECT_EQ(printed(r, "q", "success_1"), "0.0000");
  EXPECT_EQ(printed(r, "q", "success_3"), "1.0000");
  EXPECT_EQ(printed(r, "q", "P_1"), "0.0000");
}

TEST(Measures, TieBreakComparesBytesNotNumbers) {
  // "10" > "9" is false bytewise ('1' < '9'), so with equal scores "9" ranks first.
  const auto qrels = make_qrels({{"q", {{"10", 1}}}});
  const auto run = make_run({{"q", {{"10", 0.5}, {"9", 0.5}}}});
  EXPECT_EQ(printed(run_eval(qrels, run, {"recip_rank"}), "q", "recip_rank"), "0.5000");
}

// q3: graded judgements g1:3 g2:2 g3:1 g4:0 and a negative judgement neg:-1.
// Ranking: g3(1) g1(3) g4(0) neg(-1) g2(2).
rerank::Qrels graded_qrels() {
  return make_qrels({{"q3", {{"g1", 3}, {"g2", 2}, {"g3", 1}, {"g4", 0}, {"neg", -1}}}});
}
rerank::Run graded_run() {
  return make_run({{"q3", {{"g3", 0.9}, {"g1", 0.8}, {"g4", 0.7}, {"neg", 0.6}, {"g2", 0.5}}}});
}

TEST(Measures, NdcgUsesGradesAsGains) {
  const auto r = run_eval(graded_qrels(), graded_run(), {"ndcg", "ndcg_cut.2"});
  // DCG = 1/log2(2) + 3/log2(3) + 2/log2(6) = 1 + 1.8927893 + 0.7737056 = 3.6664949
  // ideal = 3/log2(2) + 2/log2(3) + 1/log2(4) = 3 + 1.2618595 + 0.5 = 4.7618595
  // ndcg = 3.6664949 / 4.7618595 = 0.769971
  EXPECT_EQ(printed(r, "q3", "ndcg"), "0.7700");
  // @2: (1 + 1.8927893) / (3 + 1.2618595) = 2.8927893 / 4.2618595 = 0.678762
  EXPECT_EQ(printed(r, "q3", "ndcg_cut_2"), "0.6788");
}

TEST(Measures, RelevanceLevelChangesBinaryMeasuresNotNdcg) {
  // -l 1: relevant g3 g1 g2 at ranks 1, 2, 5: AP = (1/1 + 2/2 + 3/5) / 3 = 2.6 / 3 = 0.866667
  const auto l1 = run_eval(graded_qrels(), graded_run(), {"map", "num_rel", "recip_rank", "P.5", "ndcg"});
  EXPECT_EQ(printed(l1, "q3", "map"), "0.8667");
  EXPECT_EQ(printed(l1, "q3", "num_rel"), "3");
  EXPECT_EQ(printed(l1, "q3", "recip_rank"), "1.0000");
  EXPECT_EQ(printed(l1, "q3", "P_5"), "0.6000");
  // -l 2: relevant g1 g2 at ranks 2 and 5: AP = (1/2 + 2/5) / 2 = 0.45; RR = 1/2; P@5 = 2/5
  rerank::eval::EvalOptions opts;
  opts.relevance_level = 2;
  const auto l2 =
      run_eval(graded_qrels(), graded_run(), {"map", "num_rel", "recip_rank", "P.5", "ndcg"}, opts);
  EXPECT_EQ(printed(l2, "q3", "map"), "0.4500");
  EXPECT_EQ(printed(l2, "q3", "num_rel"), "2");
  EXPECT_EQ(printed(l2, "q3", "recip_rank"), "0.5000");
  EXPECT_EQ(printed(l2, "q3", "P_5"), "0.4000");
  // trec_eval's nDCG ignores the relevance level: same gains, same value.
  EXPECT_EQ(printed(l2, "q3", "ndcg"), printed(l1, "q3", "ndcg"));
}

TEST(Measures, BprefWithRelevanceLevelTwo) {
  rerank::eval::EvalOptions opts;
  opts.relevance_level = 2;
  const auto r = run_eval(graded_qrels(), graded_run(), {"bpref"}, opts);
  // R = 2 (g1, g2); non-relevant judged = grades 0 and 1: g3, g4 -> N = 2; neg is skipped.
  //   g3 non-rel (1); g1 rel: 1 - min(1,2)/min(2,2) = 0.5; g4 non-rel (2); g2 rel: 1 - 2/2 = 0
  // bpref = 0.5 / 2 = 0.25
  EXPECT_DOUBLE_EQ(r.queries.at(0).values[0], 0.25);
}

TEST(Measures, NegativeJudgementIsNonRelevantAndBprefIgnoresIt) {
  // neg (-1) ranks first, then r1 (relevant), then n0 (judged 0).
  const auto qrels = make_qrels({{"q", {{"r1", 1}, {"n0", 0}, {"neg", -1}}}});
  const auto run = make_run({{"q", {{"neg", 0.9}, {"r1", 0.8}, {"n0", 0.7}}}});
  const auto r = run_eval(qrels, run, {"num_rel", "num_rel_ret", "bpref", "recip_rank", "P.1", "judged.1"});
  EXPECT_EQ(printed(r, "q", "num_rel"), "1");
  EXPECT_EQ(printed(r, "q", "num_rel_ret"), "1");
  EXPECT_EQ(printed(r, "q", "recip_rank"), "0.5000");  // neg is not relevant
  EXPECT_EQ(printed(r, "q", "P_1"), "0.0000");
  // trec_eval treats a negative grade as "pooled but unjudged": bpref skips it, so r1 has no
  // judged non-relevant document above it: bpref = 1 / 1. (Counting neg as judged non-relevant
  // would give 1 - min(1,1)/min(2,1) = 0.)
  EXPECT_EQ(printed(r, "q", "bpref"), "1.0000");
  // It is in the qrels, so it counts as judged for judged@k.
  EXPECT_EQ(printed(r, "q", "judged_1"), "1.0000");
}

TEST(Measures, QueryWithoutRelevantDocumentsScoresZeroAndCounts) {
  const auto qrels = make_qrels({{"q", {{"z1", 0}, {"z2", 0}}}});
  const auto run = make_run({{"q", {{"z1", 0.5}, {"y", 0.4}}}});
  const auto r = run_eval(qrels, run, {"all"});
  EXPECT_EQ(printed(r, "all", "num_q"), "1");
  EXPECT_EQ(printed(r, "q", "num_rel"), "0");
  EXPECT_EQ(printed(r, "q", "num_ret"), "2");
  for (const char* m :
       {"map", "Rprec", "bpref", "recip_rank", "P_5", "recall_5", "ndcg", "ndcg_cut_10", "success_1"})
    EXPECT_EQ(printed(r, "q", m), "0.0000") << m;
  EXPECT_EQ(printed(r, "q", "judged_10"), "0.5000");  // z1 judged, y not
}

TEST(Measures, RprecWhenFewerRetrievedThanRelevant) {
  // R = 3 but one document retrieved (relevant): relevant in the top min(1, 3) = 1, divided by R.
  const auto qrels = make_qrels({{"q", {{"r1", 1}, {"r2", 1}, {"r3", 1}}}});
  const auto run = make_run({{"q", {{"r1", 1.0}}}});
  EXPECT_EQ(printed(run_eval(qrels, run, {"Rprec"}), "q", "Rprec"), "0.3333");
}

TEST(Measures, MaxDocsTruncatesTheRanking) {
  rerank::eval::EvalOptions opts;
  opts.max_docs = 1;  // only d1 is evaluated
  const auto r = run_eval(basic_qrels(), basic_run(), {"num_ret", "map", "P.5"}, opts);
  EXPECT_EQ(printed(r, "q1", "num_ret"), "1");
  EXPECT_EQ(printed(r, "q1", "map"), "0.3333");  // (1/1) / 3
  EXPECT_EQ(printed(r, "q1", "P_5"), "0.2000");  // 1/5
}

// qA: a1 relevant at rank 1 (AP 1, RR 1); qB: b1 relevant at rank 2 (AP 0.5, RR 0.5);
// qC is judged but not in the run; qZ is in the run but not judged.
rerank::Qrels three_qrels() {
  return make_qrels({{"qA", {{"a1", 1}, {"a2", 0}}}, {"qB", {{"b1", 1}}}, {"qC", {{"c1", 1}}}});
}
rerank::Run three_run() {
  return make_run(
      {{"qA", {{"a1", 0.9}, {"a2", 0.8}}}, {"qB", {{"x", 0.9}, {"b1", 0.5}}}, {"qZ", {{"z", 1.0}}}});
}

TEST(Measures, AveragesOverQueriesWithBothJudgementsAndResults) {
  const auto r = run_eval(three_qrels(), three_run(),
                          {"num_q", "num_ret", "num_rel", "num_rel_ret", "map", "recip_rank"});
  ASSERT_EQ(r.queries.size(), 2u);  // qC (no results) and qZ (no judgements) skipped
  EXPECT_EQ(printed(r, "all", "num_q"), "2");
  EXPECT_EQ(printed(r, "all", "num_ret"), "4");  // sums: 2 + 2
  EXPECT_EQ(printed(r, "all", "num_rel"), "2");
  EXPECT_EQ(printed(r, "all", "num_rel_ret"), "2");
  EXPECT_EQ(printed(r, "all", "map"), "0.7500");  // (1 + 0.5) / 2
  EXPECT_EQ(printed(r, "all", "recip_rank"), "0.7500");
}

TEST(Measures, CompleteFlagAveragesOverAllJudgedQueries) {
  rerank::eval::EvalOptions opts;
  opts.complete = true;
  const auto r = run_eval(three_qrels(), three_run(),
                          {"num_q", "num_ret", "num_rel", "num_rel_ret", "map", "recip_rank"}, opts);
  ASSERT_EQ(r.queries.size(), 3u);  // qC now included, retrieving nothing; qZ still not judged
  EXPECT_EQ(printed(r, "qC", "map"), "0.0000");
  EXPECT_EQ(printed(r, "qC", "num_ret"), "0");
  EXPECT_EQ(printed(r, "qC", "num_rel"), "1");
  EXPECT_EQ(printed(r, "all", "num_q"), "3");
  EXPECT_EQ(printed(r, "all", "num_ret"), "4");
  EXPECT_EQ(printed(r, "all", "num_rel"), "3");
  EXPECT_EQ(printed(r, "all", "map"), "0.5000");  // (1 + 0.5 + 0) / 3
  EXPECT_EQ(printed(r, "all", "recip_rank"), "0.5000");
}

TEST(Measures, EmptyRankingIsTreatedAsNotAnswered) {
  auto run = three_run();
  run.by_query["qC"];  // present but empty
  const auto r = run_eval(three_qrels(), run, {"num_q"});
  EXPECT_EQ(printed(r, "all", "num_q"), "2");
}

TEST(Measures, NoQueryInCommonIsAnError) {
  const auto qrels = make_qrels({{"q1", {{"d", 1}}}});
  const auto run = make_run({{"q2", {{"d", 1.0}}}});
  try {
    run_eval(qrels, run, {"map"});
    FAIL() << "expected an error";
  } catch (const rerank::Error& e) {
    EXPECT_STREQ(e.what(),
                 "no query has both judgements and results (the qrels judge 1 queries, the run answers 1)");
  }
}

TEST(Measures, DuplicateDocumentInRankingIsAnError) {
  const auto qrels = make_qrels({{"q", {{"d", 1}}}});
  const auto run = make_run({{"q", {{"d", 0.9}, {"e", 0.5}, {"d", 0.1}}}});
  try {
    run_eval(qrels, run, {"map"});
    FAIL() << "expected an error";
  } catch (const rerank::Error& e) {
    EXPECT_STREQ(e.what(), "query \"q\": document \"d\" is retrieved twice");
  }
}

TEST(Measures, NegativeRelevanceLevelIsRefused) {
  rerank::eval::EvalOptions opts;
  opts.relevance_level = -1;
  EXPECT_THROW(run_eval(basic_qrels(), basic_run(), {"map"}, opts), rerank::Error);
}

TEST(Measures, RelevanceLevelZeroMakesEveryJudgedDocumentRelevant) {
  rerank::eval::EvalOptions opts;
  opts.relevance_level = 0;
  const auto r = run_eval(basic_qrels(), basic_run(), {"num_rel", "P.5"}, opts);
  EXPECT_EQ(printed(r, "q1", "num_rel"), "5");
  EXPECT_EQ(printed(r, "q1", "P_5"), "0.8000");  // d1 d2 d3 d5 of 5; x1 is unjudged
}

TEST(Measures, EvaluateQueriesGivesPerQueryColumnsForAFixedQueryList) {
  std::vector<rerank::eval::Column> columns;
  const auto values = rerank::eval::evaluate_queries(three_qrels(), three_run(), {"qA", "qB", "qC"},
                                                     rerank::eval::parse_measures({"map"}), {}, columns);
  ASSERT_EQ(columns.size(), 1u);
  EXPECT_EQ(columns[0].name, "map");
  EXPECT_EQ(values[0], (std::vector<double>{1.0, 0.5, 0.0}));
}

}  // namespace
