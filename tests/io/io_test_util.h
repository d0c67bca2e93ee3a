// Helpers for the io tests: write a small input file and capture a reader's error message.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "rerank/error.h"

namespace rerank::test {

// Writes `content` byte for byte to RERANK_TEST_TMP/io/<name> and returns the path.
inline std::string write_temp(const std::string& name, const std::string& content) {
  const auto dir = std::filesystem::path(RERANK_TEST_TMP) / "io";
  std::filesystem::create_directories(dir);
  const auto path = (dir / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  return path;
}

inline std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::path(RERANK_TEST_TMP) / "io";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// The InputError message `fn` throws, or "no error" when it throws nothing.
inline std::string input_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const rerank::InputError& e) {
    return e.what();
  }
  return "no error";
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace rerank::test
