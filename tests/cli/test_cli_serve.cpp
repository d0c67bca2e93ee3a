// `rerank serve`'s command line: every option is checked, with a message naming it, before any model
// loads or any socket opens.
#include <gtest/gtest.h>

#include "cli_runner.h"

using rerank::test::run_cli;

namespace {

std::string serve_error(std::vector<std::string> args) {
  args.insert(args.begin(), {"serve", "--model", "/nonexistent/model.gguf", "--port", "0"});
  const auto r = run_cli(args);
  EXPECT_NE(r.exit_code, 0) << r.err;
  return r.err;
}

TEST(CliServe, OptionsAreCheckedBeforeTheModelLoads) {
  EXPECT_NE(serve_error({"--index", "idx"}).find("--index and --corpus go together (for POST /search)"),
            std::string::npos);
  EXPECT_NE(
      serve_error({"--first-stage-param", "k1=1"}).find("--first-stage-param needs --index and --corpus"),
      std::string::npos);
  EXPECT_NE(serve_error({"--param", "bogus=1"}).find("pointwise: unknown option(s) bogus"),
            std::string::npos);
  EXPECT_NE(serve_error({"--read-timeout", "0"}).find("--read-timeout: Value 0 not in range 1 to 3600"),
            std::string::npos);
  EXPECT_NE(serve_error({"--request-timeout", "-1"}).find("--request-timeout"), std::string::npos);
  // With every option valid, the model is what fails, by name.
  EXPECT_NE(serve_error({}).find("/nonexistent/model.gguf: no such model file"), std::string::npos);
}

}  // namespace
