// `rerank rerank --strategy NAME` for the LLM strategies, as a user runs it, on a tiny generated
// Qwen3 model (random weights: only the plumbing is checked, never relevance).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_runner.h"
#include "rerank/test_models.h"

namespace {

namespace fs = std::filesystem;
using rerank::test::run_cli;
using rerank::test::slurp;

class CliLlmStrategies : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // ctest runs each test in its own process, concurrently: every process writes its own files.
    dir_ = fs::path(RERANK_TEST_TMP) / ("cli_llm_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    model_ = (dir_ / "tiny-qwen3.gguf").string();
    if (!fs::exists(rerank::default_vocab_path(rerank::TestModelArch::Qwen3))) return;
    rerank::TestModelSpec spec;
    spec.arch = rerank::TestModelArch::Qwen3;
    spec.shape = rerank::TestModelShape::Tiny;
    spec.seed = 3;
    if (!fs::exists(model_)) rerank::write_test_model(spec, model_);
    std::ofstream(dir_ / "c.jsonl")
        << R"({"query_id": "1", "query": "why is mars red", "candidates": [{"id": "d1", "title": "Rusty", "text": "Mars looks red because of iron oxide", "score": 12.8}, {"id": "d2", "text": "Not everything red is hot", "score": 9.0}, {"id": "d3", "text": "", "score": 8.0}, {"id": "d4", "text": "Planets and dust", "score": 7.5}, {"id": "d5", "text": "Red dust storms", "score": 7.0}]})"
           "\n"
        << R"({"query_id": "2", "query": "tides", "candidates": [{"id": "x1", "text": "The moon pulls the sea", "score": 3.0}]})"
           "\n";
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void SetUp() override {
    if (!fs::exists(rerank::default_vocab_path(rerank::TestModelArch::Qwen3)))
      GTEST_SKIP() << "llama.cpp vocabulary for the test model not found";
    ASSERT_TRUE(fs::exists(model_)) << "the test model was not written: " << model_;
  }

  static rerank::test::CliResult rerank_with(const std::string& strategy,
                                             const std::vector<std::string>& params, const std::string& out) {
    std::vector<std::string> args = {
        "rerank",   "--model", model_,       "--candidates", (dir_ / "c.jsonl").string(),
        "--output", out,       "--strategy", strategy,       "--threads",
        "2"};
    for (const auto& p : params) {
      args.push_back("--param");
      args.push_back(p);
    }
    return run_cli(args);
  }

  static fs::path dir_;
  static std::string model_;
};

fs::path CliLlmStrategies::dir_;
std::string CliLlmStrategies::model_;

// The doc ids of query `qid` in a TREC run, in file order.
std::vector<std::string> docs_of(const std::string& run, const std::string& qid) {
  std::vector<std::string> ids;
  std::istringstream in(run);
  std::string q, q0, doc, rank, score, tag;
  while (in >> q >> q0 >> doc >> rank >> score >> tag)
    if (q == qid) ids.push_back(doc);
  return ids;
}

TEST_F(CliLlmStrategies, EachStrategyWritesTheSameCompleteRunTwice) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"first", {"window=4", "stride=2"}},
      {"listwise", {"window=3", "stride=2"}},
      {"setwise", {"children=2", "topk=2"}},
      {"pairwise", {"variant=heapsort", "topk=2"}},
      {"embedding", {}},
  };
  for (const auto& [strategy, params] : cases) {
    SCOPED_TRACE(strategy);
    const std::string a = (dir_ / (strategy + "-a.run")).string(),
                      b = (dir_ / (strategy + "-b.run")).string();
    const auto r = rerank_with(strategy, params, a);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(rerank_with(strategy, params, b).exit_code, 0);
    EXPECT_EQ(slurp(a), slurp(b));
    auto ids = docs_of(slurp(a), "1");
    std::sort(ids.begin(), ids.end());
    EXPECT_THAT(ids, ::testing::ElementsAre("d1", "d2", "d3", "d4", "d5"));
    EXPECT_THAT(docs_of(slurp(a), "2"), ::testing::ElementsAre("x1"));
    EXPECT_THAT(r.err, ::testing::HasSubstr("with " + strategy + ":"));
  }
}

TEST_F(CliLlmStrategies, UnknownOptionIsAnErrorNamingIt) {
  const auto r = rerank_with("listwise", {"windw=4"}, (dir_ / "bad.run").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, ::testing::HasSubstr("listwise: unknown option(s) windw"));
  EXPECT_FALSE(fs::exists(dir_ / "bad.run"));
}

}  // namespace
