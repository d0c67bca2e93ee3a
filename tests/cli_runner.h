// Runs the built `rerank` binary as a user would, capturing exit code, stdout and stderr.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace rerank::test {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string shell_quote(const std::string& s) {
  std::string q(1, '\'');
  for (char c : s) {
    if (c == '\'') q.append("'\\''");
    else q.push_back(c);
  }
  q.push_back('\'');
  return q;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline CliResult run_cli(const std::vector<std::string>& args, const std::string& stdin_text = "") {
  namespace fs = std::filesystem;
  static int counter = 0;
  const fs::path dir = fs::path(RERANK_TEST_TMP) / "cli";
  fs::create_directories(dir);
  const std::string stem = (dir / ("run" + std::to_string(::getpid()) + "_" + std::to_string(counter++))).string();
  std::string cmd = shell_quote(RERANK_BINARY);
  for (const auto& a : args) cmd.append(" ").append(shell_quote(a));
  if (!stdin_text.empty()) {
    std::ofstream(stem + ".in", std::ios::binary) << stdin_text;
    cmd += " < " + shell_quote(stem + ".in");
  } else {
    cmd += " < /dev/null";
  }
  cmd += " > " + shell_quote(stem + ".out") + " 2> " + shell_quote(stem + ".err");
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(stem + ".out");
  r.err = slurp(stem + ".err");
  return r;
}

}  // namespace rerank::test
