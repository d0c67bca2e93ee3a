// RM3 expansion worked out by hand, and fusion values by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "index_test_util.h"
#include "rerank/error.h"
#include "rerank/fusion.h"
#include "rerank/run_first_stage.h"
#include "rerank/search.h"

namespace rerank {
namespace {

// Two orchard documents and 18 fillers sharing "stripes" (in 90% of documents: a feedback stop word).
std::vector<Document> orchard_corpus() {
  std::vector<Document> docs = {{"f1", "", "apple orchard harvest harvest x café"},
                                {"f2", "", "apple orchard cider"}};
  for (int i = 0; i < 18; ++i) {
    const std::string n = std::to_string(i);
    std::string text = "zebra";
    text.append(n).append(" stripes");
    docs.push_back({std::string("z").append(n), "", text});
  }
  return docs;
}

TEST(Rm3, ExpansionMatchesHandComputation) {
  const auto index = Index::open(test::build(orchard_corpus(), "rm3_orchard", FieldLayout::kFlat));
  Bm25Engine engine(index);
  const auto feedback = engine.search(bag_of_words("apple"), engine.default_fields(), 10);
  ASSERT_EQ(feedback.size(), 2u);
  const double s1 = feedback[0].score, s2 = feedback[1].score;
  ASSERT_EQ(index->doc_id(feedback[0].doc), "f2");  // shorter document first
  // Feedback vectors: f2 {appl 1, orchard 1, cider 1} (norm 3); f1 {appl 1, orchard 1, harvest 2}
  // (norm 4; "x" is too short, "café" is not [a-z0-9]+).
  std::map<std::string, double> rm = {
      {"appl", s1 / 3 + s2 / 4}, {"orchard", s1 / 3 + s2 / 4}, {"cider", s1 / 3}, {"harvest", s2 / 2}};
  double total = 0;
  for (auto& [t, w] : rm) total += w;
  const WeightedTerms expanded = rm3_expand(*index, "apple", feedback);
  ASSERT_EQ(expanded.size(), 4u);
  for (const auto& [term, weight] : expanded) {
    const double expected = 0.5 * rm.at(term) / total + (term == "appl" ? 0.5 : 0.0);
    EXPECT_NEAR(weight, expected, 1e-6) << term;
  }
}

TEST(Rm3, FrequentTermsAndPruning) {
  const auto index = Index::open(test::build(orchard_corpus(), "rm3_prune", FieldLayout::kFlat));
  Bm25Engine engine(index);
  // "stripes" is in 90% of the documents: never a feedback term, though the query has it.
  const auto feedback = engine.search(bag_of_words("zebra3 stripes"), engine.default_fields(), 10);
  Rm3Options options;
  options.fb_terms = 1;
  options.fb_docs = 1;
  const WeightedTerms expanded = rm3_expand(*index, "zebra3 stripes", feedback, options);
  std::map<std::string, float> weights(expanded.begin(), expanded.end());
  ASSERT_EQ(weights.size(), 2u);
  EXPECT_FLOAT_EQ(weights["zebra3"], 0.25f + 0.5f);  // query half + the whole feedback model
  EXPECT_FLOAT_EQ(weights["stripe"], 0.25f);
}

TEST(Rm3, RetrieverRunsTheExpandedQuery) {
  const auto index = Index::open(test::build(orchard_corpus(), "rm3_retrieve", FieldLayout::kFlat));
  SearchOptions options;
  options.rm3 = true;
  options.rm3_options.fb_docs = 1;  // only f2: adds "cider" and "orchard"
  Bm25Retriever retriever(index, options);
  EXPECT_EQ(retriever.name(), "bm25+rm3");
  const auto hits = retriever.retrieve({"q", "cider"}, 10);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].doc_id, "f2");
  EXPECT_EQ(hits[1].doc_id, "f1");  // found only through the expansion term "orchard"/"appl"
  SearchOptions plain;
  plain.rm3_options.fb_docs = 1;
  Rm3Retriever same(index, plain);
  const auto again = same.retrieve({"q", "cider"}, 10);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1].doc_id, "f1");
  EXPECT_EQ(again[1].score, hits[1].score);
}

