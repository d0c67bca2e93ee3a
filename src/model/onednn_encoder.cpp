#include "model/onednn_encoder.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <dnnl.hpp>
#include <map>
#include <unordered_map>
#include <utility>

#include "model/encoder_weights.h"
#include "rerank/error.h"

namespace rerank::detail {

using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

namespace {

// A projection with its weights in the layout oneDNN's matmul chose for them (chosen once, for a
// typical row count; the layout does not depend on the rows, which run_linear checks).
struct PackedLinear {
  int in = 0, out = 0;
  memory weights;
  memory bias;
};

struct PackedLayer {
  PackedLinear qkv, attn_out, ffn_up, ffn_down;
  memory attn_norm_scale, attn_norm_shift, out_norm_scale, out_norm_shift;
};

memory vector_memory(const dnnl::engine& eng, const std::vector<float>& values) {
  memory m({Dims{static_cast<long>(values.size())}, kF32, Tag::a}, eng);
  std::copy(values.begin(), values.end(), static_cast<float*>(m.get_data_handle()));
  return m;
}

memory::desc rows_desc(long rows, long cols) { return {Dims{rows, cols}, kF32, Tag::ab}; }

}  // namespace

struct OneDnnEncoder::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::unique_ptr<EncoderWeights> w;
  std::vector<PackedLayer> layers;
  memory embd_norm_scale, embd_norm_shift;

  PackedLinear pack(const LinearWeights& l) const {
    PackedLinear p{l.in, l.out, {}, {}};
    const memory::desc any({l.in, l.out}, kF32, Tag::any);
    const dnnl::matmul::primitive_desc pd(
        dnnl::matmul::desc(rows_desc(128, l.in), any, rows_desc(128, l.out)), engine);
    // PyTorch's [out, in] rows are the [in, out] matrix in column-major ("ba") order.
    memory plain({Dims{l.in, l.out}, kF32, Tag::ba}, engine, const_cast<float*>(l.w.data()));
    p.weights = memory(pd.weights_desc(), engine);
    dnnl::stream s(engine);
    dnnl::reorder(plain, p.weights).execute(s, plain, p.weights);
    s.wait();
    p.bias = memory({Dims{1, l.out}, kF32, Tag::ab}, engine);
    std::copy(l.b.begin(), l.b.end(), static_cast<float*>(p.bias.get_data_handle()));
    return p;
  }
};

// The primitives of one shape: projections and norms over `rows` rows; attention of `rows` queries
// over `keys` keys. Each has its own scratchpad slice (user-managed), so workspaces share nothing.
class OneDnnEncoder::Workspace {
 public:
  // Primitives kept per shape (a sequence length); creating one takes about 0.1 ms.
  static constexpr std::size_t kMaxShapes = 256;

  Workspace(const Impl& impl, int threads) : impl_(impl), stream_(impl.engine), threads_(threads) {}

  struct Step {
    dnnl::primitive prim;
    std::size_t scratch = 0;
  };
  struct RowPrims {
    Step qkv, attn_out, norm, ffn_up, ffn_down;
  };
  struct AttentionPrims {
    Step scores, softmax, context;
  };

  const RowPrims& rows(long m) {
    auto it = row_prims_.find(m);
    if (it != row_prims_.end()) return it->second;
    if (row_prims_.size() >= kMaxShapes) row_prims_.clear();  // bounded memory; rebuilding is cheap
    const auto& l = impl_.layers.front();
    const long n = impl_.w->n_embd;
    dnnl::post_ops add_residual, gelu;
    add_residual.append_sum(1.0f);
    gelu.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
    RowPrims p;
    p.qkv = linear(m, l.qkv, {});
    p.attn_out = linear(m, l.attn_out, add_residual);
    p.ffn_up = linear(m, l.ffn_up, gelu);
    p.ffn_down = linear(m, l.ffn_down, add_residual);
    const dnnl::layer_normalization_forward::desc d(
        dnnl::prop_kind::forward_inference, rows_desc(m, n), impl_.w->norm_eps,
        dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift);
    p.norm = finish<dnnl::layer_normalization_forward>(
        dnnl::layer_normalization_forward::primitive_desc(d, attr({}), impl_.engine));
    return row_prims_.emplace(m, std::move(p)).first->second;
  }

