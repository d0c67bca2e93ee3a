// Small hand-made corpora for the index tests, built into scratch directories.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "rerank/index.h"
#include "rerank/types.h"

namespace rerank::test {

inline std::string scratch_dir(const std::string& name) {
  const auto dir =
      std::filesystem::path(RERANK_TEST_TMP) / "index" / (name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir.parent_path());
  return dir.string();
}

inline std::string build(const std::vector<Document>& docs, const std::string& name, FieldLayout layout,
                         std::size_t budget = std::size_t{64} << 20, IndexBuildStats* stats = nullptr) {
  const std::string dir = scratch_dir(name);
  IndexOptions options;
  options.layout = layout;
  options.memory_budget_bytes = budget;
  IndexWriter writer(dir, options);
  for (const auto& d : docs) writer.add(d);
  const IndexBuildStats s = writer.finish();
  if (stats) *stats = s;
  return dir;
}

// Three short documents: flat contents lengths 4, 2, 2 after analysis (8 tokens).
inline std::vector<Document> fruit_corpus() {
  return {{"d1", "Alpha", "apple banana apple"}, {"d2", "", "banana cherry"}, {"d3", "Gamma", "apple"}};
}

}  // namespace rerank::test
