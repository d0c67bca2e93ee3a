#include "model/onednn_encoder.h"

#include <ggml.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/onednn_workspace.h"
#include "rerank/error.h"

namespace rerank::detail {

using Step = OneDnnEncoder::Workspace::Step;

bool cpu_has_native_bf16() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (isa & bf16) == bf16;
}

bool cpu_has_int8_dot_products() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  auto has = [isa](dnnl::cpu_isa wanted) {
    const auto bits = static_cast<unsigned>(wanted);
    return (isa & bits) == bits;
  };
  return has(dnnl::cpu_isa::avx2_vnni) || has(dnnl::cpu_isa::avx512_core_vnni);
}

std::vector<std::size_t> longest_first(const std::vector<std::vector<std::int32_t>>& sequences) {
  std::vector<std::size_t> order(sequences.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return sequences[a].size() > sequences[b].size(); });
  return order;
}

namespace {

// The precision asked for, resolved for this CPU and these weights. Auto computes in BF16 when the
// weights carry no more precision than BF16 does: F32 and F16 weights would lose mantissa bits;
// BF16 and 8-bit (or smaller) quantizations lose no more than their storage already did.
MatmulMode resolve(RuntimeOptions::EncoderPrecision precision, int matrix_type, const std::string& path) {
  using P = RuntimeOptions::EncoderPrecision;
  const bool native = cpu_has_native_bf16();
  switch (precision) {
    case P::F32:
      return MatmulMode::F32;
    case P::Int8:
      if (!cpu_has_int8_dot_products())
        throw Error(path +
                    ": INT8 precision needs a CPU with AVX-VNNI, AVX512-VNNI or AMX (this one has none, and "
                    "oneDNN's INT8 kernels without them are many times slower than F32; use f32)");
      return MatmulMode::Int8;
    case P::BF16:
      if (!native)
        throw Error(path +
                    ": BF16 precision needs a CPU with AVX512-BF16 or AMX (this one has neither; use f32)");
      return MatmulMode::BF16;
    case P::Auto:
      break;
  }
  return native && matrix_type != GGML_TYPE_F32 && matrix_type != GGML_TYPE_F16 ? MatmulMode::BF16
                                                                                : MatmulMode::F32;
}

// The smallest and largest of n floats, compared as integers whose order is the floats' (flipping
// a negative float's value bits), so that the loop vectorizes; compiled for AVX-512 and AVX2 too,
// the best chosen at run time.
__attribute__((target_clones("avx512f", "avx2", "default"))) std::pair<float, float> min_max(const float* x,
                                                                                             std::size_t n) {
  std::int32_t low = INT32_MAX, high = INT32_MIN;
  for (std::size_t i = 0; i < n; ++i) {
    std::int32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    const std::int32_t key = bits ^ ((bits >> 31) & 0x7fffffff);
    low = key < low ? key : low;
    high = key > high ? key : high;
  }
  const auto value = [](std::int32_t key) {
    const std::int32_t bits = key ^ ((key >> 31) & 0x7fffffff);
    float out;
    std::memcpy(&out, &bits, sizeof out);
    return out;
  };
  return {value(low), value(high)};
}

void run_on(OneDnnEncoder::Workspace& ws, const Step& step, void* src, void* dst,
            std::unordered_map<int, memory> more = {}) {
  more.emplace(DNNL_ARG_SRC, ws.view(step.src, src));
  more.emplace(DNNL_ARG_DST, ws.view(step.dst, dst));
  ws.run(step, std::move(more));
}

void layer_norm(OneDnnEncoder::Workspace& ws, const Step& step, float* src, float* dst, const memory& scale,
                const memory& shift) {
  run_on(ws, step, src, dst, {{DNNL_ARG_SCALE, scale}, {DNNL_ARG_SHIFT, shift}});
}

// A projection's input from `count` F32 values: the values themselves, their BF16 copy, or their
// INT8 quantization as dynamic quantization does it: the range [min, max], widened to hold 0
// exactly, onto 0..255 (one scale and zero point for the matrix, kept in `ws` for linear()).
void* projection_input(OneDnnEncoder::Workspace& ws, MatmulMode mode, const Step& convert, float* src,
                       std::size_t count) {
  if (mode == MatmulMode::F32) return src;
  if (mode == MatmulMode::BF16) {
    run_on(ws, convert, src, ws.rows16.data());
    return ws.rows16.data();
  }
  auto [low, high] = min_max(src, count);
  low = std::min(low, 0.0f), high = std::max(high, 0.0f);
  ws.input_scale = high > low ? 255.0f / (high - low) : 1.0f;
  ws.input_scale_inverse = 1.0f / ws.input_scale;
  ws.input_zero_point =
      static_cast<std::int32_t>(std::clamp(std::nearbyint(-low * ws.input_scale), 0.0f, 255.0f));
  run_on(ws, convert, src, ws.rows8.data(),
         {{DNNL_ARG_ATTR_OUTPUT_SCALES, ws.view({{1}, kF32, Tag::a}, &ws.input_scale)},
          {DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST,
           ws.view({{1}, memory::data_type::s32, Tag::a}, &ws.input_zero_point)}});
  return ws.rows8.data();
}

void linear(OneDnnEncoder::Workspace& ws, const Step& step, const PackedLinear& l, void* src, void* dst) {
  std::unordered_map<int, memory> more{{DNNL_ARG_WEIGHTS, l.weights}};
  if (l.column_scales.empty()) {
    more.emplace(DNNL_ARG_BIAS, l.bias);
  } else {  // INT8: the column scales over the input's, and the bias less what its zero point adds
    auto& scale = ws.output_scales;
    auto& bias = ws.bias_with_zero_point;
    scale.resize(static_cast<std::size_t>(l.out));
    bias.resize(static_cast<std::size_t>(l.out));
    for (std::size_t o = 0; o < bias.size(); ++o) {
      scale[o] = l.column_scales[o] * ws.input_scale_inverse;
      bias[o] = l.bias_values[o] -
                l.column_sums[o] * static_cast<float>(ws.input_zero_point) * ws.input_scale_inverse;
    }
    more.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1,
                 ws.view({{1, l.out}, kF32, Tag::ab}, scale.data()));
    more.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1,
                 ws.view({{1, l.out}, kF32, Tag::ab}, bias.data()));
  }
  run_on(ws, step, src, dst, std::move(more));
}

