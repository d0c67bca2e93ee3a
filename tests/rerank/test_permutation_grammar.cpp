// The listwise answer grammar, checked with llama.cpp's own grammar engine on a real vocabulary
// (Qwen2 BPE from llama.cpp's models/), and the parser that repairs any answer into a permutation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <llama.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "rerank/permutation_grammar.h"
#include "rerank/tokenizer.h"

namespace rerank::llm {
namespace {

using ::testing::ElementsAre;

TEST(ParsePermutation, KeepsFirstMentionsAndAppendsTheRestInPriorOrder) {
  EXPECT_THAT(parse_permutation("[2] > [3] > [1]", 3), ElementsAre(1, 2, 0));
  EXPECT_THAT(parse_permutation("[3] > [3] > [9] > [0] > [1", 4), ElementsAre(2, 0, 1, 3));
  EXPECT_THAT(parse_permutation("", 3), ElementsAre(0, 1, 2));
  EXPECT_THAT(parse_permutation("I think [12] then [2]] and [x] [02]", 12),
              ElementsAre(11, 1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  EXPECT_THAT(parse_permutation("[99999999999999999999999] > [1]", 2), ElementsAre(0, 1));
  EXPECT_TRUE(parse_permutation("[1]", 0).empty());
}

class GrammarCheck : public ::testing::Test {
 protected:
  // The vocabulary is loaded once for the suite (it has 150k tokens).
  static void SetUpTestSuite() {
    const std::string vocab = std::string(RERANK_LLAMA_SOURCE) + "/models/ggml-vocab-qwen2.gguf";
    if (std::filesystem::exists(vocab)) tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::load(vocab));
  }
  static void TearDownTestSuite() { tokenizer_.reset(); }
  void SetUp() override {
    if (!tokenizer_)
      GTEST_SKIP() << "llama.cpp vocabulary ggml-vocab-qwen2.gguf not found under " << RERANK_LLAMA_SOURCE;
  }

  // Feeds the tokens of `text` through llama.cpp's grammar sampler; true when every token is allowed
  // and the grammar is complete at the end (end-of-generation allowed).
  bool accepts(const std::string& grammar, const std::string& text) const {
    const llama_vocab* vocab = tokenizer_->vocab();
    std::unique_ptr<llama_sampler, void (*)(llama_sampler*)> s(
        llama_sampler_init_grammar(vocab, grammar.c_str(), "root"), llama_sampler_free);
    EXPECT_NE(s, nullptr) << "llama.cpp could not parse the grammar";
    if (!s) return false;
    auto allowed = [&](llama_token t) {
      llama_token_data d{t, 0.0f, 0.0f};
      llama_token_data_array arr{&d, 1, -1, false};
      llama_sampler_apply(s.get(), &arr);
      return std::isfinite(d.logit);
    };
    for (auto t : tokenizer_->tokenize(text, false, false)) {
      if (!allowed(t)) return false;
      llama_sampler_accept(s.get(), t);
    }
    return allowed(llama_vocab_eos(vocab)) || allowed(llama_vocab_eot(vocab));
  }

  static std::unique_ptr<Tokenizer> tokenizer_;
};

std::unique_ptr<Tokenizer> GrammarCheck::tokenizer_;

TEST_F(GrammarCheck, ExactGrammarAcceptsOnlyPermutations) {
  const std::string g = permutation_grammar(4);
  EXPECT_TRUE(accepts(g, "[2] > [1] > [4] > [3]"));
  EXPECT_TRUE(accepts(g, "[1] > [2] > [3] > [4]"));
  EXPECT_FALSE(accepts(g, "[2] > [2] > [4] > [3]"));  // repeat
  EXPECT_FALSE(accepts(g, "[2] > [1] > [4]"));        // incomplete
  EXPECT_FALSE(accepts(g, "[2] > [1] > [5] > [3]"));  // out of range
  EXPECT_FALSE(accepts(g, "[2] > [1] > [4] > [3] > [1]"));
  EXPECT_FALSE(accepts(g, "[2], [1], [4], [3]"));  // wrong format
  const std::string g9 = permutation_grammar(kExactPermutationLimit);
  EXPECT_TRUE(accepts(g9, "[9] > [8] > [7] > [6] > [5] > [4] > [3] > [2] > [1]"));
  EXPECT_FALSE(accepts(g9, "[9] > [8] > [7] > [6] > [5] > [4] > [3] > [2] > [9]"));
}

TEST_F(GrammarCheck, LargeWindowGrammarEnforcesFormatRangeAndCount) {
  const std::string g = permutation_grammar(20);
  std::string valid, short_one;
  for (int i = 20; i >= 1; --i) valid.append(i < 20 ? " > [" : "[").append(std::to_string(i)).append("]");
  for (int i = 19; i >= 1; --i) short_one.append(i < 19 ? " > [" : "[").append(std::to_string(i)).append("]");
  EXPECT_TRUE(accepts(g, valid));
  EXPECT_FALSE(accepts(g, short_one));
  EXPECT_FALSE(accepts(g, valid + " > [1]"));
  std::string out_of_range = valid;
  out_of_range.replace(out_of_range.find("[20]"), 4, "[21]");
  EXPECT_FALSE(accepts(g, out_of_range));
  EXPECT_FALSE(accepts(g, "[20] [19]"));
}

TEST_F(GrammarCheck, ExactGrammarIsQuickToParse) {
  const std::string g = permutation_grammar(kExactPermutationLimit);
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<llama_sampler, void (*)(llama_sampler*)> s(
      llama_sampler_init_grammar(tokenizer_->vocab(), g.c_str(), "root"), llama_sampler_free);
  ASSERT_NE(s, nullptr);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("parse_ms", std::to_string(ms));
  std::printf("exact grammar for %zu identifiers: %zu bytes, parsed in %.1f ms\n", kExactPermutationLimit,
              g.size(), ms);
  EXPECT_EQ(g.substr(0, 14), "root ::= s511\n");
}

}  // namespace
}  // namespace rerank::llm
