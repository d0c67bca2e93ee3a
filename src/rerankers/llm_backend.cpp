// The part of the LLM backend interface that does not depend on a runtime: the default chat format.
#include "rerank/llm_backend.h"

#include "rerank/chat_format.h"
namespace rerank {

std::string LlmBackend::chat(const std::string& system, const std::string& user,
                             const std::string& answer_prefix) const {
  return chatml(system, user) + answer_prefix;
}

}  // namespace rerank
