// The LLM backend on llama.cpp's runtime (src/model): what the registered LLM strategies run on.
#pragma once
#include <memory>
#include <string>

#include "rerank/llm_backend.h"
#include "rerank/options.h"

namespace rerank::llm {

// The runtime's options every LLM strategy accepts, read before the model loads.
struct LlmRuntimeOptions {
  // A listwise window of 20 passages of 300 tokens plus instructions needs about 6.5k tokens.
  int context_tokens = 8192;
  int batch_tokens = 1024;
};
LlmRuntimeOptions read_runtime_options(OptionReader& reader);

// Loads the model (threads 0: all cores). Throws rerank::Error for a missing or unsuitable model.
std::shared_ptr<LlmBackend> open_llama_backend(const std::string& model_path, int threads,
                                               const LlmRuntimeOptions& runtime);

}  // namespace rerank::llm
