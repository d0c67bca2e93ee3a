// `rerank index --embed`, `rerank search --first-stage dense|hybrid` end to end on a hand-made
// corpus with the tiny random BERT (mean pooling), and the errors users meet.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "model/tiny_embedding_model.h"

namespace {

namespace fs = std::filesystem;
using rerank::test::run_cli;
using rerank::test::slurp;

std::string scratch(const std::string& name) {
  const fs::path dir = fs::path(RERANK_TEST_TMP) / "dense_cli" / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

struct Collection {
  std::string dir, corpus, queries, index;
};

Collection collection(const std::string& name) {
  Collection c;
  c.dir = scratch(name);
  c.corpus = c.dir + "/corpus.jsonl";
  c.queries = c.dir + "/queries.tsv";
  c.index = c.dir + "/idx";
  std::ofstream(c.corpus) << "{\"_id\":\"a\",\"title\":\"Cats\",\"text\":\"cats purr and sleep\"}\n"
                             "{\"_id\":\"b\",\"title\":\"\",\"text\":\"the market fell\"}\n"
                             "{\"_id\":\"c\",\"title\":\"Dogs\",\"text\":\"dogs bark loudly at night\"}\n";
  std::ofstream(c.queries) << "1\tsleeping cats\n2\tstock market\n";
  return c;
}

std::vector<std::string> run_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(DenseCli, IndexEmbedsThenSearchRetrievesEveryDocumentForEachQuery) {
  const Collection c = collection("search");
  const auto indexed = run_cli({"index", "--corpus", c.corpus, "--index", c.index, "--flat", "--embed",
                                rerank::test::tiny_embedding_model(), "--hnsw"});
  ASSERT_EQ(indexed.exit_code, 0) << indexed.err;
  EXPECT_THAT(indexed.err, testing::HasSubstr("embedded 3 documents (3 vectors, f32)"));
  EXPECT_THAT(indexed.err, testing::HasSubstr("HNSW graph (m=16, ef_construction=200)"));
  for (const std::string spec : {"dense", "hybrid"}) {
    SCOPED_TRACE(spec);
    const std::string run = c.dir + "/" + spec + ".run";
    const auto searched = run_cli({"search", "--index", c.index, "--first-stage", spec, "--queries",
                                   c.queries, "--output", run, "--threads", "2"});
    ASSERT_EQ(searched.exit_code, 0) << searched.err;
    const auto lines = run_lines(run);
    ASSERT_EQ(lines.size(), 6u);
    EXPECT_THAT(lines[0], testing::StartsWith("1 Q0 "));
    EXPECT_THAT(lines[3], testing::StartsWith("2 Q0 "));
  }
  // The HNSW graph and the exact search agree on three documents.
  const auto exact = run_cli({"search", "--index", c.index, "--first-stage", "dense", "--queries", c.queries,
                              "--output", c.dir + "/e.run", "--threads", "1"});
  const auto graph = run_cli({"search", "--index", c.index, "--first-stage", "dense", "--param",
                              "search=hnsw", "--queries", c.queries, "--output", c.dir + "/g.run"});
  ASSERT_EQ(graph.exit_code, 0) << graph.err;
  auto ids = [](const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    for (const auto& l : lines) out.push_back(l.substr(0, l.find(" ", 5)));
    return out;
  };
  EXPECT_EQ(ids(run_lines(c.dir + "/e.run")), ids(run_lines(c.dir + "/g.run")));
  // Another precision from the same vectors, without the model.
  const auto converted = run_cli({"index", "--index", c.index, "--from-vectors", "dense", "--vectors",
                                  "small", "--vector-precision", "int8"});
  ASSERT_EQ(converted.exit_code, 0) << converted.err;
  const auto small = run_cli({"search", "--index", c.index, "--first-stage", "dense:small", "--queries",
                              c.queries, "--output", c.dir + "/s.run"});
  ASSERT_EQ(small.exit_code, 0) << small.err;
  EXPECT_EQ(run_lines(c.dir + "/s.run").size(), 6u);
}

TEST(DenseCli, ErrorsNameTheProblem) {
  const Collection c = collection("errors");
  // No vectors yet.
  ASSERT_EQ(run_cli({"index", "--corpus", c.corpus, "--index", c.index, "--quiet"}).exit_code, 0);
  auto r = run_cli({"search", "--index", c.index, "--first-stage", "dense", "--queries", c.queries,
                    "--output", c.dir + "/x.run"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err,
              testing::HasSubstr("no such vector file (make one with `rerank index --embed MODEL.gguf`)"));
  EXPECT_FALSE(fs::exists(c.dir + "/x.run"));
  // A cross-encoder (ranking head) is not an embedding model; nothing is written.
  r = run_cli({"index", "--corpus", c.corpus, "--index", c.index, "--embed",
               rerank::test::tiny_model(rerank::test::Tiny::Bert), "--quiet"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, testing::HasSubstr("a model with a ranking head scores pairs; it does not embed texts"));
  EXPECT_FALSE(fs::exists(c.index + "/dense.vec"));
  // Vectors cut short by a crash or a copy.
  ASSERT_EQ(run_cli({"index", "--corpus", c.corpus, "--index", c.index, "--embed",
                     rerank::test::tiny_embedding_model(), "--quiet"})
                .exit_code,
            0);
  fs::resize_file(c.index + "/dense.vec", fs::file_size(c.index + "/dense.vec") - 100);
  r = run_cli({"search", "--index", c.index, "--first-stage", "hybrid", "--queries", c.queries, "--output",
               c.dir + "/x.run"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, testing::HasSubstr("corrupt vector file (file is"));
  EXPECT_THAT(r.err, testing::HasSubstr("(truncated)); re-encode it with `rerank index --embed`"));
  // An option no stage of the spec reads.
  r = run_cli({"search", "--index", c.index, "--first-stage", "dense", "--param", "fusion=rrf", "--queries",
               c.queries, "--output", c.dir + "/x.run"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, testing::HasSubstr("fusion"));
}

}  // namespace
