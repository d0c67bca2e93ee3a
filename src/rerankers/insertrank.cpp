// InsertRank: listwise generation with each passage's first-stage (BM25) score in the prompt, which
// the paper shows LLMs use as an extra relevance signal.
#include "rerankers/llm_strategy.h"

namespace rerank::llm {

std::unique_ptr<Reranker> make_insertrank(std::shared_ptr<LlmBackend> backend,
                                          const RerankerOptions& options) {
  return make_generated_listwise("insertrank", "insertrank", std::move(backend), options);
}

}  // namespace rerank::llm
