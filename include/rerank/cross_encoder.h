// Cross-encoder runtime: scores framed token sequences ([CLS] query [SEP] doc [SEP], or a model's
// rerank template) with the model's classification head, many sequences per forward pass.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "rerank/cost.h"
#include "rerank/model.h"

namespace rerank {

class CrossEncoder {
 public:
  // Throws rerank::Error when the model is not a cross-encoder.
  CrossEncoder(std::shared_ptr<const Model> model, RuntimeOptions options);
  ~CrossEncoder();
  CrossEncoder(const CrossEncoder&) = delete;
  CrossEncoder& operator=(const CrossEncoder&) = delete;

  // The longest sequence one forward pass can take (the model's trained context, the batch budget).
  int max_sequence_tokens() const;

  // The head's first output for each sequence, index-aligned with `sequences`. Sequences are
  // sorted by length and packed into forward passes of at most batch_tokens tokens and
  // max_sequences sequences; each is evaluated whole, as its own sequence, so its score does not
  // depend on its batch-mates. Adds passes, tokens and FLOPs to `cost` when given.
  // `second_segment[i]`: where sequence i's second segment (BERT's token type 1, the document of a
  // pair) starts; empty: every token is of type 0. Models without token types ignore it.
  std::vector<float> score(const std::vector<std::vector<std::int32_t>>& sequences,
                           RerankCost* cost = nullptr, const std::vector<std::size_t>& second_segment = {});

  const Model& model() const { return *model_; }
  // True when rerank.cpp's own encoder runtime computes the model (RuntimeOptions::encoder_runtime).
  bool own_runtime() const;

 private:
  bool open_native(int threads);
  std::vector<float> score_native(const std::vector<std::vector<std::int32_t>>& sequences, RerankCost* cost,
                                  const std::vector<std::size_t>& second_segment);
  std::shared_ptr<const Model> model_;
  RuntimeOptions options_;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rerank
