// Tiny generated models for the runtime and reranker tests: written once per test process into
// RERANK_TEST_TMP (process-unique names, so concurrently running test processes never share a
// half-written file) and removed at exit.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "rerank/test_models.h"

namespace rerank::test {

enum class Tiny { Bert, Qwen3, Qwen3WithHead };

inline const std::string& tiny_model(Tiny which) {
  static std::mutex mutex;
  static std::map<Tiny, std::string> paths;
  std::lock_guard lock(mutex);
  auto it = paths.find(which);
  if (it != paths.end()) return it->second;
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(RERANK_TEST_TMP) / "runtime_models";
  fs::create_directories(dir);
  TestModelSpec spec;
  spec.shape = TestModelShape::Tiny;
  spec.seed = 7;
  spec.type = TestModelType::F32;
  spec.arch = which == Tiny::Bert ? TestModelArch::Bert : TestModelArch::Qwen3;
  spec.rerank_head = which == Tiny::Qwen3WithHead;
  const char* names[] = {"bert", "qwen3", "qwen3-head"};
  const std::string path = (dir / ("tiny-" + std::string(names[static_cast<int>(which)]) + "-" +
                                   std::to_string(::getpid()) + ".gguf"))
                               .string();
  write_test_model(spec, path);
  static const bool cleanup_registered = [] {
    std::atexit([] {
      for (const auto& [k, p] : paths) {
        std::error_code ec;
        std::filesystem::remove(p, ec);
      }
    });
    return true;
  }();
  (void)cleanup_registered;
  return paths.emplace(which, path).first->second;
}

}  // namespace rerank::test
