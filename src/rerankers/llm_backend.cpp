// The parts of the LLM backend interface that do not depend on a runtime: the default chat format
// and the opener hook through which the llama.cpp adapter makes itself available.
#include "rerank/llm_backend.h"

#include <mutex>

#include "rerank/error.h"

namespace rerank {

std::string LlmBackend::chat(const std::string& system, const std::string& user,
                             const std::string& answer_prefix) const {
  std::string out;
  if (!system.empty()) out += "<|im_start|>system\n" + system + "<|im_end|>\n";
  out += "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n" + answer_prefix;
  return out;
}

namespace {
std::mutex& opener_mutex() {
  static std::mutex m;
  return m;
}
LlmBackendOpener& opener() {
  static LlmBackendOpener o;
  return o;
}
}  // namespace

void set_llm_backend_opener(LlmBackendOpener o) {
  std::lock_guard lock(opener_mutex());
  opener() = std::move(o);
}

std::shared_ptr<LlmBackend> open_llm_backend(const RerankerOptions& options) {
  LlmBackendOpener o;
  {
    std::lock_guard lock(opener_mutex());
    o = opener();
  }
  if (!o) throw Error("no LLM runtime is linked into this build, so LLM reranking strategies cannot run");
  if (options.model_path.empty()) throw Error("LLM reranking strategies need a model (--model FILE.gguf)");
  return o(options);
}

}  // namespace rerank
