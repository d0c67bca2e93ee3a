// The tiny BERT of tiny_models.h with its pooling type patched in place from RANK (4) to MEAN (1): a
// bidirectional model without a ranking head, i.e. an embedding model. (GGUF: key string, u32 type
// tag, u32 value.) Written once per test process, removed at exit.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tiny_models.h"

namespace rerank::test {

inline const std::string& tiny_embedding_model() {
  static const std::string& path = *new std::string([] {  // never destroyed: removed at exit
    std::ifstream in(tiny_model(Tiny::Bert), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string key = "bert.pooling_type";
    const auto at = bytes.find(key);
    EXPECT_NE(at, std::string::npos);
    const std::size_t value = at + key.size() + 4;
    EXPECT_EQ(bytes[value], '\x04');
    bytes[value] = '\x01';
    const std::filesystem::path dir = std::filesystem::path(RERANK_TEST_TMP) / "runtime_models";
    std::filesystem::create_directories(dir);
    const std::string out = (dir / ("tiny-bert-mean-" + std::to_string(::getpid()) + ".gguf")).string();
    std::ofstream(out, std::ios::binary) << bytes;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove(tiny_embedding_model(), ec);
    });
    return out;
  }());
  return path;
}

}  // namespace rerank::test
