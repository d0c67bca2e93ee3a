// A plain double-precision BERT forward pass written from an EncoderWeights, the reference of the
// oneDNN encoder runtime's tests (test_onednn_encoder.cpp, test_onednn_embedding.cpp).
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "model/encoder_weights.h"
#include "rerank/language_model.h"

namespace rerank::test {

using Matrix = std::vector<std::vector<double>>;

inline std::vector<double> affine(const rerank::detail::LinearWeights& l, const std::vector<double>& x) {
  std::vector<double> y(static_cast<std::size_t>(l.out));
  for (int o = 0; o < l.out; ++o) {
    double acc = l.b[static_cast<std::size_t>(o)];
    for (int i = 0; i < l.in; ++i)
      acc += double(l.w[static_cast<std::size_t>(o * l.in + i)]) * x[std::size_t(i)];
    y[static_cast<std::size_t>(o)] = acc;
  }
  return y;
}

inline void layer_norm(std::vector<double>& x, const rerank::detail::NormWeights& n, double eps) {
  double mean = 0.0, var = 0.0;
  for (double v : x) mean += v;
  mean /= double(x.size());
  for (double v : x) var += (v - mean) * (v - mean);
  var /= double(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = (x[i] - mean) / std::sqrt(var + eps) * n.scale[i] + n.shift[i];
}

// BertModel's last hidden state, one row per token, in double, from the file's weights.
inline Matrix reference_hidden(const rerank::detail::EncoderWeights& w, const rerank::TokenIds& tokens,
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
  return x;
}

// BertForSequenceClassification's logit 0, in double, from the file's weights.
inline double reference_score(const rerank::detail::EncoderWeights& w, const rerank::TokenIds& tokens,
                              std::size_t type1_from) {
  std::vector<double> first = reference_hidden(w, tokens, type1_from)[0];
  if (w.head_dense.in > 0) {
    first = affine(w.head_dense, first);
    for (auto& v : first) v = std::tanh(v);
  }
  return affine(w.head_out, first)[0];
}

}  // namespace rerank::test
