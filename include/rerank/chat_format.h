// Prompt formats that come with models, each written once: ChatML (Qwen, SmolLM2 and most instruct
// GGUFs) and the prompt Qwen3-Reranker publishes, which llama.cpp's converter writes into the GGUF as
// tokenizer.chat_template.rerank. Strategy prompts (RankGPT, PRP, setwise, ...) live with the
// strategies, in src/rerankers/prompts.cpp; a model's own chat template always wins over these
// (Model::chat_prompt).
#pragma once
#include <string>

namespace rerank {

// A system turn (omitted when empty) and a user turn in ChatML, up to the start of the assistant's
// answer ("<|im_start|>assistant\n").
std::string chatml(const std::string& system, const std::string& user);

// The empty reasoning block Qwen3 models get before their answer when thinking is off.
inline constexpr const char* kQwen3EmptyThink = "<think>\n\n</think>\n\n";

// Qwen3-Reranker's published prompt: the system turn, the user turn (placeholders {instruction},
// {query}, {document}) and the default task instruction (also Qwen3-Embedding's and E2Rank's).
struct RerankPrompt {
  std::string system;
  std::string user;
  std::string instruction;
};
const RerankPrompt& qwen3_reranker_prompt();

// The whole prompt as the converter writes it: ChatML, the default instruction filled in, the empty
// think block; {query} and {document} left for the pair.
const std::string& qwen3_reranker_template();

}  // namespace rerank
