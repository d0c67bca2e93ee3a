// Random-weight GGUF models of real reranker architectures, for tests and benchmarks.
//
// No real weights can be downloaded here, so the neural runtime is exercised with generated files
// that have the exact tensor names, shapes and metadata llama.cpp expects, a real vocabulary copied
// from llama.cpp's models/ggml-vocab-*.gguf, and weights drawn from a fixed seed. Scores from these
// models are meaningless as relevance; only their plumbing (loading, batching, equality) is real.
#pragma once
#include <cstdint>
#include <string>

namespace rerank {

enum class TestModelArch {
  Bert,   // BERT cross-encoder with a classification head (rank pooling), WordPiece vocabulary
  Qwen3,  // Qwen3 decoder (Qwen3-Reranker style), Qwen2 BPE vocabulary, tied embeddings
};

enum class TestModelShape {
  Tiny,        // 2 layers, hidden 64: fast tests (full real vocabulary)
  MiniLmL6,    // cross-encoder/ms-marco-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads, FFN 1536 (bert only)
  Qwen3_0_6B,  // Qwen3-0.6B: 28 layers, hidden 1024, 16/8 heads of 128, FFN 3072 (qwen3 only)
};

enum class TestModelType { F32, F16, Q8_0 };  // storage type of the weight matrices

struct TestModelSpec {
  TestModelArch arch = TestModelArch::Bert;
  TestModelShape shape = TestModelShape::Tiny;
  std::uint64_t seed = 1;
  TestModelType type = TestModelType::F16;
  // Qwen3 only: also write llama.cpp's reranker head (cls.output = the "yes" and "no" rows of the
  // tied LM head, rank pooling, labels yes/no) as convert_hf_to_gguf.py does for Qwen3-Reranker,
  // so that llama-server --reranking can score the model. BERT models always have their head.
  bool rerank_head = false;
  // The llama.cpp models/ggml-vocab-*.gguf file to copy the tokenizer from; empty: the default file
  // for the architecture, found by default_vocab_path().
  std::string vocab_path;
};

// Hyperparameters of a shape, as written into the file.
struct TestModelDims {
  std::uint32_t n_layer = 0, n_embd = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0;
  std::uint32_t n_ctx_train = 0;
  std::uint32_t n_token_types = 0;  // bert only
  float norm_eps = 0;
  float rope_freq_base = 0;  // qwen3 only
};

TestModelDims test_model_dims(TestModelArch arch, TestModelShape shape);

// Parse/print the command-line names ("bert", "qwen3"; "tiny", "minilm-l6", "qwen3-0.6b";
// "f32", "f16", "q8_0"). Unknown names throw rerank::Error listing the valid ones.
TestModelArch parse_test_model_arch(const std::string& name);
TestModelShape parse_test_model_shape(const std::string& name);
TestModelType parse_test_model_type(const std::string& name);
std::string to_string(TestModelArch arch);
std::string to_string(TestModelShape shape);
std::string to_string(TestModelType type);

// The vocabulary file used when spec.vocab_path is empty: $RERANK_LLAMA_SOURCE/models/<file> if that
// variable is set, else the llama.cpp source this library was built against.
std::string default_vocab_path(TestModelArch arch);

// Writes the model to `path` (atomically: a temporary file renamed at the end). The same spec gives
// a byte-identical file. Throws rerank::Error on a bad spec (e.g. shape of another architecture),
// an unreadable vocabulary or a write failure.
void write_test_model(const TestModelSpec& spec, const std::string& path);

}  // namespace rerank
