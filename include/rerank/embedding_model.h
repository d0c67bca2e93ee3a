// Text embeddings from a GGUF model, for the embedding-based strategies (embedding, E2Rank).
// Pooling follows the model's metadata ({arch}.pooling_type: mean, CLS or last token); a decoder
// without pooling metadata (Qwen3-Embedding style) is pooled at its last token, after an appended
// end-of-text token as Qwen3-Embedding does.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rerank/cost.h"
#include "rerank/model.h"

namespace rerank {

class EmbeddingModel {
 public:
  // Throws rerank::Error when the model has a ranking head (it scores pairs, it does not embed).
  EmbeddingModel(std::shared_ptr<const Model> model, RuntimeOptions options);
  ~EmbeddingModel();
  EmbeddingModel(const EmbeddingModel&) = delete;
  EmbeddingModel& operator=(const EmbeddingModel&) = delete;

  // One vector per text. On llama.cpp, texts are sorted by length and packed into forward passes of
  // at most batch_tokens tokens and max_sequences texts, each laid out so that its vector does not
  // depend on its batch-mates (RuntimeOptions::align_sequences). On rerank.cpp's own runtime
  // (BERT-family models with mean or CLS pooling, RuntimeOptions::encoder_runtime), each text is
  // one pass of its own, one text per thread. costs[i] receives the cost of text i (a forward pass
  // shared by several texts is counted on the first of them).
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts,
                                        std::vector<RerankCost>* costs = nullptr);

  // For texts longer than the model takes: each text's tokens are cut into windows of at most
  // `window` tokens, special tokens included, starting every `stride` tokens, and every window is
  // embedded (a text that fits is one window). Returns each text's windows' vectors, in order.
  std::vector<std::vector<std::vector<float>>> embed_windows(const std::vector<std::string>& texts,
                                                             std::size_t window, std::size_t stride);

  // The vector length.
  int dims() const;

  // True when rerank.cpp's own encoder runtime computes the model.
  bool own_runtime() const;

 private:
  bool open_native(int threads);
  std::vector<std::vector<float>> embed_tokens(const std::vector<std::vector<std::int32_t>>& tokens,
                                               std::vector<RerankCost>* costs);
  std::vector<std::vector<float>> embed_native(const std::vector<std::vector<std::int32_t>>& tokens,
                                               std::vector<RerankCost>* costs);
  std::size_t pooled_limit() const;
  // Each text's tokens, special tokens added, truncated to what the model embeds unless `whole`.
  std::vector<std::vector<std::int32_t>> tokenize(const std::vector<std::string>& texts,
                                                  bool whole = false) const;
  std::shared_ptr<const Model> model_;
  RuntimeOptions options_;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rerank