// y = W x + b for one row, in the order PyTorch's addmm sums (plain F32).
std::vector<float> dense_row(const LinearWeights& l, const std::vector<float>& x) {
  std::vector<float> y(static_cast<std::size_t>(l.out));
  for (int o = 0; o < l.out; ++o) {
    float acc = 0.0f;
    const float* row = l.w.data() + static_cast<std::size_t>(o) * static_cast<std::size_t>(l.in);
    for (int i = 0; i < l.in; ++i) acc += row[i] * x[static_cast<std::size_t>(i)];
    y[static_cast<std::size_t>(o)] = acc + l.b[static_cast<std::size_t>(o)];
  }
  return y;
}

}  // namespace

std::unique_ptr<OneDnnEncoder> OneDnnEncoder::open(const std::string& path, EncoderOutput output,
                                                   Precision precision, std::string* why_not) {
  auto weights = EncoderWeights::open(path, output, why_not);
  if (!weights) return nullptr;
  auto impl = std::make_unique<Impl>();
  impl->mode = resolve(precision, weights->matrix_type, path);
  impl->bf16_attention =
      impl->mode == MatmulMode::BF16 || (impl->mode == MatmulMode::Int8 && cpu_has_native_bf16());
  impl->w = std::move(weights);
  impl->pack_all();
  return std::unique_ptr<OneDnnEncoder>(new OneDnnEncoder(std::move(impl)));
}

OneDnnEncoder::OneDnnEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OneDnnEncoder::~OneDnnEncoder() = default;

