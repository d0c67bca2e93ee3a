#include "model/exact_gelu.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace rerank::detail {
namespace {

// The input of the GELU about to run, copied on this thread (each llama_decode runs its callbacks on
// the thread that called it; the runtime's workers each have their own context and thread).
struct PendingInput {
  const ggml_tensor* node = nullptr;
  std::vector<float> values;
};
thread_local PendingInput pending;

bool is_gelu(const ggml_tensor* t) {
  return t->op == GGML_OP_UNARY && ggml_get_unary_op(t) == GGML_UNARY_OP_GELU;
}

// The feed-forward up projection (with or without its bias), the only producer of GELU inputs in
// llama.cpp's BERT graph: an F32 [n_ff, tokens] result of a matrix product or bias addition.
bool may_feed_gelu(const ggml_tensor* t, std::int64_t n_ff) {
  return (t->op == GGML_OP_ADD || t->op == GGML_OP_MUL_MAT) && t->type == GGML_TYPE_F32 && t->ne[0] == n_ff &&
         ggml_is_contiguous(t);
}

}  // namespace

bool exact_gelu_callback(ggml_tensor* t, bool ask, void* user_data) {
  const auto n_ff = static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(user_data));
  if (ask) return is_gelu(t) || may_feed_gelu(t, n_ff);
  if (!is_gelu(t)) {
    pending.node = t;
    pending.values.resize(static_cast<std::size_t>(ggml_nelements(t)));
    std::memcpy(pending.values.data(), t->data, pending.values.size() * sizeof(float));
    return true;
  }
  // A GELU whose input was not seen (a graph this callback does not know): stop the computation, so
  // that llama_decode fails instead of returning the approximation under the exact name.
  if (pending.node != t->src[0] || t->type != GGML_TYPE_F32 || !ggml_is_contiguous(t) ||
      static_cast<std::size_t>(ggml_nelements(t)) != pending.values.size())
    return false;
  // In float, as PyTorch computes it (and 3x faster than double here).
  auto* out = static_cast<float*>(t->data);
  constexpr float kInvSqrt2 = 0.70710678118654752f;
  for (std::size_t i = 0; i < pending.values.size(); ++i) {
    const float x = pending.values[i];
    out[i] = 0.5f * x * (1.0f + std::erf(x * kInvSqrt2));
  }
  pending.node = nullptr;
  return true;
}

}  // namespace rerank::detail
