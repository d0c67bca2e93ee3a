// The LLM ranking algorithms against an oracle backend that answers from the qrels: each reaches
// the ideal ranking where theory says it must, with the known number of model calls, and the
// requests of many queries share backend calls (multi-query scheduling).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "error_message.h"
#include "oracle_backend.h"
#include "rerankers/llm_strategy.h"
#include "strategy_fixtures.h"

namespace rerank::test {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

struct OracleRun {
  std::map<std::string, int> grades;
  std::vector<CandidateList> batch;
  std::shared_ptr<OracleBackend> oracle;
  void add(const std::string& q, const std::vector<int>& g) { batch.push_back(make_list(q, g, grades)); }
  std::vector<RerankResult> run(llm::StrategyFactory factory,
                                std::map<std::string, std::string> params = {}) {
    oracle = std::make_shared<OracleBackend>(grades);
    RerankerOptions options;
    options.params = std::move(params);
    return factory(oracle, options)->rerank(batch);
  }
};

TEST(SlidingWindow, ListwiseTopTenIsIdealAfterOnePassWithNineWindows) {
  OracleRun s;
  const auto g = shuffled_grades(100, 7);
  s.add("q1", g);
  const auto r = s.run(llm::llm_strategy("listwise"));
  EXPECT_EQ(ids_of(r[0].ranking, 10), first_k(ideal_ids(g), 10));
  // Windows [80,100) [70,90) ... [0,20): 1 + ceil((100 - 20) / 10) = 9 generations.
  EXPECT_EQ(r[0].cost.model_calls, 9u);
  EXPECT_THAT(s.oracle->generate_calls, ElementsAreArray(std::vector<std::size_t>(9, 1)));
  EXPECT_EQ(r[0].ranking.size(), 100u);
  // Every window is asked for an exact permutation of its 20 identifiers.
  for (const auto& req : s.oracle->generation_requests) {
    ASSERT_TRUE(req.constraint);
    auto c = req.constraint();
    EXPECT_TRUE(c->allows("[20]"));
    EXPECT_FALSE(c->allows("[21]"));
  }
}

TEST(SlidingWindow, FirstTopTenIsIdealFromLabelLogitsWithNineForwardCalls) {
  OracleRun s;
  const auto g = shuffled_grades(100, 11);
  s.add("q1", g);
  const auto r = s.run(llm::llm_strategy("first"));
  EXPECT_EQ(ids_of(r[0].ranking, 10), first_k(ideal_ids(g), 10));
  EXPECT_EQ(r[0].cost.model_calls, 9u);
  ASSERT_EQ(s.oracle->label_requests.size(), 9u);
  const auto& first_window = s.oracle->label_requests[0];
  EXPECT_EQ(first_window.labels.size(), 20u);
  EXPECT_EQ(first_window.labels.front(), "A");
  EXPECT_EQ(first_window.labels.back(), "T");
  EXPECT_EQ(first_window.prompt.substr(first_window.prompt.size() - 23), "<|im_start|>assistant\n[");
}

TEST(SlidingWindow, TwoPassesSortMoreAndCountWindowsPerPass) {
  OracleRun s;
  const auto g = shuffled_grades(40, 3);
  s.add("q1", g);
  const auto r = s.run(llm::llm_strategy("first"), {{"window", "10"}, {"stride", "5"}, {"passes", "2"}});
  // Per pass 1 + ceil((40 - 10) / 5) = 7 windows; the second pass repeats none exactly here, so 14.
  EXPECT_EQ(ids_of(r[0].ranking, 10), first_k(ideal_ids(g), 10));
  EXPECT_EQ(r[0].cost.model_calls, 14u);
}

TEST(SlidingWindow, LastWindowIsClippedAtTheTop) {
  OracleRun s;
  const auto g = shuffled_grades(25, 5);
  s.add("q1", g);
  const auto r = s.run(llm::llm_strategy("listwise"));
  // [5,25) then [0,15): the top of the list is always covered.
  EXPECT_EQ(r[0].cost.model_calls, 2u);
  EXPECT_EQ(ids_of(r[0].ranking, 10), first_k(ideal_ids(g), 10));
}

TEST(MultiQuery, WindowsOfAllQueriesGoToTheBackendTogether) {
  OracleRun s;
  s.add("qa", shuffled_grades(100, 1));
  s.add("qb", shuffled_grades(25, 2));
  s.add("qc", shuffled_grades(5, 3));
  const auto r = s.run(llm::llm_strategy("listwise"));
  EXPECT_THAT(s.oracle->generate_calls, ElementsAre(3, 2, 1, 1, 1, 1, 1, 1, 1));
  EXPECT_EQ(r[0].cost.model_calls, 9u);
  EXPECT_EQ(r[1].cost.model_calls, 2u);
  EXPECT_EQ(r[2].cost.model_calls, 1u);
  EXPECT_EQ(ids_of(r[2].ranking), ideal_ids(shuffled_grades(5, 3)));
}

TEST(MultiQuery, CostIsTheSumOfTheQuerysOwnRequests) {
  OracleRun s;
  s.add("qa", {3, 1, 2});
  s.add("qb", {0, 1});
  const auto r = s.run(llm::llm_strategy("listwise"));
  ASSERT_EQ(s.oracle->generation_requests.size(), 2u);
  const auto& p0 = s.oracle->generation_requests[0].prompt;
  const auto& p1 = s.oracle->generation_requests[1].prompt;
  EXPECT_EQ(r[0].cost.prompt_tokens, p0.size());  // the oracle counts characters as tokens
  EXPECT_EQ(r[1].cost.prompt_tokens, p1.size());
  EXPECT_EQ(r[0].cost.generated_tokens, 9u);
  EXPECT_EQ(r[0].cost.forward_passes, 10u);
  EXPECT_DOUBLE_EQ(r[0].cost.flops, 1000.0 * static_cast<double>(p0.size() + 9));
  EXPECT_EQ(r[0].cost.model_calls, 1u);
}

TEST(Pairwise, AllPairsGivesTheFullIdealOrderWithBothOrdersOfEveryPair) {
  OracleRun s;
  const auto g = shuffled_grades(12, 9);
  s.add("q1", g);
  const auto r = s.run(llm::llm_strategy("pairwise"), {{"variant", "allpair"}});
  EXPECT_EQ(ids_of(r[0].ranking), ideal_ids(g));
  EXPECT_EQ(r[0].cost.model_calls, 12u * 11u);
  EXPECT_THAT(s.oracle->label_calls, ElementsAre(132));  // all pairs in one round
  // Scores are expected wins: the best passage beats all 11 others with probability sigmoid(d) > 0.5.
  EXPECT_GT(r[0].ranking[0].score, r[0].ranking[1].score);
}

TEST(Pairwise, AllPairsRefusesMoreThanAThousandCandidatesBeforeAsking) {
  OracleRun s;
  s.add("q1", shuffled_grades(1001, 3));
  EXPECT_EQ(error_of([&] {
              s.run(llm::llm_strategy("pairwise"), {{"variant", "allpair"}});
            }),
            "pairwise allpair asks about every ordered pair: 1001 candidates would take 1001000 prompts (at "
            "most 1000 candidates); use variant heapsort or sliding, or rerank fewer candidates");
  EXPECT_TRUE(s.oracle->label_requests.empty());
}

// Ten thousand candidates for one query (docs/reliability.md, resource bounds): the top-k
// strategies reach the ideal top ten with call counts linear in the candidates.
TEST(TenThousandCandidates, TopKStrategiesFindTheIdealTopTen) {
  const auto g = shuffled_grades(10000, 5);
  struct Case {
    const char* strategy;
    std::map<std::string, std::string> params;
    std::size_t calls;
  };
  // listwise: 1 + ceil((10000 - 20) / 10) windows; pairwise heapsort: building the heap plus k pops.
  for (const Case& c : {Case{"listwise", {}, 999}, Case{"setwise", {{"variant", "heapsort"}}, 0},
                        Case{"pairwise", {{"variant", "heapsort"}}, 0}}) {
    OracleRun s;
    s.add("q1", g);
    const auto r = s.run(llm::llm_strategy(c.strategy), c.params);
    EXPECT_EQ(ids_of(r[0].ranking, 10), first_k(ideal_ids(g), 10)) << c.strategy;
    EXPECT_EQ(r[0].ranking.size(), 10000u) << c.strategy;
    if (c.calls) {
      EXPECT_EQ(r[0].cost.model_calls, c.calls) << c.strategy;
    }
    EXPECT_LT(r[0].cost.model_calls, 40000u) << c.strategy;
  }
}

TEST(Pairwise, PromptsShowBothOrdersWithPassageLabels) {
  OracleRun s;
  s.add("q1", {0, 1});
  s.run(llm::llm_strategy("pairwise"), {{"variant", "allpair"}});
  ASSERT_EQ(s.oracle->label_requests.size(), 2u);
  const auto& a = s.oracle->label_requests[0];
  EXPECT_THAT(a.labels, ElementsAre(" A", " B"));
  EXPECT_EQ(
      a.prompt,
      "<|im_start|>user\nGiven a query \"question q1\", which of the following two passages is more relevant "
      "to the query?\n\nPassage A: \"<passage q1-0000>\"\n\nPassage B: \"<passage q1-0001>\"\n\nOutput "
      "Passage "
      "A or Passage B:<|im_end|>\n<|im_start|>assistant\nPassage");
  EXPECT_NE(s.oracle->label_requests[1].prompt.find("Passage A: \"<passage q1-0001>\""), std::string::npos);
}

TEST(Pairwise, HeapsortTopKIsExact) {
  OracleRun s;
  const auto g = shuffled_grades(30, 4);
  s.add("q1", g);
  const auto r = s.run(llm::llm_strategy("pairwise"), {{"variant", "heapsort"}, {"topk", "5"}});
  EXPECT_EQ(ids_of(r[0].ranking, 5), first_k(ideal_ids(g), 5));
  EXPECT_EQ(r[0].ranking.size(), 30u);
}

TEST(Pairwise, HeapsortCallCountByHand) {
  // n = 3, k = 1: building the heap compares child 1 with the root, then child 2 with the winner:
  // two comparisons, each in both orders = 4 prompts; extracting the top needs no more.
  for (const auto& [grades, expected] : std::vector<std::pair<std::vector<int>, std::vector<std::string>>>{
           {{2, 1, 0}, {"d0", "d1", "d2"}}, {{0, 1, 2}, {"d2", "d0", "d1"}}}) {
    OracleRun s;
    s.add("q1", grades);
    const auto r = s.run(llm::llm_strategy("pairwise"), {{"variant", "heapsort"}, {"topk", "1"}});
    EXPECT_EQ(ids_of(r[0].ranking), expected);
    EXPECT_EQ(r[0].cost.model_calls, 4u);
  }
}

TEST(Pairwise, SlidingTopKCallCountsByHand) {
  // n = 5, k = 2. Reversed input: pass 1 compares 4 adjacent pairs, pass 2 three new ones: 7 x 2 prompts.
  OracleRun worst;
  worst.add("q1", {0, 1, 2, 3, 4});
  auto r = worst.run(llm::llm_strategy("pairwise"), {{"variant", "sliding"}, {"topk", "2"}});
  EXPECT_EQ(ids_of(r[0].ranking, 2), (std::vector<std::string>{"d4", "d3"}));
  EXPECT_EQ(r[0].cost.model_calls, 14u);
  // Sorted input: pass 2 repeats pass 1's pairs, which are answered from memory: 4 x 2 prompts.
  OracleRun best;
  best.add("q1", {4, 3, 2, 1, 0});
  r = best.run(llm::llm_strategy("pairwise"), {{"variant", "sliding"}, {"topk", "2"}});
  EXPECT_EQ(ids_of(r[0].ranking), (std::vector<std::string>{"d0", "d1", "d2", "d3", "d4"}));
  EXPECT_EQ(r[0].cost.model_calls, 8u);
}

TEST(Pairwise, SlidingTopKIsExactOnLargerLists) {
  OracleRun s;
  const auto g = shuffled_grades(20, 8);
  s.add("q1", g);
  const auto r = s.run(llm::llm_strategy("pairwise"), {{"variant", "sliding"}, {"topk", "3"}});
  EXPECT_EQ(ids_of(r[0].ranking, 3), first_k(ideal_ids(g), 3));
  // Without repeats k passes cost (n-1) + (n-2) + (n-3) comparisons; memory can only save.
  EXPECT_LE(r[0].cost.model_calls, 2u * (19 + 18 + 17));
}

TEST(Setwise, HeapsortTopKIsExact) {
  OracleRun s;
  const auto g = shuffled_grades(30, 12);
  s.add("q1", g);
  const auto r =
      s.run(llm::llm_strategy("setwise"), {{"variant", "heapsort"}, {"children", "3"}, {"topk", "5"}});
  EXPECT_EQ(ids_of(r[0].ranking, 5), first_k(ideal_ids(g), 5));
}

TEST(Setwise, HeapsortCallCountByHand) {
  // n = 5, c = 3, k = 2, best last. Build: node 1 {d1,d4} -> d4 up; root {d0,d4,d2,d3} -> d4 up,
  // then node 1 {d0,d1} -> d1 up (3 calls). Pop d4, root d0: {d0,d1,d2,d3} -> d3 (1 call). Pop d3.
  OracleRun s;
  s.add("q1", {0, 1, 2, 3, 4});
  const auto r = s.run(llm::llm_strategy("setwise"), {{"children", "3"}, {"topk", "2"}});
  EXPECT_EQ(ids_of(r[0].ranking), (std::vector<std::string>{"d4", "d3", "d0", "d1", "d2"}));
  EXPECT_EQ(r[0].cost.model_calls, 4u);
  EXPECT_THAT(s.oracle->label_requests[1].labels, ElementsAre(" A", " B", " C", " D"));
}

TEST(Setwise, BubblesortCallCountByHand) {
  // n = 10, c = 3 (windows of 4 overlapping by 1), k = 2, sorted input. Pass 1: [6,10) [3,7) [0,4);
  // pass 2: [6,10) and [3,7) again (from memory) and [1,4): 4 calls.
  OracleRun s;
  s.add("q1", {9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  const auto r =
      s.run(llm::llm_strategy("setwise"), {{"variant", "bubblesort"}, {"children", "3"}, {"topk", "2"}});
  EXPECT_EQ(r[0].cost.model_calls, 4u);
  EXPECT_EQ(ids_of(r[0].ranking), ideal_ids({9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
}

TEST(Setwise, BubblesortTopKIsExact) {
  OracleRun s;
  const auto g = shuffled_grades(30, 13);
  s.add("q1", g);
  const auto r =
      s.run(llm::llm_strategy("setwise"), {{"variant", "bubblesort"}, {"children", "4"}, {"topk", "4"}});
  EXPECT_EQ(ids_of(r[0].ranking, 4), first_k(ideal_ids(g), 4));
}

TEST(InsertRank, ShowsFirstStageScoresAndSortsLikeListwise) {
  OracleRun s;
  const auto g = shuffled_grades(100, 21);
  s.add("q1", g);
  const auto r = s.run(llm::llm_strategy("insertrank"));
  EXPECT_EQ(ids_of(r[0].ranking, 10), first_k(ideal_ids(g), 10));
  EXPECT_EQ(r[0].cost.model_calls, 9u);
  // The first window is [80,100): d80 (score 100 - 80 * 0.5 = 60) is shown as passage [1].
  EXPECT_NE(s.oracle->generation_requests[0].prompt.find(
                "[1] <passage q1-0080>\nBM25 score for passage [1]: 60.00\n"),
            std::string::npos);
}

TEST(Embedding, RanksByCosineWithOneEmbeddingPerText) {
  OracleRun s;
  const auto g = shuffled_grades(15, 31);
  s.add("q1", g);
  s.add("q2", shuffled_grades(4, 32));
  const auto r = s.run(llm::llm_strategy("embedding"));
  EXPECT_EQ(ids_of(r[0].ranking), ideal_ids(g));
  EXPECT_EQ(r[0].cost.model_calls, 16u);
  EXPECT_EQ(r[1].cost.model_calls, 5u);
  EXPECT_THAT(s.oracle->embed_calls, ElementsAre(21));  // both queries in one call
  EXPECT_EQ(s.oracle->embedded[0],
            "Instruct: Given a web search query, retrieve relevant passages that answer the "
            "query\nQuery:question q1");
  // Scores are the cosines: grade 14 -> (15, 1) against (1, 0).
  EXPECT_NEAR(r[0].ranking[0].score, 15.0 / std::sqrt(226.0), 1e-9);
}

TEST(E2Rank, QueryEmbeddingHoldsTheTopKCandidates) {
  OracleRun s;
  const auto g = shuffled_grades(8, 41);
  s.add("q1", g);
  const auto r = s.run(llm::llm_strategy("e2rank"), {{"fb_docs", "3"}});
  EXPECT_EQ(ids_of(r[0].ranking), ideal_ids(g));
  const std::string& pseudo_query = s.oracle->embedded[0];
  EXPECT_EQ(
      pseudo_query,
      "Given a web search query, retrieve relevant passages that answer the query\nDocuments:\n[1] <passage "
      "q1-0000>\n[2] <passage q1-0001>\n[3] <passage q1-0002>\nSearch Query:question q1");
  EXPECT_EQ(r[0].cost.model_calls, 9u);
}

}  // namespace
}  // namespace rerank::test