OneDnnEncoder::WorkspacePtr OneDnnEncoder::workspace(int threads) const {
  return WorkspacePtr(new Workspace(*impl_, std::max(threads, 1)));
}

void OneDnnEncoder::WorkspaceDeleter::operator()(Workspace* ws) const { delete ws; }

int OneDnnEncoder::max_tokens() const { return impl_->w->n_ctx; }
OneDnnEncoder::Precision OneDnnEncoder::precision() const {
  return impl_->mode == MatmulMode::F32    ? Precision::F32
         : impl_->mode == MatmulMode::BF16 ? Precision::BF16
                                           : Precision::Int8;
}
int OneDnnEncoder::embedding_size() const { return impl_->w->n_embd; }

long OneDnnEncoder::output_rows(long tokens) const {
  const EncoderWeights& w = *impl_->w;
  return w.output == EncoderOutput::PooledEmbedding && w.mean_pooling ? tokens : 1;
}

double OneDnnEncoder::flops(std::size_t tokens) const {
  const EncoderWeights& w = *impl_->w;
  const double t = static_cast<double>(tokens), n = w.n_embd, ff = w.n_ff;
  double total = 0.0;
  for (std::size_t il = 0; il < impl_->layers.size(); ++il) {
    const double q =
        il + 1 == impl_->layers.size() ? static_cast<double>(output_rows(static_cast<long>(t))) : t;
    total += 2.0 * t * n * 3.0 * n;               // Q, K and V projections
    total += 4.0 * q * t * n;                     // scores and context, all heads
    total += 2.0 * q * n * n + 4.0 * q * n * ff;  // output projection, feed-forward
  }
  if (w.output == EncoderOutput::PooledEmbedding) return total;
  if (w.head_dense.in > 0) total += 2.0 * n * n;
  return total + 2.0 * n * w.head_out.out;
}

