// `rerank convert`: exact outputs, exit codes (2 usage, 1 bad input) and error messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cli_runner.h"

using rerank::test::run_cli;
using rerank::test::slurp;

namespace {

std::string tmp(const std::string& name) {
  const auto dir = std::filesystem::path(RERANK_TEST_TMP) / "convert";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string write(const std::string& name, const std::string& content) {
  const std::string path = tmp(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  return path;
}

const char* kUsage = "usage: rerank convert [options]  (see rerank convert --help)\n";

}  // namespace

TEST(Convert, BeirQrelsToTrecOnStdout) {
  const auto in = write("q.tsv", "query-id\tcorpus-id\tscore\nq2\td1\t1\nq1\td9\t2\nq1\td3\t0\n");
  const auto r = run_cli({"convert", "--kind", "qrels", "--to", "trec", in});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "q1 0 d3 0\nq1 0 d9 2\nq2 0 d1 1\n");
  EXPECT_EQ(r.err, "");
}

TEST(Convert, TrecQrelsToBeirFile) {
  const auto in = write("q.txt", "1 0 a 1\n1 0 b 0\n2 0 a 2\n");
  const auto out = tmp("q_out.tsv");
  std::filesystem::remove(out);
  const auto r = run_cli({"convert", "--kind", "qrels", "--to", "beir", in, out});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "rerank convert: wrote 3 judgements to " + out + "\n");
  EXPECT_EQ(slurp(out), "query-id\tcorpus-id\tscore\n1\ta\t1\n1\tb\t0\n2\ta\t2\n");
}

TEST(Convert, QueriesBetweenFormats) {
  const auto topics = write("t.trec",
                            "<top>\n<num>1</num><title>\nSOLAR WIND\n</title>\n</top>\n<top><num> Number: 2 "
                            "<title> dark matter </top>\n");
  auto r = run_cli({"convert", "--kind", "queries", "--to", "beir", topics});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "{\"_id\":\"1\",\"text\":\"SOLAR WIND\"}\n{\"_id\":\"2\",\"text\":\"dark matter\"}\n");
  r = run_cli({"convert", "--kind", "queries", "--to", "tsv", topics, "-"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "1\tSOLAR WIND\n2\tdark matter\n");
  const auto tsv = write("q.tsv2", "7\tred planet\n");
  r = run_cli({"convert", "--kind", "queries", "--to", "trec", tsv});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "<top>\n<num> Number: 7\n<title> red planet\n</top>\n\n");
}

TEST(Convert, CorpusTrecToBeirAndBack) {
  const auto trec = write(
      "c.trec",
      "<DOC>\n<DOCNO>1</DOCNO>\nfirst  doc\n</DOC>\n<DOC><DOCNO>2</DOCNO><TITLE>T</TITLE>second</DOC>\n");
  const auto jsonl = tmp("c.jsonl");
  auto r = run_cli({"convert", "--kind", "corpus", "--to", "beir", trec, jsonl});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "rerank convert: wrote 2 documents to " + jsonl + "\n");
  EXPECT_EQ(slurp(jsonl),
            "{\"_id\":\"1\",\"title\":\"\",\"text\":\"first "
            "doc\"}\n{\"_id\":\"2\",\"title\":\"T\",\"text\":\"second\"}\n");
  r = run_cli({"convert", "--kind", "corpus", "--to", "trec", jsonl});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "<DOC>\n<DOCNO>1</DOCNO>\nfirst "
            "doc\n</DOC>\n<DOC>\n<DOCNO>2</DOCNO>\n<TITLE>T</TITLE>\nsecond\n</DOC>\n");
}

TEST(Convert, RunToCandidatesAndBack) {
  const auto run =
      write("run.txt", "q1 Q0 d2 1 9.5 bm25\nq1 Q0 d1 2 7.25 bm25\nq1 Q0 d3 3 1 bm25\nq2 Q0 d3 1 4 bm25\n");
  const auto corpus =
      write("cands_corpus.jsonl",
            "{\"_id\":\"d1\",\"title\":\"One\",\"text\":\"first\"}\n{\"_id\":\"d2\",\"text\":\"second\"}\n"
            "{\"_id\":\"d3\",\"text\":\"third\"}\n{\"_id\":\"d4\",\"text\":\"unused\"}\n");
  const auto queries = write("cands_q.tsv", "q1\tfind one\nq2\tfind three\nq3\tunused\n");
  const auto cands = tmp("cands.jsonl");
  auto r = run_cli({"convert", "--kind", "run", "--to", "candidates", "--corpus", corpus, "--queries",
                    queries, "--depth", "2", run, cands});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "rerank convert: wrote 2 candidate lists to " + cands + "\n");
  EXPECT_EQ(slurp(cands),
            "{\"query_id\":\"q1\",\"query\":\"find "
            "one\",\"candidates\":[{\"id\":\"d2\",\"title\":\"\",\"text\":\"second\","
            "\"score\":9.5},{\"id\":\"d1\",\"title\":\"One\",\"text\":\"first\",\"score\":7.25}]}\n"
            "{\"query_id\":\"q2\",\"query\":\"find "
            "three\",\"candidates\":[{\"id\":\"d3\",\"title\":\"\",\"text\":\"third\","
            "\"score\":4.0}]}\n");
  r = run_cli({"convert", "--kind", "candidates", "--to", "run", "--tag", "back", cands});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "q1 Q0 d2 1 9.5 back\nq1 Q0 d1 2 7.25 back\nq2 Q0 d3 1 4 back\n");
  r = run_cli({"convert", "--kind", "run", "--to", "trec", run});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "q1 Q0 d2 1 9.5 bm25\nq1 Q0 d1 2 7.25 bm25\nq1 Q0 d3 3 1 bm25\nq2 Q0 d3 1 4 bm25\n");
}

