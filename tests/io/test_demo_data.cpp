// The built-in demo collection (data/, see data/README.md) reads cleanly and has the documented size.
#include <gtest/gtest.h>

#include <set>

#include "rerank/io.h"

using namespace rerank;

namespace {
std::string data(const std::string& rel) { return std::string(RERANK_SOURCE_DIR) + "/data/" + rel; }
}  // namespace

TEST(DemoData, CountsAndConsistency) {
  CorpusReader reader(data("corpus.jsonl"));
  std::set<std::string> ids;
  Document d;
  std::size_t titled = 0;
  while (reader.next(d)) {
    EXPECT_TRUE(ids.insert(d.doc_id).second) << "duplicate " << d.doc_id;
    EXPECT_FALSE(d.text.empty()) << d.doc_id;
    titled += !d.title.empty();
  }
  EXPECT_EQ(ids.size(), 184u);
  EXPECT_EQ(titled, 184u);
  EXPECT_EQ(*ids.begin(), "d001");
  EXPECT_EQ(*ids.rbegin(), "d184");

  const auto queries = read_queries(data("queries.jsonl"));
  ASSERT_EQ(queries.size(), 19u);
  EXPECT_EQ(queries[0].id, "1");
  EXPECT_EQ(queries[0].text, "why is mars red");

  const Qrels qrels = read_qrels(data("qrels/test.tsv"));
  EXPECT_EQ(qrels.size(), 19u);
  std::size_t by_grade[3] = {0, 0, 0};
  for (const auto& q : queries) {
    ASSERT_TRUE(qrels.count(q.id)) << q.id;
    std::size_t relevant = 0;
    for (const auto& [doc, grade] : qrels.at(q.id)) {
      EXPECT_TRUE(ids.count(doc)) << "judged document " << doc << " is not in the corpus";
      ASSERT_GE(grade, 0);
      ASSERT_LE(grade, 2);
      ++by_grade[grade];
      relevant += grade > 0;
    }
    EXPECT_GE(relevant, 2u) << "query " << q.id;
  }
  EXPECT_EQ(by_grade[0], 180u);
  EXPECT_EQ(by_grade[1], 36u);
  EXPECT_EQ(by_grade[2], 36u);
  // The answer to the first query is the iron-oxide document.
  EXPECT_EQ(qrels.at("1").at("d040"), 2);
}
