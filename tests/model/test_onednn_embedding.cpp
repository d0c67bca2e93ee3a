// rerank.cpp's own encoder runtime beyond F32 cross-encoders: embedding models (mean and CLS
// pooling) against the double-precision reference pass, and BF16 matrix products: how far they
// move scores, when `auto` picks them, and that they keep a sequence's score independent of its
// batch-mates, and the same for INT8 (dynamic quantization).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "error_message.h"
#include "model/onednn_encoder.h"
#include "reference_encoder.h"
#include "rerank/cross_encoder.h"
#include "rerank/embedding_model.h"
#include "rerank/test_models.h"
#include "tiny_embedding_model.h"
#include "tiny_models.h"

namespace {

using rerank::TokenIds;
using rerank::test::error_of;
using rerank::test::Tiny;
using rerank::test::tiny_model;
using Output = rerank::detail::EncoderOutput;
using Runtime = rerank::RuntimeOptions::EncoderRuntime;
using Precision = rerank::RuntimeOptions::EncoderPrecision;

const std::vector<std::string> kTexts = {
    "what is the capital of france", "paris is the capital and most populous city of france", "a",
    "bananas are rich in potassium and grow in tropical climates around the world, where farmers "
    "harvest them green and ship them across oceans before they ripen in warehouses"};

rerank::RuntimeOptions onednn(Precision precision) {
  rerank::RuntimeOptions o;
  o.threads = 2;
  o.workers = 2;
  o.encoder_runtime = Runtime::OneDnn;
  o.encoder_precision = precision;
  return o;
}

// The tiny embedding model with first-token (CLS) pooling instead of mean pooling.
std::string cls_pooled_model() {
  std::ifstream in(rerank::test::tiny_embedding_model(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string key = "bert.pooling_type";
  const auto at = bytes.find(key);
  EXPECT_NE(at, std::string::npos);
  bytes[at + key.size() + 4] = '\x02';
  const auto path =
      std::filesystem::path(RERANK_TEST_TMP) / ("tiny-bert-cls-" + std::to_string(::getpid()) + ".gguf");
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

// Embeds kTexts on the oneDNN runtime (F32) and expects the reference pooling of its hidden rows.
void expect_reference_pooling(const std::string& path, bool mean) {
  const auto model = rerank::Model::load(path);
  std::string why_not;
  const auto weights = rerank::detail::EncoderWeights::open(path, Output::PooledEmbedding, &why_not);
  ASSERT_TRUE(weights) << why_not;
  rerank::EmbeddingModel embedder(model, onednn(Precision::F32));
  ASSERT_TRUE(embedder.own_runtime());
  std::vector<rerank::RerankCost> costs;
  const auto vectors = embedder.embed(kTexts, &costs);
  for (std::size_t i = 0; i < kTexts.size(); ++i) {
    const TokenIds tokens = model->tokenizer().tokenize(kTexts[i], true, false);
    const auto hidden = rerank::test::reference_hidden(*weights, tokens, tokens.size());
    ASSERT_EQ(vectors[i].size(), hidden[0].size());
    for (std::size_t c = 0; c < hidden[0].size(); ++c) {
      double expected = hidden[0][c];
      if (mean) {
        for (std::size_t r = 1; r < hidden.size(); ++r) expected += hidden[r][c];
        expected /= double(hidden.size());
      }
      // F32 against double: measured within 9e-7 here (Zen 5, AVX-512).
      EXPECT_NEAR(vectors[i][c], expected, 2e-5) << "text " << i << " component " << c;
    }
    EXPECT_EQ(costs[i].forward_passes, 1u);
    EXPECT_EQ(costs[i].prompt_tokens, tokens.size());
  }
  EXPECT_NE(vectors[0], vectors[1]);
}

TEST(OneDnnEmbedding, MeanPoolingEqualsTheDoublePrecisionPass) {
  expect_reference_pooling(rerank::test::tiny_embedding_model(), true);
}

TEST(OneDnnEmbedding, ClsPoolingEqualsTheDoublePrecisionPass) {
  const std::string path = cls_pooled_model();
  expect_reference_pooling(path, false);
  std::filesystem::remove(path);
}

TEST(OneDnnEmbedding, AgreesWithLlamaCppAndCountsTheFullLastLayer) {
  const auto model = rerank::Model::load(rerank::test::tiny_embedding_model());
  rerank::RuntimeOptions llama;
  llama.threads = 2;
  llama.encoder_runtime = Runtime::Llama;
  rerank::EmbeddingModel ours(model, {}), theirs(model, llama);
  EXPECT_TRUE(ours.own_runtime());  // auto
  EXPECT_FALSE(theirs.own_runtime());
  std::vector<rerank::RerankCost> costs;
  const auto a = ours.embed(kTexts, &costs), b = theirs.embed(kTexts);
  for (std::size_t i = 0; i < kTexts.size(); ++i) {
    double dot = 0, na = 0, nb = 0;
    for (std::size_t c = 0; c < a[i].size(); ++c) {
      dot += double(a[i][c]) * b[i][c];
      na += double(a[i][c]) * a[i][c];
      nb += double(b[i][c]) * b[i][c];
    }
    // llama.cpp computes the same function with other kernels: measured cosine >= 0.99999996.
    EXPECT_GT(dot / std::sqrt(na * nb), 0.99999) << "text " << i;
    // Mean pooling reads every row of the last layer: the full pass is counted.
    const auto& info = model->info();
    const double t = double(costs[i].prompt_tokens), n = info.n_embd, ff = info.n_ff;
    EXPECT_DOUBLE_EQ(costs[i].flops, info.n_layer * (8.0 * t * n * n + 4.0 * t * t * n + 4.0 * t * n * ff))
        << "text " << i;
  }
}

TEST(OneDnnEmbedding, RefusesModelsItCannotPool) {
  const auto qwen = rerank::Model::load(tiny_model(Tiny::Qwen3));
  EXPECT_THAT(
      error_of([&] { rerank::EmbeddingModel(qwen, onednn(Precision::Auto)); }),
      ::testing::HasSubstr(": the oneDNN encoder runtime cannot compute this model: architecture 'qwen3'"));
  std::string why_not;
  EXPECT_FALSE(
      rerank::detail::EncoderWeights::open(tiny_model(Tiny::Bert), Output::PooledEmbedding, &why_not));
  EXPECT_EQ(why_not, "pooling type 4 (this runtime pools by mean or CLS)");
}

std::vector<TokenIds> pairs(const rerank::Model& model) {
  std::vector<TokenIds> out;
  for (const auto& t : kTexts) out.push_back(model.tokenizer().tokenize(t, true, false));
  return out;
}

// Scores at `precision` against the double-precision pass (largest error relative to max(1, |score|)
// returned), and bit for bit the same alone as in a batch.
double worst_error_against_reference(Precision precision) {
  const auto model = rerank::Model::load(tiny_model(Tiny::Bert));
  std::string why_not;
  const auto weights = rerank::detail::EncoderWeights::open(model->info().path, Output::Classifier, &why_not);
  EXPECT_TRUE(weights) << why_not;
  rerank::CrossEncoder encoder(model, onednn(precision)), f32(model, onednn(Precision::F32));
  const auto seqs = pairs(*model);
  const auto ours = encoder.score(seqs), exact = f32.score(seqs);
  double worst = 0.0, moved = 0.0;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const double expected = rerank::test::reference_score(*weights, seqs[i], seqs[i].size());
    worst = std::max(worst, std::abs(ours[i] - expected) / std::max(1.0, std::abs(expected)));
    moved = std::max(moved, double(std::abs(ours[i] - exact[i])));
    EXPECT_EQ(encoder.score({seqs[i]})[0], ours[i]) << "sequence " << i << " alone";
  }
  EXPECT_GT(moved, 0.0) << "F32's scores bit for bit: the precision did not apply";
  return worst;
}

TEST(OneDnnBf16, ScoresStayNearTheDoublePrecisionPassAndIndependentOfBatchMates) {
  if (!rerank::detail::cpu_has_native_bf16())
    GTEST_SKIP() << "this CPU has no native BF16 (AVX512-BF16 or AMX)";
  // BF16 inputs (8-bit mantissa) with F32 sums: measured 2.4e-3 relative at most on this model.
  EXPECT_LT(worst_error_against_reference(Precision::BF16), 1e-2);
}

TEST(OneDnnInt8, ScoresStayNearTheDoublePrecisionPassAndIndependentOfBatchMates) {
  if (!rerank::detail::cpu_has_int8_dot_products())
    GTEST_SKIP() << "this CPU has no VNNI (AVX-VNNI, AVX512-VNNI or AMX)";
  // 8-bit weights per column and 8-bit inputs per matrix (any CPU: VNNI or AMX kernels where
  // present): measured 9.1e-3 relative at most on this model.
  EXPECT_LT(worst_error_against_reference(Precision::Int8), 4e-2);
}

TEST(OneDnnBf16, AutoComputesInBf16OnlyForWeightsWithoutMorePrecision) {
  std::string why_not;
  const auto f32 = rerank::detail::OneDnnEncoder::open(tiny_model(Tiny::Bert), Output::Classifier,
                                                       Precision::Auto, &why_not);
  ASSERT_TRUE(f32) << why_not;
  EXPECT_EQ(f32->precision(), Precision::F32);
  rerank::TestModelSpec spec;
  spec.seed = 7;
  spec.type = rerank::TestModelType::Q8_0;
  const auto q8 =
      std::filesystem::path(RERANK_TEST_TMP) / ("tiny-bert-q8-" + std::to_string(::getpid()) + ".gguf");
  rerank::write_test_model(spec, q8.string());
  const auto q8_encoder =
      rerank::detail::OneDnnEncoder::open(q8.string(), Output::Classifier, Precision::Auto, &why_not);
  ASSERT_TRUE(q8_encoder) << why_not;
  EXPECT_EQ(q8_encoder->precision(),
            rerank::detail::cpu_has_native_bf16() ? Precision::BF16 : Precision::F32);
  std::filesystem::remove(q8);
  // BF16 applies to rerank.cpp's own runtime only.
  rerank::RuntimeOptions llama = onednn(Precision::BF16);
  llama.encoder_runtime = Runtime::Llama;
  EXPECT_THAT(
      error_of([&] { rerank::CrossEncoder(rerank::Model::load(tiny_model(Tiny::Bert)), llama); }),
      ::testing::HasSubstr(": BF16 precision is a setting of rerank.cpp's own encoder runtime, and this "
                           "model runs on llama.cpp"));
}

}  // namespace