TEST(Convert, RunToCandidatesNeedsEveryDocumentAndQuery) {
  const auto run = write("run_missing.txt", "q1 Q0 d1 1 2 t\nq1 Q0 d9 2 1 t\n");
  const auto corpus = write("missing_corpus.jsonl", "{\"_id\":\"d1\",\"text\":\"x\"}\n");
  const auto queries = write("missing_q.tsv", "q1\ttext\n");
  const auto out = tmp("never.jsonl");
  std::filesystem::remove(out);
  auto r = run_cli(
      {"convert", "--kind", "run", "--to", "candidates", "--corpus", corpus, "--queries", queries, run, out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "rerank convert: error: document \"d9\" (query \"q1\") of " + run + " is not in " +
                       corpus + "\n");
  EXPECT_FALSE(std::filesystem::exists(out));
  const auto other_q = write("missing_q2.tsv", "q7\ttext\n");
  r = run_cli(
      {"convert", "--kind", "run", "--to", "candidates", "--corpus", corpus, "--queries", other_q, run});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "rerank convert: error: query \"q1\" of " + run + " is not in " + other_q + "\n");
}

TEST(Convert, BadInputExits1WithFileAndLine) {
  const auto in = write("bad.txt", "1 0 d1 1\n1 0 d2 high\n");
  const auto out = write("kept.tsv", "previous\n");
  const auto r = run_cli({"convert", "--kind", "qrels", "--to", "beir", in, out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "rerank convert: error: " + in + ":2: relevance \"high\" is not an integer\n");
  EXPECT_EQ(slurp(out), "previous\n");  // the old output survives a failed conversion
  const auto missing = run_cli({"convert", "--kind", "qrels", "--to", "beir", tmp("nope.txt")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err,
            "rerank convert: error: " + tmp("nope.txt") + ": cannot open: No such file or directory\n");
}

TEST(Convert, UsageErrorsExit2) {
  const auto in = write("u.txt", "1 0 d1 1\n");
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"convert", "--kind", "qrels", in}, "rerank convert: error: --to is required\n"},
      {{"convert", "--to", "trec", in}, "rerank convert: error: --kind is required\n"},
      {{"convert", "--kind", "qrels", "--to", "trec"}, "rerank convert: error: IN is required\n"},
      {{"convert", "--kind", "qrels", "--to", "tsv", in},
       "rerank convert: error: --to: a qrels file can be converted to: trec, beir\n"},
      {{"convert", "--kind", "topics", "--to", "trec", in},
       "rerank convert: error: --kind: topics not in {candidates,corpus,qrels,queries,run}\n"},
      {{"convert", "--kind", "run", "--to", "candidates", in},
       "rerank convert: error: --to candidates: needs --corpus and --queries\n"},
      {{"convert", "--kind", "qrels", "--to", "trec", "--corpus", in, in},
       "rerank convert: error: --corpus/--queries: only used with --kind run --to candidates\n"},
      {{"convert", "--kind", "qrels", "--to", "trec", "--tag", "x", in},
       "rerank convert: error: --tag: only used when writing a run\n"},
      {{"convert", "--kind", "qrels", "--to", "trec", "--bogus", in},
       "rerank convert: error: The following argument was not expected: --bogus\n"},
  };
  for (const auto& c : cases) {
    const auto r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.error;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, c.error + kUsage);
  }
}

TEST(Convert, HelpDescribesOptions) {
  const auto r = run_cli({"convert", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--kind"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rerank convert --kind qrels --to trec qrels/test.tsv qrels.txt"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("docs/formats.md"), std::string::npos) << r.out;
}

TEST(Convert, DemoCollectionQrelsToTrec) {
  const auto r = run_cli({"convert", "--kind", "qrels", "--to", "trec",
                          std::string(RERANK_SOURCE_DIR) + "/data/qrels/test.tsv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 252);
  EXPECT_EQ(r.out.substr(0, 22), "1 0 d034 0\n1 0 d040 2\n");
}
