// `rerank rerank` as a user runs it, on a tiny generated cross-encoder: the output run, the depth
// cut (documents below it keep their order, scores below the reranked ones), the cost summary, and
// errors for bad models and arguments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli_runner.h"
#include "tiny_models.h"

namespace {

using rerank::test::run_cli;
using rerank::test::slurp;
namespace fs = std::filesystem;

struct RunLine {
  std::string qid, q0, doc;
  int rank = 0;
  double score = 0;
  std::string tag;
};

std::vector<RunLine> parse_run(const std::string& text) {
  std::vector<RunLine> out;
  std::istringstream in(text);
  for (RunLine l; in >> l.qid >> l.q0 >> l.doc >> l.rank >> l.score >> l.tag;) out.push_back(l);
  return out;
}

std::string rerank_cli_scratch(const std::string& name) {
  const fs::path dir = fs::path(RERANK_TEST_TMP) / "rerank_cli";
  fs::create_directories(dir);
  return (dir / (std::to_string(::getpid()) + "-" + name)).string();
}

TEST(RerankCli, ReranksTheTopCandidatesAndKeepsTheRestInOrder) {
  const std::string cands = rerank_cli_scratch("cands.jsonl"), out = rerank_cli_scratch("out.run");
  std::ofstream(cands) << R"({"query_id": "q1", "query": "why is mars red", "candidates": [)"
                       << R"({"id": "a", "text": "iron oxide dust covers mars", "score": 5},)"
                       << R"({"id": "b", "text": "bananas are yellow", "score": 4},)"
                       << R"({"id": "c", "title": "Mars", "text": "the red planet", "score": 3},)"
                       << R"({"id": "d", "text": "below the depth one", "score": 2},)"
                       << R"({"id": "e", "text": "below the depth two", "score": 1}]})"
                       << "\n"
                       << R"({"query_id": "q2", "query": "empty list", "candidates": []})"
                       << "\n";
  const auto r =
      run_cli({"rerank", "--model", rerank::test::tiny_model(rerank::test::Tiny::Bert), "--candidates", cands,
               "--depth", "3", "--threads", "1", "--output", out, "--tag", "tiny"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, ::testing::HasSubstr("reranked 2 queries, 3 documents"));
  // The default runtime for BERT models (oneDNN) evaluates each pair in its own pass.
  EXPECT_THAT(r.err, ::testing::HasSubstr("3 model calls, 3 forward passes"));
  const auto lines = parse_run(slurp(out));
  ASSERT_EQ(lines.size(), 5u);
  std::set<std::string> top;
  for (int i = 0; i < 3; ++i) top.insert(lines[i].doc);
  EXPECT_EQ(top, (std::set<std::string>{"a", "b", "c"}));
  EXPECT_EQ(lines[3].doc, "d");
  EXPECT_EQ(lines[4].doc, "e");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].qid, "q1");
    EXPECT_EQ(lines[i].rank, static_cast<int>(i + 1));
    EXPECT_EQ(lines[i].tag, "tiny");
    if (i > 0) {
      EXPECT_LT(lines[i].score, lines[i - 1].score);
    }
  }
  // The same command again: the same bytes.
  const std::string out2 = rerank_cli_scratch("out2.run");
  ASSERT_EQ(run_cli({"rerank", "--model", rerank::test::tiny_model(rerank::test::Tiny::Bert), "--candidates",
                     cands, "--depth", "3", "--threads", "2", "--output", out2, "--tag", "tiny"})
                .exit_code,
            0);
  EXPECT_EQ(slurp(out2), slurp(out));
  // One query per reranker call instead of groups: still the same bytes.
  const std::string out3 = rerank_cli_scratch("out3.run");
  ASSERT_EQ(run_cli({"rerank", "--model", rerank::test::tiny_model(rerank::test::Tiny::Bert), "--candidates",
                     cands, "--depth", "3", "--query-batch", "1", "--output", out3, "--tag", "tiny"})
                .exit_code,
            0);
  EXPECT_EQ(slurp(out3), slurp(out));
}

