// The command line's contract: unknown subcommands, flags and missing values exit 2 with one
// error line and a usage line.
#include <gtest/gtest.h>

#include "cli_runner.h"

using rerank::test::run_cli;

TEST(Cli, UnknownSubcommandExits2WithUsage) {
  const auto r = run_cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("rerank: error:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("usage: rerank"), std::string::npos) << r.err;
}

TEST(Cli, NoSubcommandExits2) {
  const auto r = run_cli({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("usage: rerank"), std::string::npos) << r.err;
}

TEST(Cli, VersionPrints) {
  const auto r = run_cli({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("rerank.cpp 0.1.0"), std::string::npos) << r.out;
}
