#include "model/onednn_workspace.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "rerank/error.h"

namespace rerank::detail {

namespace {

memory vector_memory(const dnnl::engine& eng, const std::vector<float>& values) {
  memory m({Dims{static_cast<long>(values.size())}, kF32, Tag::a}, eng);
  std::copy(values.begin(), values.end(), static_cast<float*>(m.get_data_handle()));
  return m;
}

memory::desc rows_desc(long rows, long cols, memory::data_type type = kF32) {
  return {Dims{rows, cols}, type, Tag::ab};
}

}  // namespace

namespace {

// Symmetric per-output-column INT8 weights, as the [in, out] matrix in column-major ("ba") order:
// each column scaled so that its largest |w| is 127.
std::vector<std::int8_t> quantize_columns(const LinearWeights& l, PackedLinear& p) {
  std::vector<std::int8_t> q(l.w.size());
  p.column_scales.resize(static_cast<std::size_t>(l.out));
  p.column_sums.resize(static_cast<std::size_t>(l.out));
  for (int o = 0; o < l.out; ++o) {
    const float* row = l.w.data() + static_cast<std::size_t>(o) * static_cast<std::size_t>(l.in);
    float largest = 0.0f;
    for (int i = 0; i < l.in; ++i) largest = std::max(largest, std::abs(row[i]));
    const float scale = largest > 0.0f ? largest / 127.0f : 1.0f;
    long sum = 0;
    for (int i = 0; i < l.in; ++i) {
      const auto v = static_cast<std::int8_t>(std::clamp(std::nearbyint(row[i] / scale), -127.0f, 127.0f));
      q[static_cast<std::size_t>(o) * static_cast<std::size_t>(l.in) + static_cast<std::size_t>(i)] = v;
      sum += v;
    }
    p.column_scales[static_cast<std::size_t>(o)] = scale;
    p.column_sums[static_cast<std::size_t>(o)] = static_cast<float>(sum) * scale;
  }
  return q;
}

}  // namespace

PackedLinear OneDnnEncoder::Impl::pack(const LinearWeights& l) const {
  PackedLinear p{l.in, l.out, {}, {}, {}, {}, l.b};
  const bool int8 = mode == MatmulMode::Int8;
  const auto weight_type = int8 ? memory::data_type::s8 : linear_input_type();
  const memory::desc any({l.in, l.out}, weight_type, Tag::any);
  const dnnl::matmul::primitive_desc pd(
      dnnl::matmul::desc(rows_desc(128, l.in, linear_input_type()), any, rows_desc(128, l.out)), engine);
  // PyTorch's [out, in] rows are the [in, out] matrix in column-major ("ba") order; the reorder
  // packs it, converting F32 to BF16 (round to nearest even) on the way.
  std::vector<std::int8_t> q;
  if (int8) q = quantize_columns(l, p);
  memory plain({Dims{l.in, l.out}, int8 ? memory::data_type::s8 : kF32, Tag::ba}, engine,
               int8 ? static_cast<void*>(q.data()) : const_cast<float*>(l.w.data()));
  p.weights = memory(pd.weights_desc(), engine);
  dnnl::stream s(engine);
  dnnl::reorder(plain, p.weights).execute(s, plain, p.weights);
  s.wait();
  p.bias = memory({Dims{1, l.out}, kF32, Tag::ab}, engine);
  std::copy(l.b.begin(), l.b.end(), static_cast<float*>(p.bias.get_data_handle()));
  return p;
}

void OneDnnEncoder::Impl::pack_all() {
  // Each layer's F32 copy is freed as soon as it is packed, so that the two never both exist whole.
  for (std::size_t il = 0; il < w->layers.size(); ++il) {
    const auto& l = w->layers[il];
    PackedLayer p;
    p.qkv = pack(l.qkv);
    p.attn_out = pack(l.attn_out);
    p.ffn_up = pack(l.ffn_up);
    p.ffn_down = pack(l.ffn_down);
    p.attn_norm_scale = vector_memory(engine, l.attn_norm.scale);
    p.attn_norm_shift = vector_memory(engine, l.attn_norm.shift);
    p.out_norm_scale = vector_memory(engine, l.out_norm.scale);
    p.out_norm_shift = vector_memory(engine, l.out_norm.shift);
    layers.push_back(std::move(p));
    w->release_matrices(il);
  }
  embd_norm_scale = vector_memory(engine, w->embd_norm.scale);
  embd_norm_shift = vector_memory(engine, w->embd_norm.shift);
}

dnnl::primitive_attr OneDnnEncoder::Workspace::attr(const dnnl::post_ops& ops) const {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  a.set_post_ops(ops);
  return a;
}

namespace {
// The primitive of `pd` with the size of its scratchpad.
template <typename Primitive>
OneDnnEncoder::Workspace::Step finish(const typename Primitive::primitive_desc& pd) {
  return {Primitive(pd), pd.scratchpad_desc().get_size(), pd.src_desc(), pd.dst_desc()};
}
}  // namespace

OneDnnEncoder::Workspace::Step OneDnnEncoder::Workspace::linear(long m, const PackedLinear& l, Then then,
                                                                memory::data_type dst) {
  const memory::desc src = rows_desc(m, l.in, impl_.linear_input_type()), out = rows_desc(m, l.out, dst);
  dnnl::post_ops ops;
  dnnl::primitive_attr a;
  std::optional<dnnl::matmul::desc> d;
  if (impl_.mode == MatmulMode::Int8) {
    // acc x (column scale / input scale) + (bias - zero point's share): the input's scale changes
    // with every call and the column scales with every layer (primitives are shared by layers), so
    // both come in as post-op operands.
    ops.append_binary(dnnl::algorithm::binary_mul, memory::desc({1, l.out}, kF32, Tag::ab));
    ops.append_binary(dnnl::algorithm::binary_add, memory::desc({1, l.out}, kF32, Tag::ab));
    d.emplace(src, l.weights.get_desc(), out);
  } else {
    d.emplace(src, l.weights.get_desc(), memory::desc({1, l.out}, kF32, Tag::ab), out);
  }
  if (then == Then::Gelu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
  if (then == Then::AddToOutput) ops.append_sum(1.0f);
  a = attr(ops);
  const dnnl::matmul::primitive_desc pd(*d, a, impl_.engine);
  if (pd.weights_desc() != l.weights.get_desc())
    throw Error("internal error: oneDNN chose another weight layout for " + std::to_string(m) + " rows");
  return finish<dnnl::matmul>(pd);
}

OneDnnEncoder::Workspace::Step OneDnnEncoder::Workspace::to_input(long m, long cols) {
  dnnl::primitive_attr a = attr({});
  if (impl_.mode == MatmulMode::Int8) {
    // x -> round(x x scale) + zero point, both given with each call.
    a.set_output_scales(0, {DNNL_RUNTIME_F32_VAL});
    a.set_zero_points(DNNL_ARG_DST, 0, {DNNL_RUNTIME_S32_VAL});
  }
  return finish<dnnl::reorder>(dnnl::reorder::primitive_desc(
      impl_.engine, rows_desc(m, cols), impl_.engine, rows_desc(m, cols, impl_.linear_input_type()), a));
}

void OneDnnEncoder::Workspace::size_buffers(long t) {
  const long n = impl_.w->n_embd, heads = impl_.w->n_head, ff = impl_.w->n_ff;
  const auto rows_of = [](long rows, long cols) { return static_cast<std::size_t>(rows * cols); };
  x.resize(rows_of(t, n));
  h.resize(rows_of(t, n));
  probs.resize(rows_of(heads * t, t));  // the scores, then (F32 attention) the probabilities
  if (impl_.attention_type() == memory::data_type::bf16) {
    qkv16.resize(rows_of(t, 3 * n));
    probs16.resize(rows_of(heads * t, t));
  } else {
    qkv.resize(rows_of(t, 3 * n));
  }
  if (impl_.mode == MatmulMode::BF16) {
    rows16.resize(rows_of(t, n));
    up16.resize(rows_of(t, ff));
  } else {
    context.resize(rows_of(t, n));
    up.resize(rows_of(t, ff));
  }
  if (impl_.mode == MatmulMode::Int8) rows8.resize(rows_of(t, std::max(n, ff)));
}

const OneDnnEncoder::Workspace::RowPrims& OneDnnEncoder::Workspace::rows(long m) {
  auto it = row_prims_.find(m);
  if (it != row_prims_.end()) return it->second;
  if (row_prims_.size() >= kMaxShapes) row_prims_.clear();  // bounded memory; rebuilding is cheap
  const auto& l = impl_.layers.front();
  const long n = impl_.w->n_embd;
  const auto mode = impl_.mode;
  RowPrims p;
  // Q, K and V are only ever attention's matmul inputs: in its type. So is the feed-forward's hidden
  // layer in BF16 runs; INT8 runs quantize it from F32.
  p.qkv = linear(m, l.qkv, Then::Nothing, impl_.attention_type());
  p.attn_out = linear(m, l.attn_out, Then::AddToOutput, kF32);
  p.ffn_up = linear(m, l.ffn_up, Then::Gelu, mode == MatmulMode::BF16 ? memory::data_type::bf16 : kF32);
  p.ffn_down = linear(m, l.ffn_down, Then::AddToOutput, kF32);
  const dnnl::layer_normalization_forward::desc d(
      dnnl::prop_kind::forward_inference, rows_desc(m, n), impl_.w->norm_eps,
      dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift);
  p.norm = finish<dnnl::layer_normalization_forward>(
      dnnl::layer_normalization_forward::primitive_desc(d, attr({}), impl_.engine));
  if (mode != MatmulMode::F32) p.to_input = to_input(m, n);
  if (mode == MatmulMode::Int8) p.ff_to_input = to_input(m, impl_.w->n_ff);
  return row_prims_.emplace(m, std::move(p)).first->second;
}

const OneDnnEncoder::Workspace::AttentionPrims& OneDnnEncoder::Workspace::attention(long queries, long keys) {
  const auto key = std::make_pair(queries, keys);
  auto it = attention_prims_.find(key);
  if (it != attention_prims_.end()) return it->second;
  if (attention_prims_.size() >= kMaxShapes) attention_prims_.clear();
  const long h = impl_.w->n_head, n = impl_.w->n_embd, d = n / h, qkv = 3 * n;
  const auto type = impl_.attention_type();
  AttentionPrims p;
  // Q, K and V are strided views of the fused projection's rows; the context rows are written in
  // place of the heads' concatenation. Scores and the softmax are F32; in BF16 runs the softmax
  // writes BF16 probabilities and the context goes straight into the output projection's input.
  const memory::desc q({h, queries, d}, type, Dims{d, qkv, 1});
  p.keys = memory::desc({h, d, keys}, type, Dims{d, 1, qkv});
  p.values = memory::desc({h, keys, d}, type, Dims{d, qkv, 1});
  const memory::desc scores({h, queries, keys}, kF32, Tag::abc);
  const memory::desc probs({h, queries, keys}, type, Tag::abc);
  // BF16 runs feed the context to the output projection as it is; the others convert it from F32.
  const memory::desc context({h, queries, d}, impl_.mode == MatmulMode::BF16 ? type : kF32, Dims{d, n, 1});
  dnnl::primitive_attr scaled = attr({});
  scaled.set_output_scales(0, {1.0f / std::sqrt(static_cast<float>(d))});
  p.scores = finish<dnnl::matmul>(
      dnnl::matmul::primitive_desc(dnnl::matmul::desc(q, p.keys, scores), scaled, impl_.engine));
  p.softmax = finish<dnnl::softmax_v2_forward>(dnnl::softmax_v2_forward::primitive_desc(
      dnnl::softmax_v2_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::softmax_accurate,
                                     scores, probs, 2),
      attr({}), impl_.engine));
  p.context = finish<dnnl::matmul>(
      dnnl::matmul::primitive_desc(dnnl::matmul::desc(probs, p.values, context), attr({}), impl_.engine));
  return attention_prims_.emplace(key, std::move(p)).first->second;
}

void OneDnnEncoder::Workspace::run(const Step& step, std::unordered_map<int, memory> args) {
  if (step.scratch > 0) {
    if (scratch_.size() < step.scratch) scratch_.resize(step.scratch);
    args.emplace(DNNL_ARG_SCRATCHPAD,
                 memory({Dims{static_cast<long>(step.scratch)}, memory::data_type::u8, Tag::a}, impl_.engine,
                        scratch_.data()));
  }
  step.prim.execute(stream_, args);
}

}  // namespace rerank::detail