TEST(RerankCli, BadModelsAndArgumentsAreClearErrors) {
  const std::string cands = rerank_cli_scratch("one.jsonl"), out = rerank_cli_scratch("never.run");
  std::ofstream(cands) << R"({"query_id": "q1", "query": "x", "candidates": [{"id": "a", "text": "y"}]})"
                       << "\n";
  const std::string text_model = rerank_cli_scratch("not-a-model.gguf");
  std::ofstream(text_model) << "hello";
  auto r = run_cli({"rerank", "--model", text_model, "--candidates", cands, "--output", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "rerank rerank: error: " + text_model + ": not a GGUF file (no GGUF magic at the start)\n");
  r = run_cli({"rerank", "--model", rerank::test::tiny_model(rerank::test::Tiny::Bert), "--output", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "rerank rerank: error: give exactly one of --run, --first-stage and --candidates\n");
  r = run_cli({"rerank", "--model", rerank::test::tiny_model(rerank::test::Tiny::Bert), "--run", cands,
               "--output", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "rerank rerank: error: --run needs --queries and --corpus\n");
  r = run_cli({"rerank", "--model", rerank::test::tiny_model(rerank::test::Tiny::Bert), "--candidates", cands,
               "--strategy", "nope", "--output", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, ::testing::StartsWith("rerank rerank: error: unknown reranking strategy 'nope'"));
  EXPECT_FALSE(fs::exists(out));
}

// Options are checked before the model file is read: a model that does not exist is not what is
// reported, and the flag that set a misread option is named.
TEST(RerankCli, OptionsAreCheckedBeforeTheModelIsRead) {
  const std::string cands = rerank_cli_scratch("opts.jsonl"), out = rerank_cli_scratch("opts.run");
  std::ofstream(cands) << R"({"query_id": "q1", "query": "x", "candidates": [{"id": "a", "text": "y"}]})"
                       << "\n";
  const std::string missing = "/nonexistent/model.gguf";
  auto r = run_cli({"rerank", "--model", missing, "--candidates", cands, "--output", out, "--strategy",
                    "setwise", "--param", "childern=2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err,
              ::testing::StartsWith("rerank rerank: error: setwise: unknown option(s) childern (known: "));
  EXPECT_THAT(r.err, ::testing::HasSubstr("children"));
  r = run_cli({"rerank", "--model", missing, "--candidates", cands, "--output", out, "--max-length", "3"});
  EXPECT_EQ(
      r.err,
      "rerank rerank: error: pointwise: option max_length (--max-length) must be between 8 and 1048576, "
      "got 3\n");
  // Valid options get as far as the model.
  r = run_cli({"rerank", "--model", missing, "--candidates", cands, "--output", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, ::testing::HasSubstr(missing));
  EXPECT_FALSE(fs::exists(out));
}

// precision=bf16 is refused where it cannot apply: with the llama.cpp runtime (before the model is
// read), and on a CPU without native BF16 (oneDNN told to see AVX-512 without BF16).
TEST(RerankCli, Bf16PrecisionIsRefusedWhereItCannotApply) {
  const std::string cands = rerank_cli_scratch("bf16.jsonl"), out = rerank_cli_scratch("bf16.run");
  std::ofstream(cands) << R"({"query_id": "q1", "query": "x", "candidates": [{"id": "a", "text": "y"}]})"
                       << "\n";
  auto r = run_cli({"rerank", "--model", "/nonexistent/model.gguf", "--candidates", cands, "--output", out,
                    "--param", "precision=bf16", "--param", "runtime=llama"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "rerank rerank: error: pointwise: option precision applies to runtime=onednn (llama.cpp computes "
            "at the weights' types)\n");
  const std::string model = rerank::test::tiny_model(rerank::test::Tiny::Bert);
  ::setenv("DNNL_MAX_CPU_ISA", "AVX512_CORE", 1);
  r = run_cli(
      {"rerank", "--model", model, "--candidates", cands, "--output", out, "--param", "precision=bf16"});
  const auto f32 = run_cli({"rerank", "--model", model, "--candidates", cands, "--output", out});
  ::setenv("DNNL_MAX_CPU_ISA", "AVX2", 1);  // no VNNI
  const auto int8 = run_cli(
      {"rerank", "--model", model, "--candidates", cands, "--output", out, "--param", "precision=int8"});
  ::unsetenv("DNNL_MAX_CPU_ISA");
  EXPECT_EQ(int8.exit_code, 1);
  EXPECT_EQ(int8.err,
            "rerank rerank: error: " + model +
                ": INT8 precision needs a CPU with AVX-VNNI, AVX512-VNNI or AMX (this one has none, "
                "and oneDNN's INT8 kernels without them are many times slower than F32; use f32)\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "rerank rerank: error: " + model +
                ": BF16 precision needs a CPU with AVX512-BF16 or AMX (this one has neither; use f32)\n");
  EXPECT_EQ(f32.exit_code, 0) << f32.err;  // F32 weights: auto computes in F32 on any CPU
}

// `--first-stage` retrieves and reranks in one command; the result is the same as reranking the
// first stage's run file.
TEST(RerankCli, FirstStageThenRerankEqualsRerankingItsRun) {
  const std::string corpus = rerank_cli_scratch("fs-corpus.jsonl"),
                    queries = rerank_cli_scratch("fs-queries.tsv");
  const std::string index = rerank_cli_scratch("fs-index"), run = rerank_cli_scratch("fs-bm25.run");
  std::ofstream(corpus) << R"({"_id": "a", "text": "iron oxide dust covers mars"})"
                        << "\n"
                        << R"({"_id": "b", "title": "Mars", "text": "the red planet mars"})"
                        << "\n"
                        << R"({"_id": "c", "text": "bananas are yellow"})"
                        << "\n"
                        << R"({"_id": "d", "text": "red bananas from mars"})"
                        << "\n";
  std::ofstream(queries) << "q1\tred mars\nq2\tyellow bananas\n";
  fs::remove_all(index);
  ASSERT_EQ(run_cli({"index", "--corpus", corpus, "--index", index, "--quiet"}).exit_code, 0);
  ASSERT_EQ(run_cli({"search", "--index", index, "--queries", queries, "--output", run, "--quiet"}).exit_code,
            0);
  const std::string model = rerank::test::tiny_model(rerank::test::Tiny::Bert);
  const std::string via_run = rerank_cli_scratch("fs-via-run.run"),
                    via_stage = rerank_cli_scratch("fs-via-stage.run");
  auto r = run_cli({"rerank", "--model", model, "--queries", queries, "--corpus", corpus, "--run", run,
                    "--depth", "2", "--output", via_run});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"rerank", "--model", model, "--queries", queries, "--corpus", corpus, "--first-stage", "bm25",
               "--index", index, "--depth", "2", "--output", via_stage});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(slurp(via_stage), slurp(via_run));
  EXPECT_EQ(parse_run(slurp(via_stage)).size(), 5u);  // q1: a, b, d; q2: c, d (what BM25 matched)
}

}  // namespace
