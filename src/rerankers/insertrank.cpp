// InsertRank: listwise generation with each passage's first-stage (BM25) score in the prompt, which
// the paper shows LLMs use as an extra relevance signal.
#include "rerankers/llm_strategy.h"

namespace rerank::llm {
namespace {

GeneratedListwiseOptions parse_insertrank(OptionReader& params) {
  return parse_generated_listwise(params, "insertrank");
}

const LlmStrategyRegistration<GeneratedListwiseOptions> kInsertRank("insertrank", parse_insertrank,
                                                                    build_generated_listwise);

}  // namespace
}  // namespace rerank::llm
