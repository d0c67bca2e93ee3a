// Every registered strategy checks its options before it reads the model: with a model path that does
// not exist, a misspelt or out-of-range option is reported (with the known options) instead of the
// missing file, and valid options get as far as loading the model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rerank/error.h"
#include "rerank/reranker.h"

namespace {

const std::string kNoModel = "/nonexistent/model.gguf";

std::string prepare_error(const std::string& strategy, std::map<std::string, std::string> params) {
  rerank::RerankerOptions options;
  options.model_path = kNoModel;
  options.params = std::move(params);
  try {
    rerank::prepare_reranker(strategy, options);
  } catch (const rerank::Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(RerankerRegistry, EveryStrategyIsRegisteredOnce) {
  EXPECT_EQ(rerank::reranker_names(),
            (std::vector<std::string>{"e2rank", "embedding", "first", "insertrank", "listwise", "pairwise",
                                      "pointwise", "setwise"}));
}

TEST(RerankerRegistry, MisspeltOptionsFailBeforeTheModelIsRead) {
  for (const auto& name : rerank::reranker_names()) {
    const std::string error = prepare_error(name, {{"windw", "5"}});
    EXPECT_THAT(error, ::testing::StartsWith(name + ": unknown option(s) windw (known: ")) << name;
    EXPECT_THAT(error, ::testing::Not(::testing::HasSubstr(kNoModel))) << name;
  }
  EXPECT_EQ(prepare_error("setwise", {{"children", "30"}}),
            "setwise: option children must be between 1 and 25, got 30");
  EXPECT_EQ(prepare_error("setwise", {{"variant", "quicksort"}}),
            "setwise: option variant must be one of heapsort, bubblesort, got 'quicksort'");
  EXPECT_EQ(prepare_error("listwise", {{"context_tokens", "0"}}),
            "listwise: option context_tokens must be between 1 and 1048576, got 0");
  EXPECT_EQ(prepare_error("pointwise", {{"chunking", "meanp"}}),
            "pointwise: option chunking must be one of maxp, firstp, sump, got 'meanp'");
  EXPECT_EQ(prepare_error("e2rank", {{"prompt", "{passages}"}}),
            "e2rank: the prompt template has no {query} placeholder");
  EXPECT_EQ(prepare_error("setwise", {{"children", "2"}}), "no error");
}

TEST(RerankerRegistry, ValidOptionsGetAsFarAsTheModelFile) {
  for (const auto& name : rerank::reranker_names()) {
    rerank::RerankerOptions options;
    options.model_path = kNoModel;
    const auto build = rerank::prepare_reranker(name, options);
    try {
      build();
      ADD_FAILURE() << name << ": no error";
    } catch (const rerank::Error& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(kNoModel)) << name;
    }
  }
}

}  // namespace
