// EmbeddingModel on tiny generated models: a text's vector does not depend on what else is in its
// batch (bit for bit, as for the cross-encoder), for mean pooling (an encoder) and last-token
// pooling (a decoder, including a text longer than one forward pass), and its cost accounting, on
// llama.cpp (rerank.cpp's own runtime for BERT embedders: test_onednn_embedding.cpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rerank/embedding_model.h"
#include "rerank/model.h"
#include "tiny_embedding_model.h"
#include "tiny_models.h"

namespace {

using rerank::test::Tiny;
using rerank::test::tiny_model;

// A text of about `words` words (one token each in both tiny vocabularies), different per `seed`.
std::string text_of(std::size_t words, std::size_t seed) {
  static const std::vector<std::string> vocabulary = {"the",   "city",  "river", "north", "water", "house",
                                                      "green", "light", "small", "world", "paper", "story"};
  std::string out;
  for (std::size_t i = 0; i < words; ++i)
    out += (i ? " " : "") + vocabulary[(i * 7 + seed * 5 + i / 3) % vocabulary.size()];
  return out;
}

// Embeds each of `texts` alone, then among batch-mates of other lengths in several orders and pass
// sizes, and expects the same bits every time.
void expect_independent_of_batch_mates(const std::string& model_path,
                                       const std::vector<std::size_t>& lengths) {
  const auto model = rerank::Model::load(model_path);
  rerank::RuntimeOptions options;
  options.batch_tokens = 256;  // several passes; a text of more than 256 tokens goes in slices
  options.max_sequences = 4;
  options.threads = 2;
  options.encoder_runtime = rerank::RuntimeOptions::EncoderRuntime::Llama;
  rerank::EmbeddingModel embedder(model, options);
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < lengths.size(); ++i) texts.push_back(text_of(lengths[i], i));
  std::vector<std::vector<float>> alone;
  for (const auto& t : texts) alone.push_back(embedder.embed({t})[0]);

  std::vector<rerank::RerankCost> costs;
  const auto together = embedder.embed(texts, &costs);
  ASSERT_EQ(together.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    ASSERT_FALSE(alone[i].empty());
    EXPECT_EQ(together[i], alone[i]) << "text " << i << " (" << lengths[i] << " words) among all";
    EXPECT_GT(costs[i].prompt_tokens, lengths[i] / 2);
  }
  std::vector<std::string> reversed(texts.rbegin(), texts.rend());
  const auto backwards = embedder.embed(reversed);
  for (std::size_t i = 0; i < texts.size(); ++i)
    EXPECT_EQ(backwards[texts.size() - 1 - i], alone[i]) << "text " << i << " in reverse order";
  // Each text with one mate at a time, before and after it.
  for (std::size_t i = 0; i < texts.size(); ++i)
    for (std::size_t j = 0; j < texts.size(); ++j) {
      if (i == j) continue;
      EXPECT_EQ(embedder.embed({texts[i], texts[j]})[0], alone[i]) << "text " << i << " before " << j;
      EXPECT_EQ(embedder.embed({texts[j], texts[i]})[1], alone[i]) << "text " << i << " after " << j;
    }
}

TEST(EmbeddingModel, MeanPooledVectorsDoNotDependOnBatchMates) {
  // Below one 64-token block (shared, aligned slots) and above it (alone in a pass).
  expect_independent_of_batch_mates(rerank::test::tiny_embedding_model(), {3, 20, 45, 61, 90, 150});
}

TEST(EmbeddingModel, LastTokenVectorsDoNotDependOnBatchMates) {
  // The tiny Qwen3 has no pooling metadata: pooled at its last token, after an appended end of text.
  expect_independent_of_batch_mates(tiny_model(Tiny::Qwen3), {2, 17, 40, 62, 80, 300});
}

TEST(EmbeddingModel, CostsBookEachTextsTokensAndEveryPassOnce) {
  const auto model = rerank::Model::load(rerank::test::tiny_embedding_model());
  rerank::RuntimeOptions options;
  options.batch_tokens = 128;
  options.max_sequences = 3;  // 6 sequences do not divide the batch: the context takes 8
  options.threads = 2;
  options.encoder_runtime = rerank::RuntimeOptions::EncoderRuntime::Llama;
  rerank::EmbeddingModel embedder(model, options);
  std::vector<rerank::RerankCost> costs;
  // Two short texts share one pass (two aligned slots), the long one has its own.
  const auto vectors = embedder.embed({text_of(10, 1), text_of(100, 2), text_of(12, 3)}, &costs);
  ASSERT_EQ(costs.size(), 3u);
  EXPECT_EQ(vectors[0].size(), static_cast<std::size_t>(model->info().n_embd));
  EXPECT_EQ(costs[0].forward_passes, 1u);  // the shared pass, booked on its first text
  EXPECT_EQ(costs[1].forward_passes, 1u);
  EXPECT_EQ(costs[2].forward_passes, 0u);
  for (const auto& c : costs) EXPECT_GT(c.flops, 0.0);
}

}  // namespace
