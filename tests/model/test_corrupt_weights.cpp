// A model file whose weights hold NaN (a damaged download, a broken conversion) must be refused when
// its weights load, naming the file (and, in rerank.cpp's own runtime, the tensor), by every runtime:
// before this check both runtimes scored every document NaN without an error. So must a tensor table
// whose shapes do not fit the model.
#include <gguf.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "error_message.h"
#include "rerank/cross_encoder.h"
#include "rerank/language_model.h"
#include "rerank/model.h"
#include "tiny_models.h"

namespace {

using rerank::test::error_of;
using rerank::test::Tiny;
using rerank::test::tiny_model;

// A copy of `model` with the first eight values of `tensor` set to NaN.
std::string with_nan_weights(const std::string& model, const std::string& tensor, const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(RERANK_TEST_TMP) / "corrupt_weights";
  fs::create_directories(dir);
  const std::string path = (dir / name).string();
  fs::copy_file(model, path, fs::copy_options::overwrite_existing);
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
  gguf_context* g = gguf_init_from_file(path.c_str(), params);
  EXPECT_NE(g, nullptr);
  const std::int64_t id = gguf_find_tensor(g, tensor.c_str());
  EXPECT_GE(id, 0) << tensor;
  const std::size_t at = gguf_get_data_offset(g) + gguf_get_tensor_offset(g, id);
  const ggml_type type = gguf_get_tensor_type(g, id);
  gguf_free(g);
  EXPECT_EQ(type, GGML_TYPE_F32);  // the tiny models are F32
  const std::uint32_t nan_bits = 0x7FC00000u;
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(at));
  for (int i = 0; i < 8; ++i) f.write(reinterpret_cast<const char*>(&nan_bits), sizeof nan_bits);
  return path;
}

// A copy of `model` whose tensor table gives the [64, 64] `tensor` the shape [32, 128]: the same size,
// so every offset still checks, but the wrong shape for the model.
std::string with_reshaped_tensor(const std::string& model, const std::string& tensor,
                                 const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(RERANK_TEST_TMP) / "corrupt_weights";
  fs::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ifstream in(model, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Tensor info: name length (u64), name, n_dims (u32), ne[n_dims] (i64 each).
  std::string key(8, '\0');
  const std::uint64_t length = tensor.size();
  std::memcpy(key.data(), &length, 8);
  key += tensor;
  const std::size_t at = bytes.find(key);
  EXPECT_NE(at, std::string::npos) << tensor;
  const std::size_t ne = at + key.size() + 4;
  std::int64_t shape[2];
  std::memcpy(shape, bytes.data() + ne, sizeof shape);
  EXPECT_EQ(shape[0], 64);
  EXPECT_EQ(shape[1], 64);
  const std::int64_t reshaped[2] = {32, 128};
  std::memcpy(bytes.data() + ne, reshaped, sizeof reshaped);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::vector<std::vector<std::int32_t>> one_pair(const rerank::Model& model) {
  return {model.tokenizer().tokenize("what is a reranker", true, false)};
}

TEST(CorruptWeights, NanWeightsAreRefusedByTheOwnEncoderRuntime) {
  const std::string path = with_nan_weights(tiny_model(Tiny::Bert), "blk.0.attn_q.weight", "bert-nan.gguf");
  const auto model = rerank::Model::load(path);  // the vocabulary alone loads
  rerank::RuntimeOptions options;
  options.encoder_runtime = rerank::RuntimeOptions::EncoderRuntime::OneDnn;
  EXPECT_EQ(error_of([&] { rerank::CrossEncoder(model, options).score(one_pair(*model), nullptr); }),
            path + ": tensor blk.0.attn_q.weight holds NaN or infinite values (corrupt weights)");
}

TEST(CorruptWeights, NanWeightsAreRefusedByLlamaCpp) {
  const std::string kRefused =
      ": llama.cpp could not load the model (unsupported architecture, inconsistent tensors, or NaN or "
      "infinite weights; set RERANK_LLAMA_LOG=1 for llama.cpp's reason)";
  const std::string bert =
      with_nan_weights(tiny_model(Tiny::Bert), "blk.0.attn_q.weight", "bert-nan-llama.gguf");
  const auto encoder_model = rerank::Model::load(bert);
  rerank::RuntimeOptions options;
  options.encoder_runtime = rerank::RuntimeOptions::EncoderRuntime::Llama;
  EXPECT_EQ(error_of([&] {
              rerank::CrossEncoder(encoder_model, options).score(one_pair(*encoder_model), nullptr);
            }),
            bert + kRefused);
  const std::string qwen =
      with_nan_weights(tiny_model(Tiny::Qwen3), "blk.1.ffn_down.weight", "qwen3-nan.gguf");
  const auto decoder_model = rerank::Model::load(qwen);
  EXPECT_EQ(error_of([&] { rerank::LanguageModel(decoder_model, rerank::RuntimeOptions{}); }),
            qwen + kRefused);
}

TEST(CorruptWeights, WrongTensorShapesAreRefusedByBothRuntimes) {
  const std::string path =
      with_reshaped_tensor(tiny_model(Tiny::Bert), "blk.0.attn_q.weight", "bert-reshaped.gguf");
  const auto model = rerank::Model::load(path);
  rerank::RuntimeOptions options;
  options.encoder_runtime = rerank::RuntimeOptions::EncoderRuntime::OneDnn;
  EXPECT_EQ(error_of([&] { rerank::CrossEncoder(model, options).score(one_pair(*model), nullptr); }),
            path + ": tensor blk.0.attn_q.weight has shape [32, 128], expected [64, 64]");
  options.encoder_runtime = rerank::RuntimeOptions::EncoderRuntime::Llama;
  EXPECT_EQ(
      error_of([&] { rerank::CrossEncoder(model, options).score(one_pair(*model), nullptr); }),
      path +
          ": llama.cpp could not load the model (unsupported architecture, inconsistent tensors, or NaN "
          "or infinite weights; set RERANK_LLAMA_LOG=1 for llama.cpp's reason)");
}

}  // namespace
