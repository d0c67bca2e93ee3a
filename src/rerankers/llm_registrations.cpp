// Registers every LLM strategy under its name; the model is opened through open_llm_backend.
#include "rerankers/llm_strategy.h"

namespace rerank::llm {
namespace {

const bool registered = [] {
  for (const auto& [name, factory] : llm_strategies()) {
    register_reranker(name, [f = factory](const RerankerOptions& options) {
      return f(open_llm_backend(options), options);
    });
  }
  return true;
}();

}  // namespace
}  // namespace rerank::llm
