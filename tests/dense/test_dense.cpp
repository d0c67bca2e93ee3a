// Corpus encoding and the dense and hybrid first stages, on the tiny random BERT with mean pooling:
// what the first stage retrieves must be what the model's own vectors say, computed here apart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "error_message.h"
#include "model/tiny_embedding_model.h"
#include "rerank/dense.h"
#include "rerank/embedding_model.h"
#include "rerank/error.h"
#include "rerank/fusion.h"
#include "rerank/index.h"
#include "rerank/search.h"

namespace rerank {
namespace {

namespace fs = std::filesystem;
using test::error_of;

const std::vector<Document>& corpus() {
  static const std::vector<Document> docs = {
      {"d1", "Cats", "cats purr and sleep in the sun"},
      {"d2", "", "the stock market fell sharply today"},
      {"d3", "Dogs", "dogs bark at the mail carrier"},
      {"d4", "Rain", "heavy rain is expected over the weekend with strong winds and cold air from the north"},
      {"d5", "", ""},
  };
  return docs;
}

std::string scratch(const std::string& name) {
  const auto dir = fs::path(RERANK_TEST_TMP) / "dense" / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// A BEIR corpus file of corpus() and its BM25 index, in a fresh directory.
std::string make_index(const std::string& name, const EmbedCorpusOptions& options = {}) {
  const std::string dir = scratch(name);
  const std::string corpus_path = dir + "/corpus.jsonl";
  {
    std::ofstream out(corpus_path);
    for (const auto& d : corpus())
      out << "{\"_id\":\"" << d.doc_id << "\",\"title\":\"" << d.title << "\",\"text\":\"" << d.text
          << "\"}\n";
  }
  IndexOptions index_options;
  index_options.overwrite = true;
  IndexWriter writer(dir + "/idx", index_options);
  for (const auto& d : corpus()) writer.add(d);
  writer.finish();
  embed_corpus(corpus_path, test::tiny_embedding_model(), vector_file_path(dir + "/idx", "dense"), options);
  return dir + "/idx";
}

std::vector<float> unit(std::vector<float> v) {
  normalize_vector(v.data(), v.size());
  return v;
}

// The ranking the model's vectors give, in double precision: (id, cosine), best first, ties by id.
std::vector<std::pair<std::string, double>> expected_ranking(const std::string& query,
                                                             const std::string& document_prefix = "") {
  EmbeddingModel model(Model::load(test::tiny_embedding_model()), RuntimeOptions{});
  std::vector<std::string> texts = {query};
  for (const auto& d : corpus()) texts.push_back(document_prefix + document_text(d.title, d.text));
  const auto vectors = model.embed(texts);
  const auto q = unit(vectors[0]);
  std::vector<std::pair<std::string, double>> out;
  for (std::size_t i = 0; i < corpus().size(); ++i) {
    const auto d = unit(vectors[i + 1]);
    double s = 0;
    for (std::size_t j = 0; j < q.size(); ++j) s += static_cast<double>(q[j]) * d[j];
    out.emplace_back(corpus()[i].doc_id, s);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}

// Each retrieved document's score is its expected cosine within `tolerance`, the list is sorted,
// and every document whose cosine is apart from its neighbours' by more than twice the tolerance is
// at its expected rank (closer ones may swap: a random model's cosines can be close).
void expect_ranking(const std::vector<ScoredDoc>& got,
                    const std::vector<std::pair<std::string, double>>& want, double tolerance) {
  ASSERT_EQ(got.size(), want.size());
  std::map<std::string, double> expected(want.begin(), want.end());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(expected.count(got[i].doc_id)) << got[i].doc_id;
    EXPECT_NEAR(got[i].score, expected[got[i].doc_id], tolerance) << "rank " << i;
    if (i > 0) {
      EXPECT_GE(got[i - 1].score, got[i].score);
    }
    const bool apart = (i == 0 || want[i - 1].second - want[i].second > 2 * tolerance) &&
                       (i + 1 == want.size() || want[i].second - want[i + 1].second > 2 * tolerance);
    if (apart) {
      EXPECT_EQ(got[i].doc_id, want[i].first) << "rank " << i;
    }
  }
}

TEST(DenseFirstStage, RanksByTheCosineOfTheModelsVectors) {
  const std::string index = make_index("cosine");
  const auto v = VectorSet::open(vector_file_path(index, "dense"));
  EXPECT_EQ(v->num_docs(), 5u);
  EXPECT_EQ(v->num_rows(), 5u);
  const auto stage = make_first_stage("dense", {index, {}});
  EXPECT_EQ(stage->name(), "dense");
  for (const std::string query : {"cats sleep", "market", "weekend weather"}) {
    SCOPED_TRACE(query);
    expect_ranking(stage->retrieve({"q", query}, 5), expected_ranking(query), 2e-6);
  }
  // Several queries at once give the same lists (one matrix product per block of documents).
  const auto many = stage->retrieve_many({{"1", "cats sleep"}, {"2", "market"}}, 3, 2);
  ASSERT_EQ(many.size(), 2u);
  const auto market = expected_ranking("market");
  expect_ranking(many[1], {market.begin(), market.begin() + 3}, 2e-6);
}

TEST(DenseFirstStage, EveryVectorPrecisionAndTheHnswGraphKeepTheRanking) {
  for (const char* precision : {"f16", "int8"}) {
    SCOPED_TRACE(precision);
    EmbedCorpusOptions options;
    options.precision = parse_vector_precision(precision);
    const std::string index = make_index(std::string("precision_") + precision, options);
    const auto want = expected_ranking("cats sleep");
    const auto got = make_first_stage("dense", {index, {}})->retrieve({"q", "cats sleep"}, 5);
    // INT8 moves a cosine by at most about dims x (half a step)^2-sized terms: measured 2e-3.
    expect_ranking(got, want, std::string(precision) == "f16" ? 2e-3 : 1e-2);
  }
  const std::string index = make_index("hnsw");
  HnswIndex::build(*VectorSet::open(vector_file_path(index, "dense")), hnsw_file_path(index, "dense"), {});
  const auto stage = make_first_stage("dense", {index, {{"search", "hnsw"}, {"ef_search", "10"}}});
  expect_ranking(stage->retrieve({"q", "market"}, 5), expected_ranking("market"), 2e-6);
}

TEST(DenseFirstStage, DocumentPrefixAndChunksAreThoseRecorded) {
  EmbedCorpusOptions options;
  options.encoding.document_prefix = "passage: ";
  const std::string prefixed = make_index("prefix", options);
  expect_ranking(make_first_stage("dense", {prefixed, {}})->retrieve({"q", "cats"}, 5),
                 expected_ranking("cats", "passage: "), 2e-6);

  EmbedCorpusOptions chunked;
  chunked.encoding.chunk_tokens = 8;
  chunked.encoding.chunk_stride = 4;
  const std::string index = make_index("chunks", chunked);
  const auto v = VectorSet::open(vector_file_path(index, "dense"));
  EXPECT_GT(v->num_rows(), 5u);  // d4 (20 words) is several windows of 6 body tokens
  // Its score is its best window's: the maximum over the windows' own vectors.
  EmbeddingModel model(Model::load(test::tiny_embedding_model()), RuntimeOptions{});
  const auto windows = model.embed_windows({document_text(corpus()[3].title, corpus()[3].text)}, 8, 4)[0];
  EXPECT_EQ(windows.size(), v->max_rows_per_doc());
  const auto q = unit(model.embed({"strong winds"})[0]);
  double best = -2;
  for (const auto& w : windows) {
    const auto u = unit(w);
    double s = 0;
    for (std::size_t j = 0; j < q.size(); ++j) s += static_cast<double>(q[j]) * u[j];
    best = std::max(best, s);
  }
  bool seen = false;
  for (const auto& hit : make_first_stage("dense", {index, {}})->retrieve({"q", "strong winds"}, 5))
    if (hit.doc_id == "d4") {
      EXPECT_NEAR(hit.score, best, 2e-6);
      seen = true;
    }
  EXPECT_TRUE(seen);
}

TEST(DenseFirstStage, QueriesWithoutTextRetrieveNothing) {
  const std::string index = make_index("empty_query");
  for (const char* spec : {"dense", "hybrid"}) {
    SCOPED_TRACE(spec);
    const auto stage = make_first_stage(spec, {index, {}});
    EXPECT_TRUE(stage->retrieve({"q", ""}, 10).empty());
    const auto many = stage->retrieve_many({{"1", " \t"}, {"2", "cats"}}, 10, 1);
    EXPECT_TRUE(many[0].empty());
    EXPECT_FALSE(many[1].empty());
  }
}

std::vector<std::pair<std::string, double>> pairs(const std::vector<ScoredDoc>& list) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& d : list) out.emplace_back(d.doc_id, d.score);
  return out;
}

TEST(HybridFirstStage, IsTheFusionOfBm25AndDense) {
  const std::string index = make_index("hybrid");
  const Query query{"q", "cats sleep in the sun"};
  const auto bm25 = make_first_stage("bm25", {index, {}})->retrieve(query, 1000);
  const auto dense = make_first_stage("dense", {index, {}})->retrieve(query, 1000);
  FusionOptions rrf;
  rrf.k = 3;
  EXPECT_EQ(pairs(make_first_stage("hybrid", {index, {}})->retrieve(query, 3)),
            pairs(fuse_lists({bm25, dense}, rrf)));
  FusionOptions interpolation;
  interpolation.method = FusionMethod::kInterpolation;
  interpolation.weights = {0.3, 0.7};
  interpolation.k = 5;
  const auto hybrid =
      make_first_stage("hybrid", {index, {{"fusion", "interpolate"}, {"dense_weight", "0.7"}}});
  EXPECT_EQ(pairs(hybrid->retrieve(query, 5)), pairs(fuse_lists({bm25, dense}, interpolation)));
}

TEST(DenseFirstStage, BadSpecsAndOptionsAreRefusedBeforeAnythingOpens) {
  EXPECT_THAT(error_of([] { check_first_stage("dense:../x", {}); }),
              testing::HasSubstr("is not a vector file name"));
  EXPECT_THAT(error_of([] {
                check_first_stage("dense", {"", {{"search", "ivf"}}});
              }),
              testing::HasSubstr("dense: search must be exact or hnsw, not 'ivf'"));
  EXPECT_THAT(error_of([] {
                check_first_stage("hybrid", {"", {{"dense_weight", "0.3"}}});
              }),
              testing::HasSubstr("dense_weight applies to fusion=interpolate only"));
  EXPECT_THAT(error_of([] { check_first_stage("dense", {"", {{"k1", "1"}}}); }), testing::HasSubstr("k1"));
  EXPECT_THAT(error_of([] {
                make_first_stage("dense", {scratch("none"), {}});
              }),
              testing::HasSubstr("no such vector file"));
}

TEST(DenseFirstStage, AnotherModelFileCannotEncodeTheQueries) {
  const std::string index = make_index("other_model");
  const std::string other = scratch("other_model_file") + "/other.gguf";
  fs::copy_file(test::tiny_model(test::Tiny::Bert), other);
  EXPECT_THAT(error_of([&] {
                make_first_stage("dense", {index, {{"model", other}}});
              }),
              testing::HasSubstr("is not the model that encoded"));
}

// The tiny BERT with its pooling type set to `value` (0: none, 4: rank).
std::string with_pooling(char value, const std::string& name) {
  std::ifstream in(test::tiny_embedding_model(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string key = "bert.pooling_type";
  bytes[bytes.find(key) + key.size() + 4] = value;
  const std::string path = scratch(name) + "/model.gguf";
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(EmbedCorpus, ModelsThatDoNotEmbedAreRefusedWithTheReason) {
  const std::string dir = scratch("no_pooling");
  std::ofstream(dir + "/corpus.jsonl") << "{\"_id\":\"a\",\"text\":\"x\"}\n";
  EXPECT_THAT(error_of([&] {
                embed_corpus(dir + "/corpus.jsonl", with_pooling('\x00', "pool0"), dir + "/v.vec", {});
              }),
              testing::HasSubstr("a bidirectional model without pooling metadata cannot embed texts"));
  EXPECT_THAT(error_of([&] {
                embed_corpus(dir + "/corpus.jsonl", with_pooling('\x04', "pool4"), dir + "/v.vec", {});
              }),
              testing::HasSubstr("a model with a ranking head scores pairs; it does not embed texts"));
  EXPECT_FALSE(fs::exists(dir + "/v.vec"));
}

}  // namespace
}  // namespace rerank