  const AttentionPrims& attention(long queries, long keys) {
    const auto key = std::make_pair(queries, keys);
    auto it = attention_prims_.find(key);
    if (it != attention_prims_.end()) return it->second;
    if (attention_prims_.size() >= kMaxShapes) attention_prims_.clear();
    const long h = impl_.w->n_head, n = impl_.w->n_embd, d = n / h, qkv = 3 * n;
    AttentionPrims p;
    // Q, K and V are strided views of the fused projection's rows; the context rows are written in
    // place of the heads' concatenation.
    const memory::desc q({h, queries, d}, kF32, Dims{d, qkv, 1});
    const memory::desc kt({h, d, keys}, kF32, Dims{d, 1, qkv});
    const memory::desc v({h, keys, d}, kF32, Dims{d, qkv, 1});
    const memory::desc probs({h, queries, keys}, kF32, Tag::abc);
    const memory::desc context({h, queries, d}, kF32, Dims{d, n, 1});
    dnnl::primitive_attr scaled = attr({});
    scaled.set_output_scales(0, {1.0f / std::sqrt(static_cast<float>(d))});
    p.scores = finish<dnnl::matmul>(
        dnnl::matmul::primitive_desc(dnnl::matmul::desc(q, kt, probs), scaled, impl_.engine));
    p.softmax = finish<dnnl::softmax_forward>(dnnl::softmax_forward::primitive_desc(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, probs, 2), attr({}), impl_.engine));
    p.context = finish<dnnl::matmul>(
        dnnl::matmul::primitive_desc(dnnl::matmul::desc(probs, v, context), attr({}), impl_.engine));
    return attention_prims_.emplace(key, std::move(p)).first->second;
  }

  void run(const Step& step, std::unordered_map<int, memory> args) {
    if (step.scratch > 0) {
      if (scratch_.size() < step.scratch) scratch_.resize(step.scratch);
      args.emplace(DNNL_ARG_SCRATCHPAD,
                   memory({Dims{static_cast<long>(step.scratch)}, memory::data_type::u8, Tag::a},
                          impl_.engine, scratch_.data()));
    }
    step.prim.execute(stream_, args);
  }

  memory view(const memory::desc& desc, float* data) const { return memory(desc, impl_.engine, data); }
  void wait() { stream_.wait(); }
  int threads() const { return threads_; }

  std::vector<float> x, h, qkv, probs, context, up;

 private:
  dnnl::primitive_attr attr(const dnnl::post_ops& ops) const {
    dnnl::primitive_attr a;
    a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    a.set_post_ops(ops);
    return a;
  }

  // The primitive of `pd` with the size of its scratchpad.
  template <typename Primitive>
  static Step finish(const typename Primitive::primitive_desc& pd) {
    return {Primitive(pd), pd.scratchpad_desc().get_size()};
  }

  Step linear(long m, const PackedLinear& l, const dnnl::post_ops& ops) {
    const dnnl::matmul::desc d(rows_desc(m, l.in), l.weights.get_desc(),
                               memory::desc({1, l.out}, kF32, Tag::ab), rows_desc(m, l.out));
    const dnnl::matmul::primitive_desc pd(d, attr(ops), impl_.engine);
    if (pd.weights_desc() != l.weights.get_desc())
      throw Error("internal error: oneDNN chose another weight layout for " + std::to_string(m) + " rows");
    return finish<dnnl::matmul>(pd);
  }

  const Impl& impl_;
  dnnl::stream stream_;
  int threads_;
  std::map<long, RowPrims> row_prims_;
  std::map<std::pair<long, long>, AttentionPrims> attention_prims_;
  std::vector<unsigned char> scratch_;
};

