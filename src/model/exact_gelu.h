// Exact GELU for BERT-family encoders (private to src/model).
//
// Hugging Face's BERT, RoBERTa and XLM-R apply GELU as x/2 (1 + erf(x/sqrt 2)). llama.cpp's CPU
// backend computes ggml_gelu as the tanh approximation read from a table of F16 values (the input
// and the output rounded to F16): up to ~1e-3 relative error per activation, which reaches a
// cross-encoder's logit as ~1.2e-3 relative (tests/parity). Installed as a context's eval callback,
// exact_gelu_callback keeps a copy of each GELU's input as it is computed (the GELU may overwrite it
// in place) and replaces the GELU's output with the exact function, inside rerank.cpp, without
// touching llama.cpp.
#pragma once
#include <llama.h>

#include <cstdint>

namespace rerank::detail {

// ggml_backend_sched_eval_callback; user_data carries the model's feed-forward width (n_ff) as an
// integer (exact_gelu_user_data), which is how the GELU's input is recognised before it is computed.
bool exact_gelu_callback(ggml_tensor* t, bool ask, void* user_data);

inline void* exact_gelu_user_data(std::int32_t n_ff) {
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(n_ff));
}

}  // namespace rerank::detail
