// The published prompt formats, rendered exactly, and the template machinery.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rerankers/prompts.h"

namespace rerank::llm {
namespace {

TEST(Prompts, SubstituteReplacesKnownPlaceholdersOnce) {
  EXPECT_EQ(substitute("{a} and {b} but {c} and {", {{"a", "{b}"}, {"b", "x"}}), "{b} and x but {c} and {");
}

TEST(Prompts, RankZephyrListwiseFormat) {
  const auto& t = builtin_template("rankzephyr");
  EXPECT_EQ(
      render_user(t, "what is x", {{"1", "alpha", 0}, {"2", "beta", 0}}),
      "I will provide you with 2 passages, each indicated by a numerical identifier []. Rank the passages "
      "based on their relevance to the search query: what is x.\n\n[1] alpha\n[2] beta\nSearch Query: what "
      "is "
      "x.\nRank the 2 passages above based on their relevance to the search query. All the passages should "
      "be "
      "included and listed using identifiers, in descending order of relevance. The output format should be "
      "[] "
      "> [], e.g., [4] > [2]. Only respond with the ranking results, do not say any word or explain.");
  EXPECT_EQ(t.system,
            "You are RankLLM, an intelligent assistant that can rank passages based on their relevancy to "
            "the query.");
}

TEST(Prompts, SetwiseFormat) {
  const auto& t = builtin_template("setwise");
  EXPECT_EQ(render_user(t, "q", {{"A", "x", 0}, {"B", "y", 0}, {"C", "z", 0}}),
            "Given a query \"q\", which of the following passages is the most relevant one to the "
            "query?\n\nPassage "
            "A: \"x\"\n\nPassage B: \"y\"\n\nPassage C: \"z\"\n\nOutput only the passage label of the most "
            "relevant "
            "passage:");
  EXPECT_EQ(t.answer_prefix, "Passage");
}

TEST(Prompts, FirstUsesLettersAndOpensTheAnswer) {
  const auto& t = builtin_template("first");
  EXPECT_EQ(t.answer_prefix, "[");
  EXPECT_NE(render_user(t, "q", {{letter_id(0), "x", 0}}).find("[A] x\n"), std::string::npos);
  EXPECT_EQ(letter_id(25), "Z");
  EXPECT_THROW(letter_id(26), std::exception);
}

TEST(Prompts, InsertRankShowsScoresWithTwoDecimals) {
  EXPECT_EQ(render_user(builtin_template("insertrank"), "q", {{"1", "x", 12.3456}})
                    .find("[1] x\nBM25 score for passage [1]: 12.35\n") != std::string::npos,
            true);
}

TEST(Prompts, OptionTextUnescapesAndReadsFiles) {
  EXPECT_EQ(option_text("a\\nb\\tc\\\\d\\q"), "a\nb\tc\\d\\q");
  EXPECT_THROW(option_text("@/nonexistent/template.txt"), std::exception);
}

}  // namespace
}  // namespace rerank::llm
