// Every LLM strategy end to end on the llama.cpp runtime with a tiny generated Qwen3 model (random
// weights: the rankings mean nothing; what is checked is the plumbing): each returns a permutation of
// its input, the same one on every run, with fewer candidates than a window, duplicate ids and empty
// documents; costs are reported per query.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "rerank/error.h"
#include "rerank/llm_backend.h"
#include "rerank/permutation_grammar.h"
#include "rerank/reranker.h"
#include "rerank/test_models.h"

namespace rerank {
namespace {

namespace fs = std::filesystem;

class TinyQwen3 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // ctest runs each test in its own process, concurrently: every process writes its own model.
    const fs::path dir = fs::path(RERANK_TEST_TMP) / ("llm_runtime_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    path_ = (dir / "tiny-qwen3.gguf").string();
    if (fs::exists(path_) || !fs::exists(default_vocab_path(TestModelArch::Qwen3))) return;
    TestModelSpec spec;
    spec.arch = TestModelArch::Qwen3;
    spec.shape = TestModelShape::Tiny;
    spec.seed = 5;
    spec.type = TestModelType::F32;
    write_test_model(spec, path_);
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(fs::path(path_).parent_path(), ec);
  }
  void SetUp() override {
    if (!fs::exists(default_vocab_path(TestModelArch::Qwen3)))
      GTEST_SKIP() << "llama.cpp vocabulary not found: " << default_vocab_path(TestModelArch::Qwen3);
    ASSERT_TRUE(fs::exists(path_)) << "the test model was not written: " << path_;
  }

  static std::vector<CandidateList> batch() {
    std::vector<CandidateList> b;
    CandidateList many{{"q1", "what causes tides"}, {}};
    for (int i = 0; i < 6; ++i) {
      std::string text = "passage number ";
      text.append(std::to_string(i)).append(" about the moon and the sea");
      many.candidates.push_back(
          {std::string("m").append(std::to_string(i)), i % 3 ? "" : "Title", text, 20.0 - i});
    }
    b.push_back(many);
    CandidateList awkward{{"q2", "duplicates and empty documents"}, {}};
    awkward.candidates = {{"a", "", "first text", 3.0},
                          {"a", "", "first text", 2.5},
                          {"e", "", "", 2.0},
                          {"b", "", "other text", 1.0}};
    b.push_back(awkward);
    b.push_back(CandidateList{{"q3", "single"}, {{"s", "", "only one", 1.0}}});
    return b;
  }

  static std::unique_ptr<Reranker> make(const std::string& name, std::map<std::string, std::string> params) {
    RerankerOptions o;
    o.model_path = path_;
    o.threads = 2;
    o.params = std::move(params);
    o.params.emplace("context_tokens", "2048");
    return make_reranker(name, o);
  }

