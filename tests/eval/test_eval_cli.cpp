// `rerank eval` and `rerank compare` as a user runs them: trec_eval's output format byte for byte,
// its flags, both qrels formats, and the error messages.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_runner.h"

using rerank::test::run_cli;

namespace {

class EvalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(RERANK_TEST_TMP) / ("eval_cli_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    // qA: a1 relevant at rank 1 (AP 1); qB: b1 relevant at rank 2 (AP 0.5); qC judged, not run;
    // qZ run, not judged.
    write("qrels.txt", "qA 0 a1 1\nqA 0 a2 0\nqB 0 b1 1\nqC 0 c1 1\n");
    write("qrels.tsv", "query-id\tcorpus-id\tscore\nqA\ta1\t1\nqA\ta2\t0\nqB\tb1\t1\nqC\tc1\t1\n");
    write("run.txt",
          "qA Q0 a1 1 0.9 tagX\nqA Q0 a2 2 0.8 tagX\nqB Q0 x 1 0.9 tagX\nqB Q0 b1 2 0.5 tagX\nqZ Q0 z 1 1.0 "
          "tagX\n");
  }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(EvalCli, SummaryLinesAreFormattedLikeTrecEval) {
  const auto r =
      run_cli({"eval", "-m", "map", "-m", "num_ret", "-m", "P.5", path("qrels.txt"), path("run.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Counts print as integers, measures as %6.4f; names padded to 22 columns; trec_eval's order.
  EXPECT_EQ(r.out,
            "num_ret               \tall\t4\n"
            "map                   \tall\t0.7500\n"    // (1 + 0.5) / 2
            "P_5                   \tall\t0.2000\n");  // (1/5 + 1/5) / 2
  EXPECT_EQ(r.err, "");
}

TEST_F(EvalCli, PerQueryLinesComeFirstInQueryOrder) {
  const auto r = run_cli({"eval", "-q", "-m", "map", "-m", "num_rel", path("qrels.txt"), path("run.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "num_rel               \tqA\t1\n"
            "map                   \tqA\t1.0000\n"
            "num_rel               \tqB\t1\n"
            "map                   \tqB\t0.5000\n"
            "num_rel               \tall\t2\n"
            "map                   \tall\t0.7500\n");
}

TEST_F(EvalCli, CompleteFlagIncludesJudgedQueriesTheRunLacks) {
  const auto r = run_cli({"eval", "-q", "-c", "-m", "map", path("qrels.txt"), path("run.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "map                   \tqA\t1.0000\n"
            "map                   \tqB\t0.5000\n"
            "map                   \tqC\t0.0000\n"
            "map                   \tall\t0.5000\n");  // (1 + 0.5 + 0) / 3
}

TEST_F(EvalCli, NoSummaryFlag) {
  const auto r = run_cli({"eval", "-q", "-n", "-m", "map", path("qrels.txt"), path("run.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "map                   \tqA\t1.0000\nmap                   \tqB\t0.5000\n");
}

TEST_F(EvalCli, DefaultMeasuresStartWithRunidAndNumQ) {
  const auto r = run_cli({"eval", path("qrels.txt"), path("run.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<std::string> v;
  for (std::string line; std::getline(lines, line);) v.push_back(line);
  ASSERT_EQ(v.size(), 18u)
      << r.out;  // runid num_q num_ret num_rel num_rel_ret map Rprec bpref recip_rank P x9
  EXPECT_EQ(v[0], "runid                 \tall\ttagX");
  EXPECT_EQ(v[1], "num_q                 \tall\t2");
  EXPECT_EQ(v[4], "num_rel_ret           \tall\t2");
  EXPECT_EQ(v[17], "P_1000                \tall\t0.0010");  // (1 + 1) / 1000 / 2
}

TEST_F(EvalCli, RelevanceLevelInTrecEvalSyntax) {
  // No grade reaches 2: nothing is relevant.
  for (const auto& flag : std::vector<std::vector<std::string>>{{"-l2"}, {"-l", "2"}}) {
    std::vector<std::string> args = {"eval", "-m", "num_rel", "-m", "map"};
    args.insert(args.end(), flag.begin(), flag.end());
    args.push_back(path("qrels.txt"));
    args.push_back(path("run.txt"));
    const auto r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "num_rel               \tall\t0\nmap                   \tall\t0.0000\n");
  }
}

TEST_F(EvalCli, BeirQrelsGiveTheSameNumbers) {
  const auto trec = run_cli({"eval", "-q", "-m", "all", path("qrels.txt"), path("run.txt")});
  const auto beir = run_cli({"eval", "-q", "-m", "all", path("qrels.tsv"), path("run.txt")});
  ASSERT_EQ(trec.exit_code, 0) << trec.err;
  ASSERT_EQ(beir.exit_code, 0) << beir.err;
  EXPECT_EQ(trec.out, beir.out);
}

TEST_F(EvalCli, RankColumnIsIgnored) {
  // The file says a is rank 1, but b has the higher score and so ranks first.
  write("rank.txt", "q Q0 a 1 0.5 t\nq Q0 b 2 0.9 t\n");
  write("rank_qrels.txt", "q 0 a 1\n");
  const auto r = run_cli({"eval", "-m", "recip_rank", path("rank_qrels.txt"), path("rank.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "recip_rank            \tall\t0.5000\n");
}

TEST_F(EvalCli, MissingFileIsReported) {
  const auto r = run_cli({"eval", path("qrels.txt"), path("no_such_run.txt")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("rerank eval: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("no_such_run.txt"), std::string::npos) << r.err;
}

TEST_F(EvalCli, MalformedRunLineIsReportedWithItsLine) {
  write("bad_run.txt", "qA Q0 a1 1 0.9 t\nqA Q0 a2 2 t\n");
  const auto r = run_cli({"eval", path("qrels.txt"), path("bad_run.txt")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad_run.txt:2: "), std::string::npos) << r.err;
}

TEST_F(EvalCli, MalformedQrelsLineIsReportedWithItsLine) {
  write("bad_qrels.txt", "qA 0 a1 1\nqA 0 a2 high\n");
  const auto r = run_cli({"eval", path("bad_qrels.txt"), path("run.txt")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad_qrels.txt:2: "), std::string::npos) << r.err;
}

TEST_F(EvalCli, UnknownMeasureIsAnError) {
  const auto r = run_cli({"eval", "-m", "ndcg@10", path("qrels.txt"), path("run.txt")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("rerank eval: error: unknown measure \"ndcg@10\" (known: ", 0), 0u) << r.err;
}

TEST_F(EvalCli, NoCommonQueryIsAnError) {
  write("other_run.txt", "qQ Q0 a1 1 0.9 t\n");
  const auto r = run_cli({"eval", path("qrels.txt"), path("other_run.txt")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(
      r.err,
      "rerank eval: error: no query has both judgements and results (the qrels judge 3 queries, the run "
      "answers 1)\n");
}

TEST_F(EvalCli, MaxDocsAndLevelAreChecked) {
  // -M 1 keeps rank 1 only: qA a1 (AP 1), qB x (AP 0).
  const auto ok =
      run_cli({"eval", "-M", "1", "-m", "map", "-m", "num_ret", path("qrels.txt"), path("run.txt")});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "num_ret               \tall\t2\nmap                   \tall\t0.5000\n");
  EXPECT_EQ(run_cli({"eval", "-M", "0", path("qrels.txt"), path("run.txt")}).exit_code, 2);
  const auto level = run_cli({"eval", "-l", "-1", path("qrels.txt"), path("run.txt")});
  EXPECT_EQ(level.exit_code, 1);
  EXPECT_EQ(level.err, "rerank eval: error: relevance level must be 0 or more, not -1\n");
}

TEST_F(EvalCli, MissingArgumentIsAUsageError) {
  const auto r = run_cli({"eval", path("qrels.txt")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("usage: rerank eval"), std::string::npos) << r.err;
}

TEST_F(EvalCli, CompareReportsMeansTestsAndWins) {
  // A: qA AP 1, qB AP 0.5, qC not answered (0). B: qA AP 0.5, qB AP 1, qC AP 1.
  write("run_b.txt", "qA Q0 a2 1 0.9 B\nqA Q0 a1 2 0.8 B\nqB Q0 b1 1 0.9 B\nqC Q0 c1 1 1.0 B\n");
  const auto r = run_cli({"compare", path("run.txt"), path("run_b.txt"), path("qrels.txt"), "-m", "map"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<std::string> v;
  for (std::string line; std::getline(lines, line);) v.push_back(line);
  ASSERT_EQ(v.size(), 6u) << r.out;
  EXPECT_EQ(v[2], "# queries: 3 (judged queries answered by A or B)");
  EXPECT_EQ(v[3], "# paired two-sided t-test on B - A; randomization test: 10000 sign flips, seed 42");
  EXPECT_EQ(v[4], "measure\tmean_A\tmean_B\tB-A\tt\tp_ttest\tp_random\tA>B\tA=B\tA<B");
  // means 0.5 and 0.8333; d = {-0.5, 0.5, 1}: mean 1/3, sd sqrt(1.1667 / 2), t = 0.7559, df 2:
  // p = 1 - t / sqrt(2 + t^2) = 0.5286. Randomization: 6 of the 8 sign patterns reach |sum| >= 1
  // (exact p 0.75); the sampled value is checked below.
  std::istringstream fields(v[5]);
  std::vector<std::string> f;
  for (std::string s; std::getline(fields, s, '\t');) f.push_back(s);
  ASSERT_EQ(f.size(), 10u) << v[5];
  EXPECT_EQ(std::vector<std::string>(f.begin(), f.begin() + 6),
            (std::vector<std::string>{"map", "0.5000", "0.8333", "0.3333", "0.7559", "0.5286"}));
  EXPECT_NEAR(std::stod(f[6]), 0.75, 0.015);
  EXPECT_EQ(f[7], "1");
  EXPECT_EQ(f[8], "0");
  EXPECT_EQ(f[9], "2");
  // Fixed seed: the same command prints the same thing.
  EXPECT_EQ(run_cli({"compare", path("run.txt"), path("run_b.txt"), path("qrels.txt"), "-m", "map"}).out,
            r.out);
}

TEST_F(EvalCli, CompareRefusesSummaryOnlyMeasures) {
  const auto r = run_cli({"compare", path("run.txt"), path("run.txt"), path("qrels.txt"), "-m", "num_q"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "rerank compare: error: measure \"num_q\" has no per-query values to compare\n");
}

}  // namespace
