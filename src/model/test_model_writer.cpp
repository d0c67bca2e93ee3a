// Writes random-weight GGUF models with the tensor names, shapes and metadata llama.cpp's loader
// expects for BERT (src/models/bert.cpp) and Qwen3 (src/models/qwen3.cpp), as convert_hf_to_gguf.py
// would write them for a BertForSequenceClassification cross-encoder and for Qwen3-Reranker.
//
// Weights are streamed row by row: every row has its own random stream derived from (seed, tensor
// name, row), so the 1.2 GB Qwen3-0.6B file needs a few MB of memory, and any row (e.g. the "yes"
// and "no" rows of the LM head) can be regenerated on its own. The generator is plain integer
// arithmetic, so the same seed gives a byte-identical file on every machine.
#include <ggml.h>
#include <gguf.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "rerank/chat_format.h"
#include "rerank/error.h"
#include "rerank/test_models.h"

namespace rerank {
namespace {

enum class Init { Matrix, Embedding, Ones, Zeros };

struct TensorPlan {
  std::string name;
  std::int64_t ne0 = 0, ne1 = 1;  // ne0 = row length (input dimension), ne1 = rows
  ggml_type type = GGML_TYPE_F32;
  Init init = Init::Zeros;
  // When set, row r is generated as row source_rows[r] of tensor `source` (the LM head rows that
  // make Qwen3-Reranker's cls.output).
  std::string source;
  std::vector<std::int64_t> source_rows;
};

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Irwin-Hall sum of four 16-bit uniforms: mean 0, variance 1, bounded by +-3.46; bell-shaped enough
// for weights, and free of libm so it is bit-reproducible everywhere.
float normalish(std::uint64_t& state) {
  const std::uint64_t r = splitmix64(state);
  const double sum =
      double(r & 0xffff) + double((r >> 16) & 0xffff) + double((r >> 32) & 0xffff) + double(r >> 48);
  return float((sum / 65536.0 - 2.0) * 1.7320508075688772);
}

void fill_row(const TensorPlan& t, std::uint64_t seed, std::int64_t row, float* out) {
  const std::int64_t n = t.ne0;
  if (t.init == Init::Ones || t.init == Init::Zeros) {
    std::fill(out, out + n, t.init == Init::Ones ? 1.0f : 0.0f);
    return;
  }
  const std::string& name = t.source.empty() ? t.name : t.source;
  const std::int64_t src_row = t.source.empty() ? row : t.source_rows.at(std::size_t(row));
  std::uint64_t state = seed ^ fnv1a(name) ^ (std::uint64_t(src_row) * 0xd1b54a32d192ed03ull);
  splitmix64(state);
  // Matrices: std 1/sqrt(fan_in) keeps activations O(1) through all layers, so scores stay finite
  // and actually depend on the input. Embeddings: std 0.02 as in BERT/Qwen initialisation.
  const float scale = t.init == Init::Matrix ? float(1.0 / std::sqrt(double(n))) : 0.02f;
  for (std::int64_t i = 0; i < n; ++i) out[i] = normalish(state) * scale;
}

// Converts one row of floats to the tensor's storage type.
std::size_t encode_row(ggml_type type, const float* row, std::int64_t n, std::vector<char>& buf) {
  const std::size_t bytes = ggml_row_size(type, n);
  buf.resize(bytes);
  if (type == GGML_TYPE_F32) {
    std::memcpy(buf.data(), row, bytes);
  } else if (type == GGML_TYPE_F16) {
    ggml_fp32_to_fp16_row(row, reinterpret_cast<ggml_fp16_t*>(buf.data()), n);
  } else {
    ggml_quantize_chunk(type, row, buf.data(), 0, 1, n, nullptr);
  }
  return bytes;
}

ggml_type storage_type(TestModelType t) {
  switch (t) {
    case TestModelType::F32:
      return GGML_TYPE_F32;
    case TestModelType::F16:
      return GGML_TYPE_F16;
    case TestModelType::Q8_0:
      return GGML_TYPE_Q8_0;
  }
  return GGML_TYPE_F16;
}

std::uint32_t llama_file_type(TestModelType t) {  // llama_ftype values
  switch (t) {
    case TestModelType::F32:
      return 0;  // LLAMA_FTYPE_ALL_F32
    case TestModelType::F16:
      return 1;  // LLAMA_FTYPE_MOSTLY_F16
    case TestModelType::Q8_0:
      return 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
  }
  return 1;
}

struct GgufDeleter {
  void operator()(gguf_context* c) const { gguf_free(c); }
};
using GgufPtr = std::unique_ptr<gguf_context, GgufDeleter>;

// Copies every tokenizer.* key of the vocabulary file; returns the token list for id lookups.
std::vector<std::string> copy_tokenizer(const std::string& vocab_path, const std::string& want_model,
                                        gguf_context* out) {
  if (!std::filesystem::is_regular_file(vocab_path)) throw Error(vocab_path + ": no such vocabulary file");
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
  GgufPtr in(gguf_init_from_file(vocab_path.c_str(), params));
  if (!in) throw Error(vocab_path + ": not a GGUF file");
  const std::int64_t model_key = gguf_find_key(in.get(), "tokenizer.ggml.model");
  const std::int64_t tokens_key = gguf_find_key(in.get(), "tokenizer.ggml.tokens");
  if (model_key < 0 || tokens_key < 0 || gguf_get_kv_type(in.get(), model_key) != GGUF_TYPE_STRING)
    throw Error(vocab_path + ": has no tokenizer (tokenizer.ggml.model/tokens missing)");
  const std::string model = gguf_get_val_str(in.get(), model_key);
  if (model != want_model)
    throw Error(vocab_path + ": tokenizer is '" + model + "', this architecture needs '" + want_model + "'");

  for (std::int64_t i = 0; i < gguf_get_n_kv(in.get()); ++i) {
    const char* key = gguf_get_key(in.get(), i);
    if (std::strncmp(key, "tokenizer.", 10) != 0) continue;
    switch (gguf_get_kv_type(in.get(), i)) {
      case GGUF_TYPE_STRING:
        gguf_set_val_str(out, key, gguf_get_val_str(in.get(), i));
        break;
      case GGUF_TYPE_UINT32:
        gguf_set_val_u32(out, key, gguf_get_val_u32(in.get(), i));
        break;
      case GGUF_TYPE_INT32:
        gguf_set_val_i32(out, key, gguf_get_val_i32(in.get(), i));
        break;
      case GGUF_TYPE_FLOAT32:
        gguf_set_val_f32(out, key, gguf_get_val_f32(in.get(), i));
        break;
      case GGUF_TYPE_BOOL:
        gguf_set_val_bool(out, key, gguf_get_val_bool(in.get(), i));
        break;
      case GGUF_TYPE_ARRAY: {
        const gguf_type at = gguf_get_arr_type(in.get(), i);
        const std::size_t n = gguf_get_arr_n(in.get(), i);
        if (at == GGUF_TYPE_STRING) {
          std::vector<const char*> strs(n);
          for (std::size_t j = 0; j < n; ++j) strs[j] = gguf_get_arr_str(in.get(), i, j);
          gguf_set_arr_str(out, key, strs.data(), n);
        } else {
          gguf_set_arr_data(out, key, at, gguf_get_arr_data(in.get(), i), n);
        }
        break;
      }
      default:
        throw Error(vocab_path + ": unsupported value type of key " + key);
    }
  }
  std::vector<std::string> tokens(gguf_get_arr_n(in.get(), tokens_key));
  for (std::size_t j = 0; j < tokens.size(); ++j) tokens[j] = gguf_get_arr_str(in.get(), tokens_key, j);
  return tokens;
}

std::int64_t token_id(const std::vector<std::string>& tokens, const std::string& text,
                      const std::string& vocab) {
  for (std::size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] == text) return std::int64_t(i);
  throw Error(vocab + ": vocabulary has no token '" + text + "' (needed for the reranker head)");
}

void plan_bert(const TestModelDims& d, std::int64_t n_vocab, ggml_type mat, std::vector<TensorPlan>& t) {
  const std::int64_t E = d.n_embd, F = d.n_ff;
  t.push_back({"token_embd.weight", E, n_vocab, mat, Init::Embedding, {}, {}});
  // llama.cpp adds a row of token_types to F32 activations in place: it must stay F32.
  t.push_back({"token_types.weight", E, d.n_token_types, GGML_TYPE_F32, Init::Embedding, {}, {}});
  t.push_back({"position_embd.weight", E, d.n_ctx_train, mat, Init::Embedding, {}, {}});
  t.push_back({"token_embd_norm.weight", E, 1, GGML_TYPE_F32, Init::Ones, {}, {}});
  t.push_back({"token_embd_norm.bias", E, 1, GGML_TYPE_F32, Init::Zeros, {}, {}});
  for (std::uint32_t il = 0; il < d.n_layer; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    for (const char* p : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
      t.push_back({b + p + ".weight", E, E, mat, Init::Matrix, {}, {}});
      t.push_back({b + p + ".bias", E, 1, GGML_TYPE_F32, Init::Zeros, {}, {}});
    }
    t.push_back({b + "attn_output_norm.weight", E, 1, GGML_TYPE_F32, Init::Ones, {}, {}});
    t.push_back({b + "attn_output_norm.bias", E, 1, GGML_TYPE_F32, Init::Zeros, {}, {}});
    t.push_back({b + "ffn_up.weight", E, F, mat, Init::Matrix, {}, {}});
    t.push_back({b + "ffn_up.bias", F, 1, GGML_TYPE_F32, Init::Zeros, {}, {}});
    t.push_back({b + "ffn_down.weight", F, E, mat, Init::Matrix, {}, {}});
    t.push_back({b + "ffn_down.bias", E, 1, GGML_TYPE_F32, Init::Zeros, {}, {}});
    t.push_back({b + "layer_output_norm.weight", E, 1, GGML_TYPE_F32, Init::Ones, {}, {}});
    t.push_back({b + "layer_output_norm.bias", E, 1, GGML_TYPE_F32, Init::Zeros, {}, {}});
  }
  // BertForSequenceClassification: pooler dense + tanh (cls), then the 1-label classifier (cls.output).
  t.push_back({"cls.weight", E, E, mat, Init::Matrix, {}, {}});
  t.push_back({"cls.bias", E, 1, GGML_TYPE_F32, Init::Zeros, {}, {}});
  t.push_back({"cls.output.weight", E, 1, GGML_TYPE_F32, Init::Matrix, {}, {}});
  t.push_back({"cls.output.bias", 1, 1, GGML_TYPE_F32, Init::Zeros, {}, {}});
}

void plan_qwen3(const TestModelDims& d, std::int64_t n_vocab, ggml_type mat, std::int64_t yes_id,
                std::int64_t no_id, bool head, std::vector<TensorPlan>& t) {
  const std::int64_t E = d.n_embd, F = d.n_ff, Q = std::int64_t(d.head_dim) * d.n_head,
                     KV = std::int64_t(d.head_dim) * d.n_head_kv;
  t.push_back({"token_embd.weight", E, n_vocab, mat, Init::Embedding, {}, {}});  // tied LM head
  t.push_back({"output_norm.weight", E, 1, GGML_TYPE_F32, Init::Ones, {}, {}});
  // Qwen3-Reranker's head, as convert_hf_to_gguf.py writes it: the "yes" then "no" rows of the LM head.
  if (head)
    t.push_back({"cls.output.weight", E, 2, mat, Init::Embedding, "token_embd.weight", {yes_id, no_id}});
  for (std::uint32_t il = 0; il < d.n_layer; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    t.push_back({b + "attn_norm.weight", E, 1, GGML_TYPE_F32, Init::Ones, {}, {}});
    t.push_back({b + "attn_q.weight", E, Q, mat, Init::Matrix, {}, {}});
    t.push_back({b + "attn_k.weight", E, KV, mat, Init::Matrix, {}, {}});
    t.push_back({b + "attn_v.weight", E, KV, mat, Init::Matrix, {}, {}});
    t.push_back({b + "attn_output.weight", Q, E, mat, Init::Matrix, {}, {}});
    t.push_back({b + "attn_q_norm.weight", d.head_dim, 1, GGML_TYPE_F32, Init::Ones, {}, {}});
    t.push_back({b + "attn_k_norm.weight", d.head_dim, 1, GGML_TYPE_F32, Init::Ones, {}, {}});
    t.push_back({b + "ffn_norm.weight", E, 1, GGML_TYPE_F32, Init::Ones, {}, {}});
    t.push_back({b + "ffn_gate.weight", E, F, mat, Init::Matrix, {}, {}});
    t.push_back({b + "ffn_up.weight", E, F, mat, Init::Matrix, {}, {}});
    t.push_back({b + "ffn_down.weight", F, E, mat, Init::Matrix, {}, {}});
  }
}

void set_hparams(const TestModelSpec& spec, const TestModelDims& d, gguf_context* g) {
  const std::string a = to_string(spec.arch);
  const auto key = [&](const char* k) { return a + "." + k; };
  gguf_set_val_str(g, "general.architecture", a.c_str());
  const std::string name = "rerank.cpp test model " + a + " " + to_string(spec.shape);
  gguf_set_val_str(g, "general.name", name.c_str());
  const std::string desc = "RANDOM weights (seed " + std::to_string(spec.seed) +
                           "), generated by rerank make-test-model: not a trained model";
  gguf_set_val_str(g, "general.description", desc.c_str());
  gguf_set_val_u32(g, "general.file_type", llama_file_type(spec.type));
  gguf_set_val_u32(g, key("block_count").c_str(), d.n_layer);
  gguf_set_val_u32(g, key("context_length").c_str(), d.n_ctx_train);
  gguf_set_val_u32(g, key("embedding_length").c_str(), d.n_embd);
  gguf_set_val_u32(g, key("feed_forward_length").c_str(), d.n_ff);
  gguf_set_val_u32(g, key("attention.head_count").c_str(), d.n_head);
  constexpr std::uint32_t kPoolingRank = 4;  // LLAMA_POOLING_TYPE_RANK
  if (spec.arch == TestModelArch::Bert) {
    gguf_set_val_f32(g, key("attention.layer_norm_epsilon").c_str(), d.norm_eps);
    gguf_set_val_bool(g, key("attention.causal").c_str(), false);
    gguf_set_val_u32(g, key("pooling_type").c_str(), kPoolingRank);
    const char* labels[] = {"LABEL_0"};  // a 1-label BertForSequenceClassification
    gguf_set_arr_str(g, key("classifier.output_labels").c_str(), labels, 1);
  } else {
    gguf_set_val_u32(g, key("attention.head_count_kv").c_str(), d.n_head_kv);
    gguf_set_val_u32(g, key("attention.key_length").c_str(), d.head_dim);
    gguf_set_val_u32(g, key("attention.value_length").c_str(), d.head_dim);
    gguf_set_val_f32(g, key("rope.freq_base").c_str(), d.rope_freq_base);
    gguf_set_val_f32(g, key("attention.layer_norm_rms_epsilon").c_str(), d.norm_eps);
    gguf_set_val_str(g, "tokenizer.chat_template.rerank", qwen3_reranker_template().c_str());
    const char* names[] = {"rerank"};
    gguf_set_arr_str(g, "tokenizer.chat_templates", names, 1);
    if (spec.rerank_head) {
      gguf_set_val_u32(g, key("pooling_type").c_str(), kPoolingRank);
      const char* labels[] = {"yes", "no"};
      gguf_set_arr_str(g, key("classifier.output_labels").c_str(), labels, 2);
    }
  }
}

void write_all(std::FILE* f, const void* data, std::size_t n, const std::string& path) {
  if (n && std::fwrite(data, 1, n, f) != n) throw Error(path + ": write failed (disk full?)");
}

using GgmlContextPtr = std::unique_ptr<ggml_context, decltype(&ggml_free)>;

// Adds the planned tensors' descriptions to `g`. Descriptions only (no_alloc): the data is streamed
// to the file by write_tensor_data(). The returned context holds them.
GgmlContextPtr add_tensor_infos(const std::vector<TensorPlan>& plan, gguf_context* g) {
  ggml_init_params ip{ggml_tensor_overhead() * (plan.size() + 1), nullptr, /*no_alloc=*/true};
  GgmlContextPtr ctx(ggml_init(ip), &ggml_free);
  for (const auto& t : plan) {
    if (ggml_blck_size(t.type) > 1 && t.ne0 % ggml_blck_size(t.type) != 0)
      throw Error("internal: " + t.name + " row length does not fit " + ggml_type_name(t.type));
    ggml_tensor* tensor = t.ne1 == 1 && t.init != Init::Matrix && t.init != Init::Embedding
                              ? ggml_new_tensor_1d(ctx.get(), t.type, t.ne0)
                              : ggml_new_tensor_2d(ctx.get(), t.type, t.ne0, t.ne1);
    ggml_set_name(tensor, t.name.c_str());
    gguf_add_tensor(g, tensor);
  }
  return ctx;
}

// The metadata, then every tensor's rows drawn from `seed`, each tensor padded to the alignment.
void write_file_contents(std::FILE* f, const gguf_context* g, const std::vector<TensorPlan>& plan,
                         std::uint64_t seed, const std::string& path) {
  std::vector<char> meta(gguf_get_meta_size(g));
  gguf_get_meta_data(g, meta.data());
  write_all(f, meta.data(), meta.size(), path);
  const std::size_t align = gguf_get_alignment(g);
  std::size_t offset = 0;
  std::vector<float> row;
  std::vector<char> buf;
  const std::vector<char> zeros(align, 0);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const TensorPlan& t = plan[i];
    if (gguf_get_tensor_offset(g, std::int64_t(i)) != offset)
      throw Error("internal: tensor data offset mismatch for " + t.name);
    row.resize(std::size_t(t.ne0));
    for (std::int64_t r = 0; r < t.ne1; ++r) {
      fill_row(t, seed, r, row.data());
      const std::size_t n = encode_row(t.type, row.data(), t.ne0, buf);
      write_all(f, buf.data(), n, path);
      offset += n;
    }
    const std::size_t pad = (align - offset % align) % align;
    write_all(f, zeros.data(), pad, path);
    offset += pad;
  }
}

}  // namespace

