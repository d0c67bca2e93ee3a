// The listwise answer constraint (an exact permutation of any window size), checked token by token
// on a real vocabulary (Qwen2 BPE from llama.cpp's models/), and the parser that repairs any answer
// into a permutation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "rerank/error.h"
#include "rerankers/permutation_constraint.h"
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

TEST(ParsePermutation, TellsWhetherTheAnswerNeededRepair) {
  bool complete = false;
  parse_permutation("[2] > [3] > [1]", 3, &complete);
  EXPECT_TRUE(complete);
  parse_permutation("[2] > [3]", 3, &complete);  // cut short
  EXPECT_FALSE(complete);
  parse_permutation("[2] > [3] > [1] > [2]", 3, &complete);  // a repeat
  EXPECT_FALSE(complete);
  parse_permutation("[2] > [3] > [1] > [4]", 3, &complete);  // an unknown label
  EXPECT_FALSE(complete);
  parse_permutation("", 3, &complete);
  EXPECT_FALSE(complete);
}

// Feeds `text` to a fresh constraint piece by piece; true when every piece is allowed and the
// constraint is complete at the end.
bool accepts(std::size_t n, const std::vector<std::string>& pieces) {
  PermutationConstraint c(n);
  for (const auto& p : pieces) {
    if (!c.allows(p)) return false;
    c.accept(p);
  }
  return c.complete();
}

std::vector<std::string> chars(const std::string& text) {
  std::vector<std::string> out;
  for (char ch : text) out.emplace_back(1, ch);
  return out;
}

std::string descending(int n) {
  std::string s;
  for (int i = n; i >= 1; --i) s.append(i < n ? " > [" : "[").append(std::to_string(i)).append("]");
  return s;
}

TEST(PermutationConstraint, AcceptsExactlyThePermutations) {
  EXPECT_TRUE(accepts(4, chars("[2] > [1] > [4] > [3]")));
  EXPECT_TRUE(accepts(4, {"[", "2", "]", " >", " [", "1", "]", " > [", "4", "] > [", "3", "]"}));
  EXPECT_FALSE(accepts(4, chars("[2] > [2] > [4] > [3]")));  // repeat
  EXPECT_FALSE(accepts(4, chars("[2] > [1] > [4]")));        // incomplete
  EXPECT_FALSE(accepts(4, chars("[2] > [1] > [5] > [3]")));  // out of range
  EXPECT_FALSE(accepts(4, chars("[2] > [1] > [4] > [3] > [1]")));
  EXPECT_FALSE(accepts(4, chars("[2], [1], [4], [3]")));      // wrong format
  EXPECT_FALSE(accepts(4, chars("[02] > [1] > [4] > [3]")));  // leading zero
  // Window 20 and beyond, exactly (a grammar would need 2^20 rules).
  EXPECT_TRUE(accepts(20, chars(descending(20))));
  EXPECT_FALSE(accepts(20, chars(descending(19))));
  EXPECT_TRUE(accepts(100, chars(descending(100))));
  std::string repeated = descending(20);
  repeated.replace(repeated.find("[20]"), 4, "[19]");
  EXPECT_FALSE(accepts(20, chars(repeated)));
}

TEST(PermutationConstraint, DigitsMustLeadToAnUnusedIdentifier) {
  PermutationConstraint c(12);
  for (const std::string p : {"[1", "0] > ", "[1", "1] > ", "[1", "2] > "}) {
    ASSERT_TRUE(c.allows(p)) << p;
    c.accept(p);
  }
  // 10, 11 and 12 are used: "[1" can only go on to "]" (identifier 1), never to a second digit.
  EXPECT_TRUE(c.allows("[1]"));
  EXPECT_FALSE(c.allows("[10"));
  EXPECT_FALSE(c.allows("[13"));
  EXPECT_TRUE(c.allows("[9]"));
  EXPECT_FALSE(c.allows(""));
  EXPECT_FALSE(c.complete());
  EXPECT_TRUE(PermutationConstraint(1).allows("[1]"));
}

TEST(PermutationConstraint, RejectsImpossibleSizes) {
  EXPECT_THROW(PermutationConstraint(0), Error);
  EXPECT_THROW(PermutationConstraint(kMaxPermutationIds + 1), Error);
}

TEST(PermutationConstraint, EveryPermutationIsReachableWithARealVocabulary) {
  // Tokenized by Qwen2's BPE, whatever pieces a window-20 answer splits into are allowed in turn.
  const std::string vocab = std::string(RERANK_LLAMA_SOURCE) + "/models/ggml-vocab-qwen2.gguf";
  if (!std::filesystem::exists(vocab))
    GTEST_SKIP() << "ggml-vocab-qwen2.gguf not found under " << RERANK_LLAMA_SOURCE;
  const Tokenizer tokenizer = Tokenizer::load(vocab);
  std::vector<std::string> pieces;
  std::string answer = "[7] > [20] > [1] > [13]";
  for (int i : {2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19})
    answer += " > [" + std::to_string(i) + "]";
  for (auto t : tokenizer.tokenize(answer, false, false)) pieces.push_back(tokenizer.token_text(t));
  EXPECT_GT(pieces.size(), 20u);
  EXPECT_TRUE(accepts(20, pieces));
  pieces.pop_back();
  EXPECT_FALSE(accepts(20, pieces));
}

}  // namespace
}  // namespace rerank::llm