void OneDnnEncoder::forward(Workspace& ws, const std::vector<std::int32_t>& tokens, std::size_t type1_from,
                            long last_rows) const {
  const EncoderWeights& w = *impl_->w;
  const long t = static_cast<long>(tokens.size()), n = w.n_embd, ff = w.n_ff;
  if (t == 0 || t > w.n_ctx)
    throw Error("internal error: a sequence of " + std::to_string(t) + " tokens for an encoder of " +
                std::to_string(w.n_ctx) + " positions");
  omp_set_num_threads(ws.threads());
  const auto rows_of = [](long rows, long cols) { return static_cast<std::size_t>(rows * cols); };
  ws.size_buffers(t);
  const MatmulMode mode = impl_->mode;
  const bool bf16_attention = impl_->attention_type() == memory::data_type::bf16;
  // Buffers whose type follows the precision: fused Q/K/V rows (`at` finds a column of the first
  // row), attention probabilities, the context rows, the feed-forward's hidden layer.
  void* qkv = bf16_attention ? static_cast<void*>(ws.qkv16.data()) : ws.qkv.data();
  const auto at = [&](long column) { return static_cast<char*>(qkv) + column * (bf16_attention ? 2 : 4); };
  void* probs = bf16_attention ? static_cast<void*>(ws.probs16.data()) : ws.probs.data();
  void* context = mode == MatmulMode::BF16 ? static_cast<void*>(ws.rows16.data()) : ws.context.data();
  void* up = mode == MatmulMode::BF16 ? static_cast<void*>(ws.up16.data()) : ws.up.data();
  const auto input = [&](const Step& convert, float* src, long rows, long cols) {
    return projection_input(ws, mode, convert, src, rows_of(rows, cols));
  };

  // Embeddings as BertEmbeddings sums them: (word + token type) + position.
  for (long p = 0; p < t; ++p) {
    float* row = ws.h.data() + p * n;
    w.token_row(tokens[static_cast<std::size_t>(p)], row);
    const long type = (w.n_types > 1 && static_cast<std::size_t>(p) >= type1_from) ? 1 : 0;
    for (long i = 0; i < n; ++i) row[i] += w.types[static_cast<std::size_t>(type * n + i)];
    for (long i = 0; i < n; ++i) row[i] += w.positions[static_cast<std::size_t>(p * n + i)];
  }
  layer_norm(ws, ws.rows(t).norm, ws.h.data(), ws.x.data(), impl_->embd_norm_scale, impl_->embd_norm_shift);

  for (std::size_t il = 0; il < impl_->layers.size(); ++il) {
    const PackedLayer& layer = impl_->layers[il];
    // The last layer computes only the rows that reach the output; the others' keys and values
    // are still needed.
    const long q = il + 1 == impl_->layers.size() ? last_rows : t;
    const auto& all = ws.rows(t);
    linear(ws, all.qkv, layer.qkv, input(all.to_input, ws.x.data(), t, n), qkv);
    const auto& att = ws.attention(q, t);
    run_on(ws, att.scores, qkv, ws.probs.data(), {{DNNL_ARG_WEIGHTS, ws.view(att.keys, at(n))}});
    run_on(ws, att.softmax, ws.probs.data(), probs);
    run_on(ws, att.context, probs, context, {{DNNL_ARG_WEIGHTS, ws.view(att.values, at(2 * n))}});
    const auto& rows = ws.rows(q);
    // x += attention output (the matmul's sum post-op), then norm into h; h += feed-forward, then
    // norm back into x. BF16 runs have the context and the hidden layer in BF16 already.
    const bool ready = mode == MatmulMode::BF16;
    linear(ws, rows.attn_out, layer.attn_out, ready ? context : input(rows.to_input, ws.context.data(), q, n),
           ws.x.data());
    layer_norm(ws, rows.norm, ws.x.data(), ws.h.data(), layer.attn_norm_scale, layer.attn_norm_shift);
    linear(ws, rows.ffn_up, layer.ffn_up, input(rows.to_input, ws.h.data(), q, n), up);
    linear(ws, rows.ffn_down, layer.ffn_down,
           mode == MatmulMode::Int8 ? input(rows.ff_to_input, ws.up.data(), q, ff) : up, ws.h.data());
    layer_norm(ws, rows.norm, ws.h.data(), ws.x.data(), layer.out_norm_scale, layer.out_norm_shift);
  }
  ws.wait();
}

float OneDnnEncoder::score(Workspace& ws, const std::vector<std::int32_t>& tokens,
                           std::size_t type1_from) const {
  const EncoderWeights& w = *impl_->w;
  if (w.output != EncoderOutput::Classifier) throw Error("internal error: score() on an embedding model");
  forward(ws, tokens, type1_from, 1);
  std::vector<float> first(ws.x.begin(), ws.x.begin() + w.n_embd);
  if (w.head_dense.in > 0) {
    first = dense_row(w.head_dense, first);
    for (float& v : first) v = std::tanh(v);
  }
  return dense_row(w.head_out, first)[0];
}

std::vector<float> OneDnnEncoder::embed(Workspace& ws, const std::vector<std::int32_t>& tokens) const {
  const EncoderWeights& w = *impl_->w;
  if (w.output != EncoderOutput::PooledEmbedding) throw Error("internal error: embed() on a cross-encoder");
  const long t = static_cast<long>(tokens.size()), n = w.n_embd, rows = output_rows(t);
  forward(ws, tokens, tokens.size(), rows);
  // sentence-transformers' mean pooling: the sum over tokens (in order), divided by their count.
  std::vector<float> pooled(ws.x.begin(), ws.x.begin() + n);
  for (long r = 1; r < rows; ++r)
    for (long i = 0; i < n; ++i)
      pooled[static_cast<std::size_t>(i)] += ws.x[static_cast<std::size_t>(r * n + i)];
  if (rows > 1)
    for (float& v : pooled) v /= static_cast<float>(rows);
  return pooled;
}

}  // namespace rerank::detail
