// Reads the real collections in ../shared/datasets (counts from its README.md). A user's clone may
// not have them; the test then skips and says why.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "io_test_util.h"
#include "rerank/io.h"
#include "rerank/io_writers.h"

using namespace rerank;

namespace {

std::string shared(const std::string& rel) { return std::string(RERANK_SHARED_DATASETS) + "/" + rel; }

bool have_shared() { return std::filesystem::exists(shared("README.md")); }

std::size_t count_docs(const std::string& path) {
  CorpusReader reader(path);
  Document d;
  std::size_t n = 0;
  while (reader.next(d)) ++n;
  EXPECT_EQ(reader.bytes_read(), reader.bytes_total()) << path;
  return n;
}

std::size_t count_judgements(const Qrels& qrels) {
  std::size_t n = 0;
  for (const auto& [qid, docs] : qrels) n += docs.size();
  return n;
}

}  // namespace

// Outside the anonymous namespace: a test fixture's parameter must not have internal linkage when
// the file is compiled inside a unity file (-Wsubobject-linkage).
struct Expected {
  const char* name;
  std::size_t docs, queries, judged_queries, judgements;
};

class SharedBeir : public ::testing::TestWithParam<Expected> {};

TEST_P(SharedBeir, CountsMatchTheReadme) {
  if (!have_shared()) GTEST_SKIP() << "shared collections not found at " << RERANK_SHARED_DATASETS;
  const Expected e = GetParam();
  const std::string dir = std::string(e.name) + "/";
  EXPECT_EQ(count_docs(shared(dir + "corpus.jsonl")), e.docs);
  EXPECT_EQ(read_queries(shared(dir + "queries.jsonl")).size(), e.queries);
  const Qrels qrels = read_qrels(shared(dir + "qrels/test.tsv"));
  EXPECT_EQ(qrels.size(), e.judged_queries);
  EXPECT_EQ(count_judgements(qrels), e.judgements);
}

INSTANTIATE_TEST_SUITE_P(Collections, SharedBeir,
                         ::testing::Values(Expected{"cranfield", 1400, 225, 225, 1837},
                                           Expected{"cisi", 1460, 57, 50, 2492},
                                           Expected{"med", 1033, 30, 30, 696},
                                           Expected{"adi", 82, 35, 35, 170},
                                           Expected{"scifact", 5183, 1109, 300, 339}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SharedDatasets, ScifactTrainSplit) {
  if (!have_shared()) GTEST_SKIP() << "shared collections not found at " << RERANK_SHARED_DATASETS;
  const Qrels train = read_qrels(shared("scifact/qrels/train.tsv"));
  EXPECT_EQ(train.size(), 809u);
  EXPECT_EQ(count_judgements(train), 919u);
}

TEST(SharedDatasets, NplInTrecFormat) {
  if (!have_shared()) GTEST_SKIP() << "shared collections not found at " << RERANK_SHARED_DATASETS;
  CorpusReader reader(shared("npl/docs.trec"));
  Document d;
  ASSERT_TRUE(reader.next(d));
  EXPECT_EQ(d.doc_id, "1");
  EXPECT_EQ(
      d.text,
      "compact memories have flexible capacities a digital data storage system with capacity up to bits and "
      "random and or sequential access is described");
  std::size_t n = 1;
  while (reader.next(d)) ++n;
  EXPECT_EQ(n, 11429u);
  EXPECT_EQ(d.doc_id, "11429");

  const auto topics = read_queries(shared("npl/topics.trec"));
  ASSERT_EQ(topics.size(), 93u);
  EXPECT_EQ(topics[0].id, "1");
  EXPECT_EQ(topics[0].text,
            "MEASUREMENT OF DIELECTRIC CONSTANT OF LIQUIDS BY THE USE OF MICROWAVE TECHNIQUES");

  const Qrels qrels = read_qrels(shared("npl/qrels.txt"));
  EXPECT_EQ(count_judgements(qrels), 2083u);
  EXPECT_EQ(qrels.at("1").at("1239"), 1);
}

// Real data survives conversion: NPL's TREC documents written as BEIR JSONL and back as TREC read
// back identical, and SciFact's queries survive TSV and TREC topics.
TEST(SharedDatasets, ConversionsRoundTrip) {
  if (!have_shared()) GTEST_SKIP() << "shared collections not found at " << RERANK_SHARED_DATASETS;
  std::vector<Document> original;
  {
    CorpusReader reader(shared("npl/docs.trec"));
    Document d;
    while (reader.next(d)) original.push_back(d);
  }
  std::ostringstream beir, trec;
  for (const auto& d : original) {
    write_beir_document(beir, d);
    write_trec_document(trec, d);
  }
  for (const char* name : {"npl_rt.jsonl", "npl_rt.trec"}) {
    const auto path =
        rerank::test::write_temp(name, std::string(name).ends_with("jsonl") ? beir.str() : trec.str());
    CorpusReader reader(path);
    Document d;
    std::size_t i = 0, mismatches = 0;
    while (reader.next(d)) {
      mismatches += i >= original.size() || d.doc_id != original[i].doc_id || d.text != original[i].text ||
                    !d.title.empty();
      ++i;
    }
    EXPECT_EQ(i, original.size()) << name;
    EXPECT_EQ(mismatches, 0u) << name;
  }

  const auto queries = read_queries(shared("scifact/queries.jsonl"));
  std::ostringstream tsv, topics;
  for (const auto& q : queries) {
    write_tsv_query(tsv, q);
    write_trec_topic(topics, q);
  }
  for (const auto& [name, text] : {std::pair{"scifact_q.tsv", tsv.str()}, {"scifact_q.trec", topics.str()}}) {
    const auto back = read_queries(rerank::test::write_temp(name, text));
    ASSERT_EQ(back.size(), queries.size()) << name;
    // TREC topics collapse whitespace runs (five SciFact claims contain double spaces); TSV keeps them.
    const bool collapses = std::string(name).ends_with(".trec");
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < back.size(); ++i) {
      std::string expected;
      for (char c : queries[i].text)
        if (!(collapses && c == ' ' && !expected.empty() && expected.back() == ' ')) expected.push_back(c);
      mismatches += back[i].id != queries[i].id || back[i].text != expected;
    }
    EXPECT_EQ(mismatches, 0u) << name;
  }
}
