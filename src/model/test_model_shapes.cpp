// Named shapes and option names of the generated test models (see include/rerank/test_models.h).
#include <cstdlib>
#include <filesystem>

#include "rerank/error.h"
#include "rerank/test_models.h"

#ifndef RERANK_LLAMA_SOURCE_DIR
#define RERANK_LLAMA_SOURCE_DIR ""
#endif

namespace rerank {

TestModelDims test_model_dims(TestModelArch arch, TestModelShape shape) {
  TestModelDims d;
  if (arch == TestModelArch::Bert) {
    d.n_ctx_train = 512;
    d.n_token_types = 2;
    d.norm_eps = 1e-12f;
    if (shape == TestModelShape::MiniLmL6) {
      d.n_layer = 6, d.n_embd = 384, d.n_head = 12, d.n_ff = 1536;
    } else if (shape == TestModelShape::Tiny) {
      d.n_layer = 2, d.n_embd = 64, d.n_head = 4, d.n_ff = 128;
    } else {
      throw Error("shape " + to_string(shape) + " is not a bert shape (use tiny or minilm-l6)");
    }
    d.n_head_kv = d.n_head;
    d.head_dim = d.n_embd / d.n_head;
  } else {
    d.n_ctx_train = 40960;
    d.norm_eps = 1e-6f;
    d.rope_freq_base = 1e6f;
    if (shape == TestModelShape::Qwen3_0_6B) {
      d.n_layer = 28, d.n_embd = 1024, d.n_head = 16, d.n_head_kv = 8, d.head_dim = 128, d.n_ff = 3072;
    } else if (shape == TestModelShape::Tiny) {
      // Like the real model, n_head * head_dim (128) differs from n_embd (64) and heads are grouped.
      d.n_layer = 2, d.n_embd = 64, d.n_head = 4, d.n_head_kv = 2, d.head_dim = 32, d.n_ff = 128;
    } else {
      throw Error("shape " + to_string(shape) + " is not a qwen3 shape (use tiny or qwen3-0.6b)");
    }
  }
  return d;
}

TestModelArch parse_test_model_arch(const std::string& name) {
  if (name == "bert") return TestModelArch::Bert;
  if (name == "qwen3") return TestModelArch::Qwen3;
  throw Error("unknown architecture '" + name + "' (valid: bert, qwen3)");
}

TestModelShape parse_test_model_shape(const std::string& name) {
  if (name == "tiny") return TestModelShape::Tiny;
  if (name == "minilm-l6") return TestModelShape::MiniLmL6;
  if (name == "qwen3-0.6b") return TestModelShape::Qwen3_0_6B;
  throw Error("unknown shape '" + name + "' (valid: tiny, minilm-l6, qwen3-0.6b)");
}

TestModelType parse_test_model_type(const std::string& name) {
  if (name == "f32") return TestModelType::F32;
  if (name == "f16") return TestModelType::F16;
  if (name == "q8_0") return TestModelType::Q8_0;
  throw Error("unknown weight type '" + name + "' (valid: f32, f16, q8_0)");
}

std::string to_string(TestModelArch arch) { return arch == TestModelArch::Bert ? "bert" : "qwen3"; }

std::string to_string(TestModelShape shape) {
  switch (shape) {
    case TestModelShape::Tiny:
      return "tiny";
    case TestModelShape::MiniLmL6:
      return "minilm-l6";
    case TestModelShape::Qwen3_0_6B:
      return "qwen3-0.6b";
  }
  return "?";
}

std::string to_string(TestModelType type) {
  switch (type) {
    case TestModelType::F32:
      return "f32";
    case TestModelType::F16:
      return "f16";
    case TestModelType::Q8_0:
      return "q8_0";
  }
  return "?";
}

std::string default_vocab_path(TestModelArch arch) {
  const char* file = arch == TestModelArch::Bert ? "ggml-vocab-bert-bge.gguf" : "ggml-vocab-qwen2.gguf";
  const char* env = std::getenv("RERANK_LLAMA_SOURCE");
  const std::string source = env && *env ? env : RERANK_LLAMA_SOURCE_DIR;
  if (source.empty())
    throw Error(std::string("no llama.cpp source known to take ") + file +
                " from: set RERANK_LLAMA_SOURCE or pass a vocabulary file");
  return (std::filesystem::path(source) / "models" / file).string();
}

}  // namespace rerank