std::unique_ptr<OneDnnEncoder> OneDnnEncoder::open(const std::string& path, std::string* why_not) {
  auto weights = EncoderWeights::open(path, why_not);
  if (!weights) return nullptr;
  auto impl = std::make_unique<Impl>();
  for (const auto& l : weights->layers) {
    PackedLayer p;
    p.qkv = impl->pack(l.qkv);
    p.attn_out = impl->pack(l.attn_out);
    p.ffn_up = impl->pack(l.ffn_up);
    p.ffn_down = impl->pack(l.ffn_down);
    p.attn_norm_scale = vector_memory(impl->engine, l.attn_norm.scale);
    p.attn_norm_shift = vector_memory(impl->engine, l.attn_norm.shift);
    p.out_norm_scale = vector_memory(impl->engine, l.out_norm.scale);
    p.out_norm_shift = vector_memory(impl->engine, l.out_norm.shift);
    impl->layers.push_back(std::move(p));
  }
  impl->embd_norm_scale = vector_memory(impl->engine, weights->embd_norm.scale);
  impl->embd_norm_shift = vector_memory(impl->engine, weights->embd_norm.shift);
  weights->release_matrices();
  impl->w = std::move(weights);
  return std::unique_ptr<OneDnnEncoder>(new OneDnnEncoder(std::move(impl)));
}

OneDnnEncoder::OneDnnEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OneDnnEncoder::~OneDnnEncoder() = default;

OneDnnEncoder::WorkspacePtr OneDnnEncoder::workspace(int threads) const {
  return WorkspacePtr(new Workspace(*impl_, std::max(threads, 1)));
}

void OneDnnEncoder::WorkspaceDeleter::operator()(Workspace* ws) const { delete ws; }

int OneDnnEncoder::max_tokens() const { return impl_->w->n_ctx; }

double OneDnnEncoder::flops(std::size_t tokens) const {
  const EncoderWeights& w = *impl_->w;
  const double t = static_cast<double>(tokens), n = w.n_embd, ff = w.n_ff;
  double total = 0.0;
  for (std::size_t il = 0; il < impl_->layers.size(); ++il) {
    const double q = il + 1 == impl_->layers.size() ? 1.0 : t;
    total += 2.0 * t * n * 3.0 * n;               // Q, K and V projections
    total += 4.0 * q * t * n;                     // scores and context, all heads
    total += 2.0 * q * n * n + 4.0 * q * n * ff;  // output projection, feed-forward
  }
  if (w.head_dense.in > 0) total += 2.0 * n * n;
  return total + 2.0 * n * w.head_out.out;
}

