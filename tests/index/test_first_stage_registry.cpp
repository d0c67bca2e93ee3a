// First stages built by name from the registry: the same lists as the classes built by hand, option
// checks before anything is opened, forks that retrieve the same, and retrieve_all over threads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "index_test_util.h"
#include "error_message.h"
#include "rerank/error.h"
#include "rerank/first_stage.h"
#include "rerank/fusion.h"
#include "rerank/io.h"
#include "rerank/search.h"

namespace rerank {
namespace {

std::string error_of(const std::function<void()>& f) { return test::error_of(f, "no error"); }

std::vector<Document> corpus() {
  std::vector<Document> docs = {{"a1", "", "apple orchard harvest harvest cider"},
                                {"a2", "", "apple orchard cider press"},
                                {"a3", "", "pear orchard"}};
  for (int i = 0; i < 12; ++i) {
    const std::string n = std::to_string(i);
    docs.push_back({std::string("z").append(n), "", std::string("zebra stripes apple").append(n)});
  }
  return docs;
}

std::vector<Query> queries() { return {{"q1", "apple cider"}, {"q2", "orchard"}, {"q3", "zebra pear"}}; }

void expect_same_lists(const std::vector<ScoredDoc>& a, const std::vector<ScoredDoc>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].doc_id, b[i].doc_id) << i;
    EXPECT_EQ(a[i].score, b[i].score) << i;
  }
}

TEST(FirstStageRegistry, BuildsTheSameRetrieversAsTheirClasses) {
  const std::string dir = test::build(corpus(), "registry_same", FieldLayout::kFlat);
  const auto index = Index::open(dir);
  FirstStageOptions options{dir, {{"k1", "1.2"}, {"b", "0.75"}, {"fb_docs", "2"}}};
  SearchOptions by_hand;
  by_hand.k1 = 1.2f;
  by_hand.b = 0.75f;
  by_hand.rm3_options.fb_docs = 2;
  Bm25Retriever bm25(index, by_hand);
  Rm3Retriever rm3(index, by_hand);
  const auto named_bm25 = make_first_stage("bm25", {dir, {{"k1", "1.2"}, {"b", "0.75"}}});
  const auto named_rm3 = make_first_stage("bm25+rm3", options);
  EXPECT_EQ(named_rm3->name(), "bm25+rm3");
  for (const auto& q : queries()) {
    expect_same_lists(named_bm25->retrieve(q, 10), bm25.retrieve(q, 10));
    expect_same_lists(named_rm3->retrieve(q, 10), rm3.retrieve(q, 10));
  }
}

TEST(FirstStageRegistry, FusionOfNamedStagesAndRunFiles) {
  const std::string dir = test::build(corpus(), "registry_fusion", FieldLayout::kFlat);
  const auto index = Index::open(dir);
  const std::string run_path = test::scratch_dir("registry_run") + ".run";
  rerank::Run run;
  run.by_query["q1"] = {{"a3", 5.0}, {"z1", 4.0}, {"a1", 3.0}};
  write_run(run_path, run);

  const auto fused = make_first_stage("rrf(bm25,run:" + run_path + ")", {dir, {{"rrf_k", "10"}}});
  EXPECT_EQ(fused->name(), "rrf(bm25,run:" + run_path + ")");
  std::vector<std::unique_ptr<FirstStage>> stages;
  stages.push_back(std::make_unique<Bm25Retriever>(index, SearchOptions{}));
  stages.push_back(make_first_stage("run:" + run_path, {}));
  FusionOptions by_hand;
  by_hand.rrf_k = 10;
  FusionRetriever expected(std::move(stages), by_hand);
  for (const auto& q : queries()) expect_same_lists(fused->retrieve(q, 8), expected.retrieve(q, 8));
  // The run's first document, absent from BM25's list for "apple cider", is fused in at 1/(10+1).
  const auto q1 = fused->retrieve({"q1", "apple cider"}, 20);
  const auto a3 = std::find_if(q1.begin(), q1.end(), [](const ScoredDoc& d) { return d.doc_id == "a3"; });
  ASSERT_NE(a3, q1.end());
  EXPECT_DOUBLE_EQ(a3->score, 1.0 / 11);

  const auto interpolated =
      make_first_stage("interpolate(bm25,bm25+rm3)", {dir, {{"weights", "0.25,0.75"}, {"fb_docs", "1"}}});
  EXPECT_EQ(interpolated->name(), "interpolate(bm25,bm25+rm3)");
  EXPECT_FALSE(interpolated->retrieve({"q2", "orchard"}, 5).empty());
}

