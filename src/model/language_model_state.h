// LanguageModel's llama.cpp state, shared by its scoring (language_model.cpp) and generation
// (generation.cpp) halves (private).
#pragma once
#include <string>
#include <vector>

#include "model/llama_session.h"
#include "rerank/language_model.h"

namespace rerank {

struct LanguageModel::State {
  detail::ContextPtr ctx;
  detail::Batch batch;
  std::vector<std::string> pieces;  // every token's text, filled on first constrained generation
  explicit State(int capacity) : batch(capacity) {}
};

}  // namespace rerank