namespace {

void layer_norm(OneDnnEncoder::Workspace& ws, const OneDnnEncoder::Workspace::Step& step, long rows, long n,
                float* src, float* dst, const memory& scale, const memory& shift) {
  ws.run(step, {{DNNL_ARG_SRC, ws.view(rows_desc(rows, n), src)},
                {DNNL_ARG_DST, ws.view(rows_desc(rows, n), dst)},
                {DNNL_ARG_SCALE, scale},
                {DNNL_ARG_SHIFT, shift}});
}

void linear(OneDnnEncoder::Workspace& ws, const OneDnnEncoder::Workspace::Step& step, long rows,
            const PackedLinear& l, float* src, float* dst) {
  ws.run(step, {{DNNL_ARG_SRC, ws.view(rows_desc(rows, l.in), src)},
                {DNNL_ARG_WEIGHTS, l.weights},
                {DNNL_ARG_BIAS, l.bias},
                {DNNL_ARG_DST, ws.view(rows_desc(rows, l.out), dst)}});
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

float OneDnnEncoder::score(Workspace& ws, const std::vector<std::int32_t>& tokens,
                           std::size_t type1_from) const {
  const EncoderWeights& w = *impl_->w;
  const long t = static_cast<long>(tokens.size()), n = w.n_embd, h = w.n_head, ff = w.n_ff;
  if (t == 0 || t > w.n_ctx)
    throw Error("internal error: a sequence of " + std::to_string(t) + " tokens for an encoder of " +
                std::to_string(w.n_ctx) + " positions");
  omp_set_num_threads(ws.threads());
  ws.x.resize(static_cast<std::size_t>(t * n));
  ws.h.resize(ws.x.size());
  ws.qkv.resize(static_cast<std::size_t>(t * 3 * n));
  ws.probs.resize(static_cast<std::size_t>(h * t * t));
  ws.context.resize(ws.x.size());
  ws.up.resize(static_cast<std::size_t>(t * ff));

  // Embeddings as BertEmbeddings sums them: (word + token type) + position.
  for (long p = 0; p < t; ++p) {
    float* row = ws.h.data() + p * n;
    w.token_row(tokens[static_cast<std::size_t>(p)], row);
    const long type = (w.n_types > 1 && static_cast<std::size_t>(p) >= type1_from) ? 1 : 0;
    for (long i = 0; i < n; ++i) row[i] += w.types[static_cast<std::size_t>(type * n + i)];
    for (long i = 0; i < n; ++i) row[i] += w.positions[static_cast<std::size_t>(p * n + i)];
  }
  layer_norm(ws, ws.rows(t).norm, t, n, ws.h.data(), ws.x.data(), impl_->embd_norm_scale,
             impl_->embd_norm_shift);

  for (std::size_t il = 0; il < impl_->layers.size(); ++il) {
    const PackedLayer& layer = impl_->layers[il];
    // Only the first token's row reaches the head: the last layer computes the others' keys and
    // values, nothing more.
    const long q = il + 1 == impl_->layers.size() ? 1 : t;
    linear(ws, ws.rows(t).qkv, t, layer.qkv, ws.x.data(), ws.qkv.data());
    const auto& att = ws.attention(q, t);
    const long d = n / h;
    const memory qkv_q = ws.view({{h, q, d}, kF32, Dims{d, 3 * n, 1}}, ws.qkv.data());
    const memory qkv_k = ws.view({{h, d, t}, kF32, Dims{d, 1, 3 * n}}, ws.qkv.data() + n);
    const memory qkv_v = ws.view({{h, t, d}, kF32, Dims{d, 3 * n, 1}}, ws.qkv.data() + 2 * n);
    const memory probs = ws.view({{h, q, t}, kF32, Tag::abc}, ws.probs.data());
    ws.run(att.scores, {{DNNL_ARG_SRC, qkv_q}, {DNNL_ARG_WEIGHTS, qkv_k}, {DNNL_ARG_DST, probs}});
    ws.run(att.softmax, {{DNNL_ARG_SRC, probs}, {DNNL_ARG_DST, probs}});
    ws.run(att.context, {{DNNL_ARG_SRC, probs},
                         {DNNL_ARG_WEIGHTS, qkv_v},
                         {DNNL_ARG_DST, ws.view({{h, q, d}, kF32, Dims{d, n, 1}}, ws.context.data())}});
    const auto& rows = ws.rows(q);
    // x += attention output (the matmul's sum post-op), then norm into h; h += feed-forward, then
    // norm back into x.
    linear(ws, rows.attn_out, q, layer.attn_out, ws.context.data(), ws.x.data());
    layer_norm(ws, rows.norm, q, n, ws.x.data(), ws.h.data(), layer.attn_norm_scale, layer.attn_norm_shift);
    linear(ws, rows.ffn_up, q, layer.ffn_up, ws.h.data(), ws.up.data());
    linear(ws, rows.ffn_down, q, layer.ffn_down, ws.up.data(), ws.h.data());
    layer_norm(ws, rows.norm, q, n, ws.h.data(), ws.x.data(), layer.out_norm_scale, layer.out_norm_shift);
  }

  ws.wait();
  std::vector<float> first(ws.x.begin(), ws.x.begin() + n);
  if (w.head_dense.in > 0) {
    first = dense_row(w.head_dense, first);
    for (float& v : first) v = std::tanh(v);
  }
  return dense_row(w.head_out, first)[0];
}

}  // namespace rerank::detail