TEST(FirstStageRegistry, SpecsAndOptionsAreCheckedBeforeAnythingIsOpened) {
  const FirstStageOptions none{"/nonexistent/index", {}};
  EXPECT_THAT(
      error_of([&] { check_first_stage("bm26", none); }),
      ::testing::StartsWith("unknown first stage 'bm26' (available: bm25, bm25+rm3, interpolate, rrf, run"));
  EXPECT_EQ(error_of([&] {
              check_first_stage("bm25", {"/nonexistent/index", {{"k2", "1"}}});
            }),
            "first stage bm25: unknown option(s) k2 (known: b, fields, k1, remove_query)");
  EXPECT_EQ(error_of([&] {
              check_first_stage("bm25", {"/nonexistent/index", {{"fb_docs", "3"}}});
            }),
            "first stage bm25: unknown option(s) fb_docs (known: b, fields, k1, remove_query)");
  EXPECT_EQ(error_of([&] {
              check_first_stage("bm25+rm3", {"/nonexistent/index", {{"b", "1.5"}}});
            }),
            "bm25+rm3: option b must be between 0 and 1, got 1.5");
  EXPECT_EQ(error_of([&] { check_first_stage("rrf(bm25,", none); }), "first stage 'rrf(bm25,': missing ')'");
  EXPECT_EQ(error_of([&] { check_first_stage("rrf(bm25,,bm25)", none); }),
            "first stage list 'bm25,,bm25' has an empty entry");
  EXPECT_EQ(error_of([&] { check_first_stage("run:", none); }),
            "run:FILE needs the run file's path after \"run:\"");
  EXPECT_EQ(error_of([&] {
              check_first_stage("interpolate(bm25,bm25)", {"", {{"weights", "1"}}});
            }),
            "interpolate: 1 weights for 2 first stages");
  EXPECT_EQ(error_of([&] {
              check_first_stage("rrf(bm25,bm25+rm3)", {"", {{"weights", "1,1"}}});
            }),
            "rrf: option weights applies to interpolate only");
  // Options of any stage of a fusion are known; valid specs pass without opening the index.
  EXPECT_EQ(error_of([&] {
              check_first_stage("rrf(bm25,bm25+rm3)", {"/nonexistent", {{"fb_terms", "5"}}});
            }),
            "no error");
  EXPECT_THAT(error_of([&] { make_first_stage("bm25", none); }), ::testing::HasSubstr("/nonexistent/index"));
  EXPECT_THAT(error_of([&] { make_first_stage("run:/nonexistent/run.txt", none); }),
              ::testing::HasSubstr("/nonexistent/run.txt"));
}

TEST(FirstStageRegistry, RetrieveAllIsTheSameOnAnyNumberOfThreads) {
  const std::string dir = test::build(corpus(), "registry_threads", FieldLayout::kFlat);
  const auto stage = make_first_stage("rrf(bm25,bm25+rm3)", {dir, {}});
  const rerank::Run one = retrieve_all(*stage, queries(), 7, 1, "t");
  const rerank::Run two = retrieve_all(*stage, queries(), 7, 2, "t");
  ASSERT_EQ(one.by_query.size(), 3u);
  for (const auto& q : queries()) {
    expect_same_lists(one.by_query.at(q.id), two.by_query.at(q.id));
    expect_same_lists(one.by_query.at(q.id), stage->fork()->retrieve(q, 7));
  }
  EXPECT_EQ(error_of([&] {
              retrieve_all(*stage, {{"q", "apple"}, {"q", "pear"}}, 3, 2);
            }),
            "query id q occurs twice");
}

}  // namespace
}  // namespace rerank
