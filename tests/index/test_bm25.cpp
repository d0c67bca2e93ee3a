// BM25 scores against values worked out by hand from Lucene's BM25Similarity, and the norm
// encoding against Lucene's SmallFloat.
#include <gtest/gtest.h>

#include <cmath>

#include "index_test_util.h"
#include "rerank/bm25.h"
#include "rerank/error.h"
#include "rerank/search.h"

namespace rerank {
namespace {

TEST(NormEncoding, SmallLengthsAreExact) {
  for (std::uint32_t len = 0; len <= 40; ++len)
    EXPECT_EQ(bm25::decode_length(bm25::encode_length(len)), len) << len;
  EXPECT_EQ(bm25::encode_length(23), 23);
  EXPECT_EQ(bm25::encode_length(40), 40);
}

TEST(NormEncoding, LargerLengthsLoseLowBits) {
  EXPECT_EQ(bm25::encode_length(41), 40);  // 41 and 40 share a byte
  EXPECT_EQ(bm25::decode_length(bm25::encode_length(41)), 40u);
  EXPECT_EQ(bm25::encode_length(100), 57);
  EXPECT_EQ(bm25::decode_length(57), 96u);
  EXPECT_EQ(bm25::decode_length(bm25::encode_length(1000)), 984u);
  EXPECT_EQ(bm25::encode_length(0x7FFFFFFF), 255);
  EXPECT_EQ(bm25::decode_length(255), 2013265944u);
}

TEST(NormEncoding, DecodingIsMonotonicAndRoundsDown) {
  for (int i = 1; i < 256; ++i)
    EXPECT_LT(bm25::decode_length(static_cast<std::uint8_t>(i - 1)),
              bm25::decode_length(static_cast<std::uint8_t>(i)));
  for (std::uint32_t len : {47u, 48u, 55u, 56u, 1234u, 99999u})
    EXPECT_LE(bm25::decode_length(bm25::encode_length(len)), len) << len;
}

TEST(Bm25Formula, IdfAndAverageLength) {
  EXPECT_FLOAT_EQ(bm25::idf(2, 3), static_cast<float>(std::log(1.6)));
  EXPECT_FLOAT_EQ(bm25::average_length(8, 3), 8.0f / 3.0f);
}

// Flat fruit corpus: contents "Alpha apple banana apple" (4 tokens), "banana cherry" (2),
// "Gamma apple" (2); avgdl = 8/3. Query "apple": df = 2, idf = ln(1 + 1.5/2.5) = ln 1.6.
//   d1: tf 2, dl 4: 0.47000363 * 2 / (2 + 0.9 * (0.6 + 0.4 * 4 / 2.6667)) = 0.30519718
//   d3: tf 1, dl 2: 0.47000363 * 1 / (1 + 0.9 * (0.6 + 0.4 * 2 / 2.6667)) = 0.25967056
TEST(Bm25Search, ScoresMatchHandComputedLuceneValues) {
  const auto index = Index::open(test::build(test::fruit_corpus(), "bm25_flat", FieldLayout::kFlat));
  Bm25Engine engine(index);
  const auto hits = engine.search(bag_of_words("apples"), engine.default_fields(), 10);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(index->doc_id(hits[0].doc), "d1");
  EXPECT_NEAR(hits[0].score, 0.30519718, 1e-7);
  EXPECT_EQ(index->doc_id(hits[1].doc), "d3");
  EXPECT_NEAR(hits[1].score, 0.25967056, 1e-7);
}

TEST(Bm25Search, RepeatedQueryTermDoublesTheBoost) {
  // Anserini's bag-of-words query: one clause per distinct term, boosted by its count.
  const auto index = Index::open(test::build(test::fruit_corpus(), "bm25_repeat", FieldLayout::kFlat));
  Bm25Engine engine(index);
  const auto hits = engine.search(bag_of_words("apple apple"), engine.default_fields(), 10);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_NEAR(hits[0].score, 0.61039436, 1e-7);
}

TEST(Bm25Search, MultifieldSumsFieldScoresWithWeights) {
  const auto index = Index::open(test::build(test::fruit_corpus(), "bm25_multi", FieldLayout::kMultifield));
  ASSERT_EQ(index->fields().size(), 2u);
  EXPECT_EQ(index->fields()[0].doc_count, 2u);            // d2 has no title: not counted in the title field
  EXPECT_EQ(index->fields()[1].sum_total_term_freq, 6u);  // appl banana appl / banana cherri / appl
  Bm25Engine engine(index);
  // "alpha" is only in d1's title: title docCount 2, df 1, dl 1, avgdl 1.
  const float idf = static_cast<float>(std::log(1 + (2 - 1 + 0.5) / 1.5));
  const float title_score =
      2.0f * idf - 2.0f * idf / (1.0f + 1.0f * (1.0f / (0.9f * ((1.0f - 0.4f) + 0.4f * 1.0f / 1.0f))));
  const auto hits = engine.search(bag_of_words("alpha"), {{"title", 2.0f}, {"text", 1.0f}}, 10);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_FLOAT_EQ(hits[0].score, title_score);
  EXPECT_THROW(engine.search(bag_of_words("alpha"), {{"body", 1.0f}}, 10), Error);
}

TEST(Bm25Search, TiesBreakByDocumentIdAscending) {
  const std::vector<Document> docs = {
      {"zeta", "", "same words"}, {"alpha", "", "same words"}, {"mid", "", "same words"}};
  const auto index = Index::open(test::build(docs, "bm25_ties", FieldLayout::kFlat));
  Bm25Retriever retriever(index, {});
  const auto hits = retriever.retrieve({"q", "words"}, 2);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].doc_id, "alpha");
  EXPECT_EQ(hits[1].doc_id, "mid");
  EXPECT_EQ(hits[0].score, hits[1].score);
}

TEST(Bm25Search, RemoveQueryDropsTheQueryItself) {
  const std::vector<Document> docs = {{"q1", "", "apple pie"}, {"d2", "", "apple tart"}};
  const auto index = Index::open(test::build(docs, "bm25_removeq", FieldLayout::kFlat));
  SearchOptions options;
  options.remove_query = true;
  Bm25Retriever retriever(index, options);
  const auto hits = retriever.retrieve({"q1", "apple"}, 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].doc_id, "d2");
}

TEST(Bm25Search, FieldWeightSpecParsing) {
  const auto f = parse_field_weights("title=0.5,text=2");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].field, "title");
  EXPECT_FLOAT_EQ(f[0].weight, 0.5f);
  EXPECT_FLOAT_EQ(f[1].weight, 2.0f);
  EXPECT_THROW(parse_field_weights("title=abc"), Error);
  EXPECT_THROW(parse_field_weights("=1"), Error);
}

}  // namespace
}  // namespace rerank
