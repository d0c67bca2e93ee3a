// Decoder prompts come from the model's own chat template (read from the GGUF), not a hard-coded
// format. Real models come from scripts/fetch_models.sh; scripts/test.sh exports their paths.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "rerank/model.h"
#include "tiny_models.h"

namespace {

std::string env_path(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

TEST(ChatPrompts, SmolLm2UsesItsOwnChatMlTemplate) {
  const std::string path = env_path("RERANK_MODEL_SMOLLM2");
  if (path.empty()) GTEST_SKIP() << "RERANK_MODEL_SMOLLM2 is not set (scripts/fetch_models.sh prints it)";
  const auto model = rerank::Model::load(path);
  ASSERT_NE(model->info().chat_template.find("<|im_start|>"), std::string::npos);
  // SmolLM2-Instruct's Jinja template: ChatML turns, the assistant turn opened.
  EXPECT_EQ(model->chat_prompt("Be brief.", "Is the sky blue?"),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nIs the sky blue?<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(model->decoder_prompt("Be brief.", "Is the sky blue?"),
            model->chat_prompt("Be brief.", "Is the sky blue?"));
  EXPECT_FALSE(model->plain_prompts());
  // The turn markers are single special tokens of its vocabulary, as the template expects.
  EXPECT_EQ(model->tokenizer().tokenize("<|im_start|>", false, true).size(), 1u);
}

TEST(ChatPrompts, BaseModelWithoutTemplateGetsPlainText) {
  const std::string path = env_path("RERANK_MODEL_GEMMA3");
  if (path.empty()) GTEST_SKIP() << "RERANK_MODEL_GEMMA3 is not set (scripts/fetch_models.sh prints it)";
  const auto model = rerank::Model::load(path);
  EXPECT_EQ(model->info().name, "Gemma 3 270m");  // the base model: no chat template in its GGUF
  EXPECT_TRUE(model->info().chat_template.empty());
  EXPECT_TRUE(model->plain_prompts());
  EXPECT_EQ(model->decoder_prompt("Be brief.", "Is the sky blue?"),
            "Be brief.\n\nIs the sky blue?\n\nAnswer:");
  EXPECT_EQ(model->chat_prompt("Be brief.", "Is the sky blue?"), "");
}

TEST(ChatPrompts, Qwen3AnswersInNonThinkingMode) {
  // The tiny Qwen3 carries the chat template of llama.cpp's Qwen2 vocabulary file (ChatML).
  const auto model = rerank::Model::load(rerank::test::tiny_model(rerank::test::Tiny::Qwen3));
  EXPECT_FALSE(model->info().chat_template.empty());
  EXPECT_EQ(model->decoder_prompt("", "Is the sky blue?"),
            "<|im_start|>user\nIs the sky blue?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

}  // namespace
