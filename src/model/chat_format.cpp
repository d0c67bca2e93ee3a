#include "rerank/chat_format.h"

namespace rerank {

std::string chatml(const std::string& system, const std::string& user) {
  std::string out;
  if (!system.empty()) out += "<|im_start|>system\n" + system + "<|im_end|>\n";
  out += "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n";
  return out;
}

const RerankPrompt& qwen3_reranker_prompt() {
  static const RerankPrompt prompt = {
      "Judge whether the Document meets the requirements based on the Query and the Instruct provided. Note "
      "that the answer can only be \"yes\" or \"no\".",
      "<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {document}",
      "Given a web search query, retrieve relevant passages that answer the query"};
  return prompt;
}

const std::string& qwen3_reranker_template() {
  static const std::string tmpl = [] {
    const RerankPrompt& p = qwen3_reranker_prompt();
    std::string user = p.user;
    user.replace(user.find("{instruction}"), std::string("{instruction}").size(), p.instruction);
    return chatml(p.system, user) + kQwen3EmptyThink;
  }();
  return tmpl;
}

}  // namespace rerank
