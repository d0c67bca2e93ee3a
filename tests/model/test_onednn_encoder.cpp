// rerank.cpp's own encoder runtime (src/model/onednn_encoder.h) against a plain double-precision
// BERT forward pass written here from the weights, and its contract: batch invariance, cost, limits.
// (Its agreement with PyTorch on converted Hugging Face models is tests/parity/test_cross_encoder.py.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "error_message.h"
#include "model/encoder_weights.h"
#include "model/onednn_encoder.h"
#include "rerank/cross_encoder.h"
#include "rerank/language_model.h"
#include "rerank/model.h"
#include "tiny_models.h"

namespace {

using rerank::TokenIds;
using rerank::test::error_of;
using rerank::test::Tiny;
using rerank::test::tiny_model;
using Matrix = std::vector<std::vector<double>>;
using Runtime = rerank::RuntimeOptions::EncoderRuntime;

std::vector<double> affine(const rerank::detail::LinearWeights& l, const std::vector<double>& x) {
  std::vector<double> y(static_cast<std::size_t>(l.out));
  for (int o = 0; o < l.out; ++o) {
    double acc = l.b[static_cast<std::size_t>(o)];
    for (int i = 0; i < l.in; ++i)
      acc += double(l.w[static_cast<std::size_t>(o * l.in + i)]) * x[std::size_t(i)];
    y[static_cast<std::size_t>(o)] = acc;
  }
  return y;
}

void layer_norm(std::vector<double>& x, const rerank::detail::NormWeights& n, double eps) {
  double mean = 0.0, var = 0.0;
  for (double v : x) mean += v;
  mean /= double(x.size());
  for (double v : x) var += (v - mean) * (v - mean);
  var /= double(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = (x[i] - mean) / std::sqrt(var + eps) * n.scale[i] + n.shift[i];
}

// BertForSequenceClassification's logit 0, in double, from the file's weights.
double reference_score(const rerank::detail::EncoderWeights& w, const TokenIds& tokens,
                       std::size_t type1_from) {
  const std::size_t t = tokens.size(), n = std::size_t(w.n_embd), h = std::size_t(w.n_head), d = n / h;
  Matrix x(t, std::vector<double>(n));
  std::vector<float> row(n);
  for (std::size_t p = 0; p < t; ++p) {
    w.token_row(tokens[p], row.data());
    const std::size_t type = (w.n_types > 1 && p >= type1_from) ? 1 : 0;
    for (std::size_t i = 0; i < n; ++i)
      x[p][i] = double(row[i]) + w.types[type * n + i] + w.positions[p * n + i];
    layer_norm(x[p], w.embd_norm, w.norm_eps);
  }
  for (const auto& layer : w.layers) {
    Matrix qkv(t);
    for (std::size_t p = 0; p < t; ++p) qkv[p] = affine(layer.qkv, x[p]);
    Matrix context(t, std::vector<double>(n, 0.0));
    for (std::size_t head = 0; head < h; ++head)
      for (std::size_t a = 0; a < t; ++a) {
        std::vector<double> s(t);
        double max = -1e300, sum = 0.0;
        for (std::size_t b = 0; b < t; ++b) {
          double dot = 0.0;
          for (std::size_t i = 0; i < d; ++i) dot += qkv[a][head * d + i] * qkv[b][n + head * d + i];
          s[b] = dot / std::sqrt(double(d));
          max = std::max(max, s[b]);
        }
        for (auto& v : s) sum += (v = std::exp(v - max));
        for (std::size_t b = 0; b < t; ++b)
          for (std::size_t i = 0; i < d; ++i)
            context[a][head * d + i] += s[b] / sum * qkv[b][2 * n + head * d + i];
      }
    for (std::size_t p = 0; p < t; ++p) {
      auto attn = affine(layer.attn_out, context[p]);
      for (std::size_t i = 0; i < n; ++i) attn[i] += x[p][i];
      layer_norm(attn, layer.attn_norm, w.norm_eps);
      auto up = affine(layer.ffn_up, attn);
      for (auto& v : up) v = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
      auto out = affine(layer.ffn_down, up);
      for (std::size_t i = 0; i < n; ++i) out[i] += attn[i];
      layer_norm(out, layer.out_norm, w.norm_eps);
      x[p] = out;
    }
  }
  std::vector<double> first = x[0];
  if (w.head_dense.in > 0) {
    first = affine(w.head_dense, first);
    for (auto& v : first) v = std::tanh(v);
  }
  return affine(w.head_out, first)[0];
}

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
  return rerank::CrossEncoder(model, opt);
}

TEST(OneDnnEncoder, ScoresEqualADoublePrecisionForwardPass) {
  const auto model = rerank::Model::load(tiny_model(Tiny::Bert));
  std::string why_not;
  const auto weights = rerank::detail::EncoderWeights::open(model->info().path, &why_not);
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
  EXPECT_FALSE(rerank::detail::EncoderWeights::open(tiny_model(Tiny::Qwen3), &why_not));
  EXPECT_THAT(why_not, ::testing::HasSubstr("architecture 'qwen3'"));
  // Auto falls back to llama.cpp where the exact GELU is turned off; Llama always uses it.
  rerank::RuntimeOptions table;
  table.exact_gelu = false;
  EXPECT_FALSE(rerank::CrossEncoder(model, table).own_runtime());
  EXPECT_TRUE(rerank::CrossEncoder(model, {}).own_runtime());
}

}  // namespace
