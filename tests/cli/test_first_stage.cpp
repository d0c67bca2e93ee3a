// `rerank index`, `rerank search`, `rerank fuse` end to end, and the published SciFact BM25
// numbers (Pyserini: flat nDCG@10 0.6789, R@100 0.9253; multifield nDCG@10 0.6647) measured with
// `rerank eval`. SciFact is indexed once per test binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;
using rerank::test::run_cli;
using rerank::test::slurp;

std::string tmp(const std::string& name) {
  const fs::path dir = fs::path(RERANK_TEST_TMP) / "first_stage";
  fs::create_directories(dir);
  return (dir / (name + "_" + std::to_string(::getpid()))).string();
}

std::map<std::string, double> eval_summary(const std::string& qrels, const std::string& run) {
  const auto r = run_cli({"eval", "-m", "ndcg_cut.10", "-m", "recall.100", "-m", "map", qrels, run});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, double> out;
  std::istringstream in(r.out);
  std::string name, qid;
  double value = 0;
  while (in >> name >> qid >> value)
    if (qid == "all") out[name] = value;
  return out;
}

class SciFact : public testing::Test {
 protected:
  static std::string dataset() { return std::string(RERANK_SHARED_DATASETS) + "/scifact"; }
  static void SetUpTestSuite() {
    if (!fs::exists(dataset() + "/corpus.jsonl")) return;
    flat_ = tmp("scifact_flat");
    multi_ = tmp("scifact_multi");
    fs::remove_all(flat_);
    fs::remove_all(multi_);
    const auto a =
        run_cli({"index", "--corpus", dataset() + "/corpus.jsonl", "--index", flat_, "--flat", "--quiet"});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    const auto b = run_cli({"index", "--corpus", dataset() + "/corpus.jsonl", "--index", multi_, "--quiet"});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    // Only the 300 judged test queries: the other 809 would not change the measures (keeps the
    // sanitizer build fast).
    std::set<std::string> judged;
    std::ifstream qrels(dataset() + "/qrels/test.tsv");
    std::string line;
    std::getline(qrels, line);  // header
    while (std::getline(qrels, line)) judged.insert(line.substr(0, line.find('\t')));
    queries_ = tmp("scifact_test_queries") + ".jsonl";
    std::ifstream all(dataset() + "/queries.jsonl");
    std::ofstream kept(queries_);
    while (std::getline(all, line)) {
      const std::size_t at = line.find("\"_id\": \"");
      if (at == std::string::npos) continue;
      const std::size_t begin = at + 8;
      if (judged.count(line.substr(begin, line.find('"', begin) - begin))) kept << line << "\n";
    }
  }
  void SetUp() override {
    if (!fs::exists(dataset() + "/corpus.jsonl"))
      GTEST_SKIP() << "../shared/datasets/scifact is not available";
  }
  static std::string search(const std::string& index, const std::string& name,
                            std::vector<std::string> extra = {}) {
    const std::string run = tmp(name) + ".run";
    std::vector<std::string> args = {"search",   "--index", index,       "--queries", queries_,
                                     "--output", run,       "--threads", "2",         "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return run;
  }
  static inline std::string flat_, multi_, queries_;
};

TEST_F(SciFact, FlatBm25MatchesPyserini) {
  const std::string kept = slurp(queries_);
  EXPECT_EQ(std::count(kept.begin(), kept.end(), '\n'), 300);
  const auto m = eval_summary(dataset() + "/qrels/test.tsv", search(flat_, "flat", {"--remove-query"}));
  EXPECT_NEAR(m.at("ndcg_cut_10"), 0.6789, 0.002);
  EXPECT_NEAR(m.at("recall_100"), 0.9253, 0.002);
}

TEST_F(SciFact, MultifieldBm25MatchesPyserini) {
  const auto m = eval_summary(dataset() + "/qrels/test.tsv",
                              search(multi_, "multi", {"--fields", "title=1.0,text=1.0", "--remove-query"}));
  EXPECT_NEAR(m.at("ndcg_cut_10"), 0.6647, 0.002);
}

TEST_F(SciFact, Rm3AndFusionProduceRuns) {
  const std::string bm25 = search(flat_, "bm25_for_fusion", {"--hits", "100"});
  const std::string rm3 = search(flat_, "rm3", {"--hits", "100", "--rm3"});
  const auto m = eval_summary(dataset() + "/qrels/test.tsv", rm3);
  EXPECT_GT(m.at("ndcg_cut_10"), 0.6);  // RM3 changes the ranking but stays a sensible run
  EXPECT_NE(slurp(bm25), slurp(rm3));
  const std::string fused = tmp("fused") + ".run";
  const auto r = run_cli({"fuse", "--output", fused, bm25, rm3});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto f = eval_summary(dataset() + "/qrels/test.tsv", fused);
  EXPECT_GT(f.at("ndcg_cut_10"), 0.6);
  // The same fusion as one first stage of the registry: the same bytes.
  const std::string named =
      search(flat_, "rrf_named",
             {"--hits", "1000", "--depth", "100", "--tag", "fused", "--first-stage", "rrf(bm25,bm25+rm3)"});
  EXPECT_EQ(slurp(named), slurp(fused));
  // bm25+rm3 by name is --rm3.
  EXPECT_EQ(slurp(search(flat_, "rm3_named", {"--hits", "100", "--first-stage", "bm25+rm3"})), slurp(rm3));
}

TEST(FirstStageCli, CorruptIndexIsAnErrorNotACrash) {
  const std::string dir = tmp("corrupt_cli");
  fs::remove_all(dir);
  const std::string corpus = tmp("tiny") + ".jsonl";
  std::ofstream(corpus) << "{\"_id\":\"a\",\"title\":\"t\",\"text\":\"hello world\"}\n";
  const std::string queries = tmp("tiny_q") + ".tsv";
  std::ofstream(queries) << "1\thello\n";
  ASSERT_EQ(run_cli({"index", "--corpus", corpus, "--index", dir, "--quiet"}).exit_code, 0);
  const auto again = run_cli({"index", "--corpus", corpus, "--index", dir, "--quiet"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, testing::HasSubstr("already exists"));
  fs::resize_file(dir + "/index.rrx", fs::file_size(dir + "/index.rrx") - 3);
  const auto r = run_cli({"search", "--index", dir, "--queries", queries, "--output", tmp("x") + ".run"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, testing::HasSubstr("truncated"));
  const auto bad_fields = run_cli({"index", "--corpus", corpus, "--index", dir, "--overwrite", "--quiet"});
  ASSERT_EQ(bad_fields.exit_code, 0) << bad_fields.err;
  const auto f = run_cli(
      {"search", "--index", dir, "--queries", queries, "--output", tmp("y") + ".run", "--fields", "body=1"});
  EXPECT_EQ(f.exit_code, 1);
  EXPECT_THAT(f.err, testing::HasSubstr("no field 'body'"));
  // First-stage specs and options are checked before the index is opened.
  const auto spec = run_cli({"search", "--index", "/nonexistent", "--queries", queries, "--output",
                             tmp("z") + ".run", "--first-stage", "rrf(bm25,bm26)"});
  EXPECT_EQ(spec.exit_code, 1);
  EXPECT_THAT(spec.err, testing::StartsWith("rerank search: error: unknown first stage 'bm26' (available: "));
  const auto k1 = run_cli({"search", "--index", "/nonexistent", "--queries", queries, "--output",
                           tmp("z") + ".run", "--k1", "-1"});
  EXPECT_EQ(k1.err, "rerank search: error: bm25: option k1 must be between 0 and 1e+06, got -1\n");
  const auto fb = run_cli({"search", "--index", "/nonexistent", "--queries", queries, "--output",
                           tmp("z") + ".run", "--fb-docs", "5"});
  EXPECT_EQ(fb.err,
            "rerank search: error: first stage bm25: unknown option(s) fb_docs (known: b, fields, k1, "
            "remove_query)\n");
}

}  // namespace