TEST(Fusion, RetrieverFusesFirstStages) {
  const auto index = Index::open(test::build(orchard_corpus(), "fusion_retriever", FieldLayout::kFlat));
  std::vector<std::unique_ptr<FirstStage>> stages;
  stages.push_back(std::make_unique<Bm25Retriever>(index, SearchOptions{}));
  SearchOptions rm3;
  rm3.rm3_options.fb_docs = 1;
  stages.push_back(std::make_unique<Rm3Retriever>(index, rm3));
  FusionRetriever fusion(std::move(stages), {});
  EXPECT_EQ(fusion.name(), "rrf(bm25,bm25+rm3)");
  const auto hits = fusion.retrieve({"q", "cider"}, 10);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].doc_id, "f2");  // rank 1 in both lists
  EXPECT_DOUBLE_EQ(hits[0].score, 2.0 / 61);
  EXPECT_EQ(hits[1].doc_id, "f1");  // only in the RM3 list, rank 2
  EXPECT_DOUBLE_EQ(hits[1].score, 1.0 / 62);
}

TEST(Fusion, ReciprocalRankFusionByHand) {
  const std::vector<std::vector<ScoredDoc>> lists = {{{"x", 3}, {"y", 1}}, {{"y", 10}, {"z", 5}}};
  const auto fused = fuse_lists(lists, {});
  ASSERT_EQ(fused.size(), 3u);
  EXPECT_EQ(fused[0].doc_id, "y");
  EXPECT_DOUBLE_EQ(fused[0].score, 1.0 / 62 + 1.0 / 61);
  EXPECT_EQ(fused[1].doc_id, "x");
  EXPECT_DOUBLE_EQ(fused[1].score, 1.0 / 61);
  EXPECT_EQ(fused[2].doc_id, "z");
  EXPECT_DOUBLE_EQ(fused[2].score, 1.0 / 62);
}

TEST(Fusion, NormalizedInterpolationByHand) {
  const std::vector<std::vector<ScoredDoc>> lists = {{{"x", 3}, {"y", 1}, {"w", 2}}, {{"y", 10}, {"z", 5}}};
  FusionOptions options;
  options.method = FusionMethod::kInterpolation;
  options.weights = {0.3, 0.7};
  const auto fused = fuse_lists(lists, options);
  ASSERT_EQ(fused.size(), 4u);
  EXPECT_EQ(fused[0].doc_id, "y");  // 0.3 * 0 + 0.7 * 1
  EXPECT_DOUBLE_EQ(fused[0].score, 0.7);
  EXPECT_EQ(fused[1].doc_id, "x");  // 0.3 * 1
  EXPECT_DOUBLE_EQ(fused[1].score, 0.3);
  EXPECT_EQ(fused[2].doc_id, "w");  // 0.3 * 0.5
  EXPECT_DOUBLE_EQ(fused[2].score, 0.15);
  EXPECT_EQ(fused[3].doc_id, "z");
  EXPECT_DOUBLE_EQ(fused[3].score, 0.0);
}

TEST(Fusion, DepthKAndErrors) {
  const std::vector<std::vector<ScoredDoc>> lists = {{{"a", 3}, {"b", 2}, {"c", 1}}};
  FusionOptions options;
  options.depth = 2;
  options.k = 1;
  const auto fused = fuse_lists(lists, options);
  ASSERT_EQ(fused.size(), 1u);
  EXPECT_EQ(fused[0].doc_id, "a");
  options.method = FusionMethod::kInterpolation;
  options.weights = {1, 2};
  EXPECT_THROW(fuse_lists(lists, options), Error);
}

TEST(Fusion, RunsAreFusedPerQuery) {
  rerank::Run a, b;
  a.by_query["1"] = {{"x", 1}};
  b.by_query["2"] = {{"y", 1}};
  const rerank::Run fused = fuse_runs({a, b}, {});
  ASSERT_EQ(fused.by_query.size(), 2u);
  EXPECT_EQ(fused.by_query.at("2")[0].doc_id, "y");
  EXPECT_EQ(fused.tag, "fused");
}

}  // namespace
}  // namespace rerank

namespace rerank {
namespace {

TEST(RunRetriever, ServesARunSortedByScoreThenId) {
  rerank::Run run;
  run.by_query["q1"] = {{"b", 1.0}, {"c", 2.0}, {"a", 1.0}};
  RunRetriever retriever(run, "pyserini");
  EXPECT_EQ(retriever.name(), "pyserini");
  const auto top = retriever.retrieve({"q1", "ignored text"}, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].doc_id, "c");
  EXPECT_EQ(top[1].doc_id, "a");  // ties: ascending id
  EXPECT_TRUE(retriever.retrieve({"q2", ""}, 5).empty());
}

}  // namespace
}  // namespace rerank
