// Properties every LLM strategy must have whatever the model answers: a permutation of its input,
// deterministic, fine with fewer candidates than a window, duplicate ids and empty documents; and
// option errors that name the problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "oracle_backend.h"
#include "rerank/error.h"
#include "rerankers/llm_strategy.h"
#include "strategy_fixtures.h"

namespace rerank::test {
namespace {

std::vector<std::string> sorted_ids(const CandidateList& list) {
  std::vector<std::string> ids;
  for (const auto& c : list.candidates) ids.push_back(c.doc_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> sorted_ids(const RerankResult& r) {
  auto ids = ids_of(r.ranking);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// A batch with a long list, a list shorter than any window, duplicate ids, empty documents and a
// query with no candidates.
std::vector<CandidateList> awkward_batch(std::map<std::string, int>& grades) {
  std::vector<CandidateList> batch;
  batch.push_back(make_list("long", shuffled_grades(33, 1), grades));
  batch.push_back(make_list("short", {1, 0, 2}, grades));
  CandidateList dup = make_list("dup", {2, 0, 1, 3}, grades);
  dup.candidates[2].doc_id = dup.candidates[0].doc_id;  // same id twice
  dup.candidates[3].text = dup.candidates[1].text;      // same text twice
  batch.push_back(dup);
  CandidateList empty = make_list("empty", {0, 1, 2, 3, 4}, grades);
  empty.candidates[1].text.clear();
  empty.candidates[3].text.clear();
  batch.push_back(empty);
  batch.push_back(make_list("one", {5}, grades));
  batch.push_back(CandidateList{{"none", "question none"}, {}});
  return batch;
}

struct Case {
  std::string name;
  llm::StrategyFactory factory;
  std::map<std::string, std::string> params;
};

std::vector<Case> all_cases() {
  return {{"listwise", llm::llm_strategy("listwise"), {}},
          {"listwise-small-window",
           llm::llm_strategy("listwise"),
           {{"window", "4"}, {"stride", "2"}, {"passes", "2"}}},
          {"first", llm::llm_strategy("first"), {{"window", "6"}, {"stride", "3"}}},
          {"insertrank", llm::llm_strategy("insertrank"), {}},
          {"pairwise-allpair", llm::llm_strategy("pairwise"), {{"variant", "allpair"}}},
          {"pairwise-heapsort", llm::llm_strategy("pairwise"), {{"variant", "heapsort"}, {"topk", "4"}}},
          {"pairwise-sliding", llm::llm_strategy("pairwise"), {{"variant", "sliding"}, {"topk", "3"}}},
          {"setwise-heapsort", llm::llm_strategy("setwise"), {{"children", "2"}}},
          {"setwise-bubblesort", llm::llm_strategy("setwise"), {{"variant", "bubblesort"}, {"topk", "3"}}},
          {"embedding", llm::llm_strategy("embedding"), {}},
          {"e2rank", llm::llm_strategy("e2rank"), {{"fb_docs", "2"}}}};
}

TEST(LlmStrategies, ReturnPermutationsDeterministically) {
  for (const auto& c : all_cases()) {
    SCOPED_TRACE(c.name);
    std::map<std::string, int> grades;
    const auto batch = awkward_batch(grades);
    RerankerOptions options;
    options.params = c.params;
    auto oracle = std::make_shared<OracleBackend>(grades);
    const auto first = c.factory(oracle, options)->rerank(batch);
    const auto again = c.factory(std::make_shared<OracleBackend>(grades), options)->rerank(batch);
    ASSERT_EQ(first.size(), batch.size());
    for (std::size_t q = 0; q < batch.size(); ++q) {
      EXPECT_EQ(sorted_ids(first[q]), sorted_ids(batch[q])) << batch[q].query.id;
      EXPECT_EQ(ids_of(first[q].ranking), ids_of(again[q].ranking));
      for (std::size_t i = 0; i < first[q].ranking.size(); ++i)
        EXPECT_EQ(first[q].ranking[i].score, again[q].ranking[i].score);
      EXPECT_EQ(first[q].cost.model_calls, again[q].cost.model_calls);
    }
    // A short list is ordered ideally by every strategy (it fits one window / heap / all pairs).
    EXPECT_EQ(ids_of(first[1].ranking), (std::vector<std::string>{"d2", "d0", "d1"}));
    // Nothing to compare: no model calls for one candidate or none.
    EXPECT_TRUE(first[5].ranking.empty());
    if (c.name != "embedding" && c.name != "e2rank") {
      EXPECT_EQ(first[4].cost.model_calls, 0u);
      EXPECT_EQ(first[5].cost.model_calls, 0u);
    }
  }
}

TEST(LlmStrategies, UnknownOptionsAreRejectedByName) {
  std::map<std::string, int> grades;
  auto oracle = std::make_shared<OracleBackend>(grades);
  RerankerOptions options;
  options.params = {{"windw", "5"}, {"stride", "2"}, {"zz", "1"}};
  try {
    llm::llm_strategy("listwise")(oracle, options);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::StartsWith("listwise: unknown option(s) windw, zz (known: "));
  }
}

TEST(LlmStrategies, BadOptionValuesNameTheOption) {
  std::map<std::string, int> grades;
  auto oracle = std::make_shared<OracleBackend>(grades);
  auto error_of = [&](llm::StrategyFactory f, std::map<std::string, std::string> params) {
    RerankerOptions options;
    options.params = std::move(params);
    try {
      f(oracle, options);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of(llm::llm_strategy("listwise"), {{"window", "ten"}}),
            "listwise: option window must be an integer, got 'ten'");
  EXPECT_EQ(error_of(llm::llm_strategy("listwise"), {{"window", "10"}, {"stride", "11"}}),
            "listwise: option stride must be between 1 and 10, got 11");
  EXPECT_EQ(error_of(llm::llm_strategy("first"), {{"window", "30"}}),
            "first: option window must be between 2 and 26, got 30");
  EXPECT_EQ(error_of(llm::llm_strategy("pairwise"), {{"variant", "bubble"}}),
            "pairwise: option variant must be one of allpair, heapsort, sliding, got 'bubble'");
  EXPECT_EQ(error_of(llm::llm_strategy("setwise"), {{"prompt", "Pick one: {passages}"}}),
            "setwise: the prompt template has no {query} placeholder");
  EXPECT_EQ(error_of(llm::llm_strategy("listwise"), {{"passage_format", "{passage}"}}),
            "listwise: the passage format has no {id} placeholder, so the model cannot name passages");
  EXPECT_EQ(
      error_of(llm::llm_strategy("listwise"), {{"template", "nope"}}),
      "unknown prompt template 'nope' (built-in: e2rank-query, e2rank-query-encoder, embedding-query, first, "
      "insertrank, plain-query, prp, rankzephyr, setwise)");
}

TEST(LlmStrategies, UserTemplatesReplaceThePublishedOnes) {
  std::map<std::string, int> grades;
  std::vector<CandidateList> batch{make_list("q", {0, 1}, grades)};
  auto oracle = std::make_shared<OracleBackend>(grades);
  RerankerOptions options;
  options.params = {{"prompt", "Q={query}\\n{passages}N={num}"},
                    {"passage_format", "<{id}:{passage}>"},
                    {"system", ""},
                    {"answer_prefix", "Ranking:"}};
  llm::llm_strategy("listwise")(oracle, options)->rerank(batch);
  ASSERT_EQ(oracle->generation_requests.size(), 1u);
  EXPECT_EQ(oracle->generation_requests[0].prompt,
            "<|im_start|>user\nQ=question q\n<1:<passage q-0000>><2:<passage q-0001>>N=2<|im_end|>\n"
            "<|im_start|>assistant\nRanking:");
}

TEST(LlmStrategies, GeneratedRankingsAreRepairedIntoPermutations) {
  std::map<std::string, int> grades;
  std::vector<CandidateList> batch{make_list("q", {0, 1, 2, 3}, grades)};
  auto oracle = std::make_shared<OracleBackend>(grades);
  oracle->forced_generation = "[3] > [3] > [9] > [1";  // a repeat, an unknown id, a cut-off answer
  const auto r = llm::llm_strategy("listwise")(oracle, {})->rerank(batch);
  EXPECT_EQ(ids_of(r[0].ranking), (std::vector<std::string>{"d2", "d0", "d1", "d3"}));
  EXPECT_EQ(r[0].cost.repaired_answers, 1u);
  oracle->forced_generation = "[4] > [1] > [3] > [2]";
  const auto clean = llm::llm_strategy("listwise")(oracle, {})->rerank(batch);
  EXPECT_EQ(ids_of(clean[0].ranking), (std::vector<std::string>{"d3", "d0", "d2", "d1"}));
  EXPECT_EQ(clean[0].cost.repaired_answers, 0u);
}

TEST(LlmStrategies, LabelsMustBeSingleTokens) {
  struct MultiTokenOracle : OracleBackend {
    using OracleBackend::OracleBackend;
    bool labels_are_single_tokens(const std::vector<std::string>&) const override { return false; }
  };
  auto backend = std::make_shared<MultiTokenOracle>(std::map<std::string, int>{});
  try {
    llm::llm_strategy("pairwise")(backend, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(
        e.what(),
        "pairwise: the answer labels ' A', ' B' are not single tokens of this model's vocabulary, so their "
        "logits cannot rank passages");
  }
}

}  // namespace
}  // namespace rerank::test