void write_test_model(const TestModelSpec& spec, const std::string& path) {
  const TestModelDims d = test_model_dims(spec.arch, spec.shape);
  if (spec.rerank_head && spec.arch != TestModelArch::Qwen3)
    throw Error("a rerank head is for qwen3 models (bert models always have their classification head)");
  const std::string vocab = spec.vocab_path.empty() ? default_vocab_path(spec.arch) : spec.vocab_path;

  GgufPtr g(gguf_init_empty());
  set_hparams(spec, d, g.get());
  const auto tokens = copy_tokenizer(vocab, spec.arch == TestModelArch::Bert ? "bert" : "gpt2", g.get());
  const auto n_vocab = std::int64_t(tokens.size());
  if (spec.arch == TestModelArch::Bert && gguf_find_key(g.get(), "tokenizer.ggml.token_type_count") < 0)
    gguf_set_val_u32(g.get(), "tokenizer.ggml.token_type_count", d.n_token_types);

  std::vector<TensorPlan> plan;
  const ggml_type mat = storage_type(spec.type);
  if (spec.arch == TestModelArch::Bert) {
    plan_bert(d, n_vocab, mat, plan);
  } else {
    const bool head = spec.rerank_head;
    plan_qwen3(d, n_vocab, mat, head ? token_id(tokens, "yes", vocab) : 0,
               head ? token_id(tokens, "no", vocab) : 0, head, plan);
  }
  const GgmlContextPtr tensors = add_tensor_infos(plan, g.get());

  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error(path + ": cannot create file");
  try {
    write_file_contents(f, g.get(), plan, spec.seed, path);
    if (std::fclose(f) != 0) {
      f = nullptr;
      throw Error(path + ": write failed (disk full?)");
    }
    f = nullptr;
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw Error(path + ": cannot rename " + tmp + ": " + ec.message());
  } catch (...) {
    if (f) std::fclose(f);
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

}  // namespace rerank