  static std::string path_;
};

std::string TinyQwen3::path_;

std::vector<std::string> ids(const RerankResult& r) {
  std::vector<std::string> v;
  for (const auto& d : r.ranking) v.push_back(d.doc_id);
  return v;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_F(TinyQwen3, EveryGenerativeStrategyReturnsTheSamePermutationTwice) {
  const std::vector<std::pair<std::string, std::map<std::string, std::string>>> cases = {
      // Generation samples under a grammar over the whole 150k-token vocabulary, the slow part:
      // small windows keep the test quick.
      {"listwise", {{"window", "3"}, {"stride", "2"}}},
      {"insertrank", {{"window", "3"}, {"stride", "3"}}},
      {"first", {{"window", "4"}, {"stride", "2"}}},
      {"pairwise", {{"variant", "heapsort"}, {"topk", "2"}}},
      {"pairwise", {{"variant", "sliding"}, {"topk", "2"}}},
      {"pairwise", {{"variant", "allpair"}}},
      {"setwise", {{"variant", "heapsort"}, {"children", "2"}, {"topk", "2"}}},
      {"setwise", {{"variant", "bubblesort"}, {"children", "2"}, {"topk", "2"}}},
  };
  const auto input = batch();
  for (const auto& [name, params] : cases) {
    SCOPED_TRACE(name);
    auto reranker = make(name, params);
    const auto one = reranker->rerank(input);
    const auto two = reranker->rerank(input);  // same answers: deterministic, no state kept between calls
    ASSERT_EQ(one.size(), input.size());
    for (std::size_t q = 0; q < input.size(); ++q) {
      std::vector<std::string> expected;
      for (const auto& c : input[q].candidates) expected.push_back(c.doc_id);
      EXPECT_EQ(sorted(ids(one[q])), sorted(expected));
      EXPECT_EQ(ids(one[q]), ids(two[q]));
    }
    EXPECT_GT(one[0].cost.model_calls, 0u);
    EXPECT_GT(one[0].cost.forward_passes, 0u);
    EXPECT_GT(one[0].cost.prompt_tokens, 0u);
    EXPECT_GT(one[0].cost.flops, 0.0);
    EXPECT_EQ(one[2].cost.model_calls, 0u);  // a single candidate needs no model call
    if (name == "listwise" || name == "insertrank") {
      EXPECT_GT(one[0].cost.generated_tokens, 0u);
    }
    if (name == "pairwise") {
      EXPECT_GT(one[0].cost.cached_tokens,
                0u);  // both orders of a pair are asked together, sharing the prefix
    }
  }
}

TEST_F(TinyQwen3, GrammarConstrainedGenerationWritesPermutations) {
  RerankerOptions o;
  o.model_path = path_;
  o.threads = 2;
  auto backend = open_llm_backend(o);
  // Exact grammar (4 <= 9 identifiers): the raw generation itself is a permutation.
  const GenerationRequest exact{backend->chat("", "Rank [1] a [2] b [3] c [4] d", ""),
                                llm::permutation_grammar(4), 40};
  const auto g = backend->generate({exact, exact});
  ASSERT_EQ(g.size(), 2u);
  // Exactly "[a] > [b] > [c] > [d]" with identifiers 1-4 (std::regex trips GCC 12 warnings under ASan).
  const std::string& t = g[0].text;
  ASSERT_EQ(t.size(), 21u) << t;
  std::set<char> distinct;
  for (std::size_t i = 0; i < 4; ++i) {
    const std::size_t at = i * 6;
    ASSERT_TRUE(t[at] == '[' && t[at + 1] >= '1' && t[at + 1] <= '4' && t[at + 2] == ']') << t;
    if (i < 3) {
      ASSERT_EQ(t.substr(at + 3, 3), " > ") << t;
    }
    distinct.insert(t[at + 1]);
  }
  EXPECT_EQ(distinct.size(), 4u) << g[0].text;
  EXPECT_EQ(g[0].text, g[1].text);
  EXPECT_GT(g[0].cost.generated_tokens, 0u);
}

TEST_F(TinyQwen3, EmbeddingStrategiesRankByLastTokenEmbeddings) {
  const auto input = batch();
  for (const std::string name : {"embedding", "e2rank"}) {
    SCOPED_TRACE(name);
    auto reranker = make(name, {});
    const auto one = reranker->rerank(input);
    const auto two = reranker->rerank(input);
    for (std::size_t q = 0; q < input.size(); ++q) {
      std::vector<std::string> expected;
      for (const auto& c : input[q].candidates) expected.push_back(c.doc_id);
      EXPECT_EQ(sorted(ids(one[q])), sorted(expected));
      EXPECT_EQ(ids(one[q]), ids(two[q]));
      for (std::size_t i = 0; i < one[q].ranking.size(); ++i) {
        EXPECT_NEAR(one[q].ranking[i].score, two[q].ranking[i].score, 1e-6);
        EXPECT_LE(std::abs(one[q].ranking[i].score), 1.0 + 1e-6);  // cosine similarities
        if (i) {
          EXPECT_GE(one[q].ranking[i - 1].score, one[q].ranking[i].score);
        }
      }
    }
    EXPECT_EQ(one[0].cost.model_calls, 7u);  // the query and six documents
    EXPECT_GT(one[0].cost.prompt_tokens, 0u);
  }
}

TEST_F(TinyQwen3, UnknownStrategyOptionsFailBeforeRanking) {
  try {
    make("setwise", {{"childs", "3"}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::StartsWith("setwise: unknown option(s) childs"));
  }
}

}  // namespace
}  // namespace rerank
