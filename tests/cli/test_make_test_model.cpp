// `rerank make-test-model` as a user runs it.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_runner.h"

namespace {

using rerank::test::run_cli;
namespace fs = std::filesystem;

TEST(MakeTestModelCli, WritesAReproducibleFile) {
  const fs::path dir = fs::path(RERANK_TEST_TMP) / "make_test_model";
  fs::create_directories(dir);
  const std::string a = (dir / "a.gguf").string(), b = (dir / "b.gguf").string();
  const auto r =
      run_cli({"make-test-model", "--arch", "bert", "--shape", "tiny", "--seed", "3", "--output", a});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "wrote " + a + " (bert tiny, f16, seed 3, random weights)\n");
  ASSERT_EQ(run_cli({"make-test-model", "--arch", "bert", "--seed", "3", "-o", b}).exit_code, 0);
  EXPECT_EQ(rerank::test::slurp(a), rerank::test::slurp(b));
  EXPECT_GT(fs::file_size(a), 4000000u);
}

TEST(MakeTestModelCli, BadOptionsAreOneLineErrors) {
  const std::string out = (fs::path(RERANK_TEST_TMP) / "never.gguf").string();
  auto r = run_cli({"make-test-model", "--arch", "qwen3", "--shape", "minilm-l6", "--output", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "rerank make-test-model: error: shape minilm-l6 is not a qwen3 shape (use tiny or qwen3-0.6b)\n");
  EXPECT_FALSE(fs::exists(out));

  r = run_cli({"make-test-model", "--arch", "gpt", "--output", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("rerank make-test-model: error: --arch"), std::string::npos) << r.err;

  r = run_cli({"make-test-model", "--arch", "bert"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--output"), std::string::npos) << r.err;
}

}  // namespace
