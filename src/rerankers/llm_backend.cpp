// The part of the LLM backend interface that does not depend on a runtime: the default chat format.
#include "rerank/llm_backend.h"

namespace rerank {

std::string LlmBackend::chat(const std::string& system, const std::string& user,
                             const std::string& answer_prefix) const {
  std::string out;
  if (!system.empty()) out += "<|im_start|>system\n" + system + "<|im_end|>\n";
  out += "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n" + answer_prefix;
  return out;
}

}  // namespace rerank
