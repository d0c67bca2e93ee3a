// rerank.cpp's own encoder runtime (src/model/onednn_encoder.h) against a plain double-precision
// BERT forward pass written here from the weights, and its contract: batch invariance, cost, limits.
// (Its agreement with PyTorch on converted Hugging Face models is tests/parity/test_cross_encoder.py.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "error_message.h"
#include "model/encoder_weights.h"
#include "model/onednn_encoder.h"
#include "reference_encoder.h"
#include "rerank/cross_encoder.h"
#include "rerank/language_model.h"
#include "rerank/model.h"
#include "tiny_models.h"

namespace {

using rerank::TokenIds;
using rerank::test::error_of;
using rerank::test::reference_score;
using rerank::test::Tiny;
using rerank::test::tiny_model;
using Runtime = rerank::RuntimeOptions::EncoderRuntime;
using Output = rerank::detail::EncoderOutput;

std::vector<TokenIds> sequences(const rerank::Model& model) {
  std::vector<TokenIds> out;
  for (const char* text :
       {"what is the capital of france", "paris is the capital and most populous city of france", "a",
        "bananas are rich in potassium and grow in tropical climates around the world"})
    out.push_back(model.tokenizer().tokenize(text, true, false));
  for (std::size_t len : {64u, 130u, 200u}) {
    TokenIds s;
    for (std::size_t i = 0; i < len; ++i)
      s.push_back(static_cast<std::int32_t>(1000 + (i * 37 + len) % 5000));
    out.push_back(s);
  }
  return out;
}

rerank::CrossEncoder onednn_encoder(const std::shared_ptr<const rerank::Model>& model, int threads,
                                    int workers) {
  rerank::RuntimeOptions opt;
  opt.threads = threads;
  opt.workers = workers;
  opt.encoder_runtime = Runtime::OneDnn;
  opt.encoder_precision = rerank::RuntimeOptions::EncoderPrecision::F32;
  return rerank::CrossEncoder(model, opt);
}

TEST(OneDnnEncoder, ScoresEqualADoublePrecisionForwardPass) {
  const auto model = rerank::Model::load(tiny_model(Tiny::Bert));
  std::string why_not;
  const auto weights = rerank::detail::EncoderWeights::open(model->info().path, Output::Classifier, &why_not);
  ASSERT_TRUE(weights) << why_not;
  ASSERT_GT(weights->n_types, 1);
  auto encoder = onednn_encoder(model, 2, 2);
  ASSERT_TRUE(encoder.own_runtime());
  const auto seqs = sequences(*model);
  // Document halves of type 1, as pairs are framed: the token type must reach the score.
  std::vector<std::size_t> second;
  for (const auto& s : seqs) second.push_back(s.size() / 2);
  const auto scores = encoder.score(seqs, nullptr, second);
  double spread = 0.0;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const double expected = reference_score(*weights, seqs[i], second[i]);
    // F32 with oneDNN's blocked sums: measured within 4e-7 of double here (Zen 5, AVX-512).
    EXPECT_NEAR(scores[i], expected, 1e-5 * std::max(1.0, std::abs(expected))) << "sequence " << i;
    spread = std::max(spread, std::abs(expected - reference_score(*weights, seqs[0], second[0])));
  }
  EXPECT_GT(spread, 1e-3) << "the scores barely differ: the check could not fail";
  const float all_type0 = encoder.score({seqs[1]})[0];
  EXPECT_NEAR(all_type0, reference_score(*weights, seqs[1], seqs[1].size()), 1e-5);
  EXPECT_GT(std::abs(all_type0 - scores[1]), 1e-4) << "token type 1 did not change the score";
}

TEST(OneDnnEncoder, ScoresDoNotDependOnBatchOrderOrWorkers) {
  const auto model = rerank::Model::load(tiny_model(Tiny::Bert));
  const auto seqs = sequences(*model);
  auto one = onednn_encoder(model, 1, 1), two = onednn_encoder(model, 2, 2);
  const auto batched = two.score(seqs);
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    EXPECT_EQ(two.score({seqs[i]})[0], batched[i]) << "sequence " << i;
    EXPECT_EQ(one.score({seqs[i]})[0], batched[i]) << "sequence " << i;
  }
  std::vector<TokenIds> reversed(seqs.rbegin(), seqs.rend());
  const auto rev = two.score(reversed);
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(rev[seqs.size() - 1 - i], batched[i]);
}

TEST(OneDnnEncoder, CountsOnePassPerSequenceAndTheFlopsItComputes) {
  const auto model = rerank::Model::load(tiny_model(Tiny::Bert));
  const auto seqs = sequences(*model);
  auto encoder = onednn_encoder(model, 2, 2);
  rerank::RerankCost cost;
  encoder.score(seqs, &cost);
  const auto& info = model->info();
  double flops = 0.0;
  std::size_t tokens = 0;
  for (const auto& s : seqs) {
    const double t = double(s.size()), n = info.n_embd, ff = info.n_ff;
    tokens += s.size();
    // Every layer: Q, K, V for all tokens; the last layer's attention, projection and
    // feed-forward for the first token only; then the head (dense + one output).
    for (int il = 0; il < info.n_layer; ++il) {
      const double q = il + 1 == info.n_layer ? 1.0 : t;
      flops += 6.0 * t * n * n + 4.0 * q * t * n + 2.0 * q * n * n + 4.0 * q * n * ff;
    }
    flops += 2.0 * n * n + 2.0 * n * 1;
  }
  EXPECT_EQ(cost.forward_passes, seqs.size());
  EXPECT_EQ(cost.prompt_tokens, tokens);
  EXPECT_DOUBLE_EQ(cost.flops, flops);
}

TEST(OneDnnEncoder, RejectsOverlongSequencesAndModelsItCannotCompute) {
  const auto model = rerank::Model::load(tiny_model(Tiny::Bert));
  auto encoder = onednn_encoder(model, 1, 1);
  const int limit = model->info().n_ctx_train;
  EXPECT_EQ(encoder.max_sequence_tokens(), limit);
  EXPECT_EQ(error_of([&] { encoder.score({TokenIds(std::size_t(limit) + 1, 1000)}); }),
            "cross-encoder: sequence of " + std::to_string(limit + 1) + " tokens exceeds the limit of " +
                std::to_string(limit) + " (truncate or chunk the document)");
  EXPECT_EQ(error_of([&] { encoder.score({TokenIds{}}); }),
            "cross-encoder: cannot score an empty token sequence");
  std::string why_not;
  EXPECT_FALSE(rerank::detail::EncoderWeights::open(tiny_model(Tiny::Qwen3), Output::Classifier, &why_not));
  EXPECT_THAT(why_not, ::testing::HasSubstr("architecture 'qwen3'"));
  // Auto falls back to llama.cpp where the exact GELU is turned off; Llama always uses it.
  rerank::RuntimeOptions table;
  table.exact_gelu = false;
  EXPECT_FALSE(rerank::CrossEncoder(model, table).own_runtime());
  EXPECT_TRUE(rerank::CrossEncoder(model, {}).own_runtime());
}

}  // namespace
