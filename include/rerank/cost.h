// What a call to a model cost (model layer and rerankers alike): its own header so that the model
// layer reports costs without depending on the reranker interface above it.
#pragma once
#include <cstdint>

namespace rerank {

// What a rerank call cost. FLOPs are estimated from the model's shape (2 x parameters x tokens
// plus attention), so they compare across machines.
struct RerankCost {
  std::uint64_t model_calls = 0;     // logical requests to the model (a window, a comparison, a pair)
  std::uint64_t forward_passes = 0;  // llama_decode calls
  std::uint64_t prompt_tokens = 0;   // tokens evaluated
  std::uint64_t cached_tokens = 0;   // prompt tokens served from a reused KV prefix instead
  std::uint64_t generated_tokens = 0;
  // Generated answers that did not name every item exactly once (a listwise permutation cut short,
  // with repeats or unknown labels) and were completed in their previous order.
  std::uint64_t repaired_answers = 0;
  double flops = 0.0;

  RerankCost& operator+=(const RerankCost& o) {
    model_calls += o.model_calls;
    forward_passes += o.forward_passes;
    prompt_tokens += o.prompt_tokens;
    cached_tokens += o.cached_tokens;
    generated_tokens += o.generated_tokens;
    repaired_answers += o.repaired_answers;
    flops += o.flops;
    return *this;
  }
};

}  // namespace rerank
