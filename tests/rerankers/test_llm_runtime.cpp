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
#include "rerank/reranker.h"
#include "rerank/test_models.h"
#include "rerankers/llama_backend.h"
#include "rerankers/permutation_constraint.h"

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
    // A query long enough for the prompts' shared prefix to span a whole 64-token tile, the unit of
    // prefix reuse (LanguageModel::next_token_logits).
    CandidateList many{
        {"q1",
         "what causes tides in the oceans of the earth, and how do the moon, the sun and the "
         "shape of a coast change their height and their timing over the course of a month, a year "
         "and the long cycle of the lunar nodes"},
        {}};
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

TEST_F(TinyQwen3, FreeListwiseAnswersAreRepairedAndCounted) {
  // constrained=off decodes freely, as RankGPT does: a random model writes no permutation, every
  // window's answer is repaired (counted), and the ranking is still a permutation of the candidates.
  const auto input = batch();
  for (const char* constrained : {"off", "on"}) {
    SCOPED_TRACE(constrained);
    const auto r =
        make("listwise", {{"window", "4"}, {"stride", "2"}, {"constrained", constrained}})->rerank(input);
    std::vector<std::string> expected;
    for (const auto& c : input[0].candidates) expected.push_back(c.doc_id);
    EXPECT_EQ(sorted(ids(r[0])), sorted(expected));
    EXPECT_EQ(r[0].cost.model_calls, 2u);  // windows 3-6 and 1-4 of six candidates
    EXPECT_EQ(r[0].cost.repaired_answers, std::string(constrained) == "off" ? 2u : 0u);
  }
}

TEST_F(TinyQwen3, ConstrainedGenerationWritesExactPermutationsOfAWholeWindow) {
  RerankerOptions o;
  o.model_path = path_;
  o.threads = 2;
  auto backend = llm::open_llama_backend(o.model_path, o.threads, {});
  std::string user = "Rank:";
  for (int i = 1; i <= 20; ++i) user += " [" + std::to_string(i) + "] passage " + std::to_string(i * 7);
  auto request = [&](const std::string& text, std::size_t n) {
    return GenerationRequest{backend->chat("", text, ""), "", 200,
                             [n] { return std::make_unique<llm::PermutationConstraint>(n); }};
  };
  const auto window = request(user, 20), small = request("Rank [1] a [2] b [3] c", 3);
  // The raw text itself names each of the n identifiers exactly once, in the answer format.
  auto expect_exact_permutation = [](const std::string& t, int n) {
    std::vector<std::string> parts;
    for (std::size_t from = 0;;) {
      const std::size_t sep = t.find(" > ", from);
      parts.push_back(t.substr(from, sep == std::string::npos ? std::string::npos : sep - from));
      if (sep == std::string::npos) break;
      from = sep + 3;
    }
    ASSERT_EQ(parts.size(), static_cast<std::size_t>(n)) << t;
    std::set<std::string> distinct(parts.begin(), parts.end());
    EXPECT_EQ(distinct.size(), parts.size()) << t;
    for (const auto& p : parts) {
      ASSERT_GE(p.size(), 3u) << t;
      const int id = std::stoi(p.substr(1, p.size() - 2));
      EXPECT_TRUE(p.front() == '[' && p.back() == ']' && id >= 1 && id <= n) << p;
    }
  };
  // Three generations in one call (shared decoding passes), then one alone.
  const auto together = backend->generate({window, small, window});
  ASSERT_EQ(together.size(), 3u);
  expect_exact_permutation(together[0].text, 20);
  expect_exact_permutation(together[1].text, 3);
  EXPECT_EQ(together[0].text, together[2].text);
  const auto alone = backend->generate({small});
  EXPECT_EQ(alone[0].text, together[1].text);
  // Costs: every generated token is booked on its own request; the shared passes on the first.
  EXPECT_GE(together[0].cost.generated_tokens, 40u);
  EXPECT_GT(together[0].cost.forward_passes, together[2].cost.forward_passes);
  EXPECT_EQ(together[2].cost.generated_tokens, together[0].cost.generated_tokens);
  EXPECT_GT(together[2].cost.cached_tokens, 0u);  // the shared chat prefix
}

// When the best token is refused, the runtime checks only the tokens spelled with the constraint's
// alphabet; it must choose exactly what a scan of the whole vocabulary chooses. The random-weight
// model's best token is refused at almost every step, so every choice here goes through that path.
TEST_F(TinyQwen3, ConstraintAlphabetChoosesAsTheWholeVocabularyDoes) {
  struct WholeVocabulary : llm::PermutationConstraint {
    using PermutationConstraint::PermutationConstraint;
    std::string_view alphabet() const override { return {}; }
  };
  auto backend = llm::open_llama_backend(path_, 2, {});
  std::string user = "Rank:";
  for (int i = 1; i <= 20; ++i) user += " [" + std::to_string(i) + "] passage " + std::to_string(i * 13);
  const std::string prompt = backend->chat("", user, "");
  const auto with_alphabet =
      backend->generate({{prompt, "", 200, [] { return std::make_unique<llm::PermutationConstraint>(20); }},
                         {prompt, "", 200, [] { return std::make_unique<llm::PermutationConstraint>(7); }}});
  const auto whole =
      backend->generate({{prompt, "", 200, [] { return std::make_unique<WholeVocabulary>(20); }},
                         {prompt, "", 200, [] { return std::make_unique<WholeVocabulary>(7); }}});
  ASSERT_EQ(with_alphabet.size(), 2u);
  EXPECT_EQ(with_alphabet[0].text, whole[0].text);
  EXPECT_EQ(with_alphabet[1].text, whole[1].text);
  EXPECT_EQ(std::count(whole[0].text.begin(), whole[0].text.end(), '['), 20);
  EXPECT_EQ(std::count(whole[1].text.begin(), whole[1].text.end(), '['), 7);
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
