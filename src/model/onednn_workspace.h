// The internals of rerank.cpp's oneDNN encoder runtime (onednn_encoder.h), shared by its two source
// files: the weights in the layout oneDNN's matmul chose for them, and the per-worker workspace of
// primitives and buffers. Private to src/model.
#pragma once
#include <cstdint>
#include <dnnl.hpp>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/encoder_weights.h"
#include "model/onednn_encoder.h"

namespace rerank::detail {

// oneDNN's names as the runtime's files use them.
using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;
inline constexpr auto kF32 = memory::data_type::f32;

// A projection with its weights in the layout oneDNN's matmul chose for them (chosen once, for a
// typical row count; the layout does not depend on the rows, which the workspace checks).
struct PackedLinear {
  int in = 0, out = 0;
  dnnl::memory weights;
  dnnl::memory bias;
  // INT8 runs: each output column's dequantization scale (max |w| / 127), and the column's sum of
  // INT8 weights times it (what each unit of the input's zero point adds to the column).
  std::vector<float> column_scales, column_sums;
  std::vector<float> bias_values;
};

struct PackedLayer {
  PackedLinear qkv, attn_out, ffn_up, ffn_down;
  dnnl::memory attn_norm_scale, attn_norm_shift, out_norm_scale, out_norm_shift;
};

// How the projections and the feed-forward multiply (OneDnnEncoder::Precision, resolved).
enum class MatmulMode { F32, BF16, Int8 };

struct OneDnnEncoder::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::unique_ptr<EncoderWeights> w;
  MatmulMode mode = MatmulMode::F32;
  // INT8 runs compute attention in BF16 where the CPU has it natively, else in F32.
  bool bf16_attention = false;
  std::vector<PackedLayer> layers;
  dnnl::memory embd_norm_scale, embd_norm_shift;

  // The projections' input type: F32, BF16, or INT8 (u8 with a zero point: the fast u8 x s8 kernels).
  dnnl::memory::data_type linear_input_type() const {
    using T = dnnl::memory::data_type;
    return mode == MatmulMode::F32 ? T::f32 : mode == MatmulMode::BF16 ? T::bf16 : T::u8;
  }
  // Attention's Q, K, V and probabilities.
  dnnl::memory::data_type attention_type() const {
    using T = dnnl::memory::data_type;
    return mode == MatmulMode::BF16 || bf16_attention ? T::bf16 : T::f32;
  }
  PackedLinear pack(const LinearWeights& l) const;
  // Packs every layer's matrices and the norms, freeing the F32 copies of the matrices (the file's
  // pages were dropped as each tensor was read).
  void pack_all();
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
    dnnl::memory::desc src, dst;  // what the primitive reads and writes (views are made of these)
  };
  struct RowPrims {
    Step qkv, attn_out, norm, ffn_up, ffn_down;
    // BF16 and INT8 runs: F32 rows of n_embd (and, INT8, n_ff) values to the projections' input type.
    Step to_input, ff_to_input;
  };
  struct AttentionPrims {
    Step scores, softmax, context;
    dnnl::memory::desc keys, values;  // the matmuls' K^T and V operands: views of the fused rows
  };

  // Sizes the buffers this precision uses for a sequence of `tokens` tokens.
  void size_buffers(long tokens);
  const RowPrims& rows(long m);
  const AttentionPrims& attention(long queries, long keys);
  void run(const Step& step, std::unordered_map<int, dnnl::memory> args);

  dnnl::memory view(const dnnl::memory::desc& desc, void* data) const { return {desc, impl_.engine, data}; }
  void wait() { stream_.wait(); }
  int threads() const { return threads_; }

  // F32 activations: the residual stream (x, h) and attention scores; in F32 runs also the fused
  // Q/K/V rows, the context and the feed-forward's hidden layer.
  std::vector<float> x, h, qkv, probs, context, up;
  // BF16 attention and BF16 runs: a matmul's input rows, fused Q/K/V rows, attention probabilities
  // and the feed-forward's hidden layer.
  std::vector<std::uint16_t> rows16, qkv16, probs16, up16;
  // INT8 runs: a matmul's quantized input rows and their scale; the output scales and the bias
  // that go with them.
  std::vector<std::uint8_t> rows8;
  float input_scale = 1.0f, input_scale_inverse = 1.0f;
  std::int32_t input_zero_point = 0;
  std::vector<float> output_scales, bias_with_zero_point;

 private:
  // What a projection's output goes through after its bias.
  enum class Then { Nothing, Gelu, AddToOutput };
  dnnl::primitive_attr attr(const dnnl::post_ops& ops) const;
  Step linear(long m, const PackedLinear& l, Then then, dnnl::memory::data_type dst);
  Step to_input(long m, long cols);

  const Impl& impl_;
  dnnl::stream stream_;
  int threads_;
  std::map<long, RowPrims> row_prims_;
  std::map<std::pair<long, long>, AttentionPrims> attention_prims_;
  std::vector<unsigned char> scratch_;
};

}  // namespace rerank::detail
