#include "rerank/model.h"

#include <gguf.h>
#include <llama.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "model/gguf_tables.h"
#include "model/llama_session.h"
#include "rerank/chat_format.h"
#include "rerank/error.h"

namespace rerank {

std::string to_string(ModelKind kind) {
  switch (kind) {
    case ModelKind::CrossEncoder:
      return "cross-encoder";
    case ModelKind::DecoderLM:
      return "decoder language model";
    case ModelKind::Embedding:
      return "embedding model";
  }
  return "model";
}

namespace {
struct GgufSummary {
  std::uint64_t n_elements = 0;           // of every tensor: llama.cpp's parameter count
  std::vector<std::string> class_labels;  // {arch}.classifier.output_labels
  bool has_q8_0 = false;
  bool has_cls_head = false;  // a classification head (cls.output / cls tensors)
};

constexpr const char* kLoadFailure =
    "llama.cpp could not load the model (unsupported architecture, inconsistent tensors, or NaN or "
    "infinite weights; set RERANK_LLAMA_LOG=1 for llama.cpp's reason)";

GgufSummary inspect_gguf(const std::string& path) {
  GgufSummary summary;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path + ": no such model file");
  if (!fs::is_regular_file(path, ec)) throw Error(path + ": not a regular file");
  const std::uint64_t file_size = fs::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read the model file: " + std::strerror(errno));
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() != 4 || std::memcmp(magic, "GGUF", 4) != 0)
    throw Error(path + ": not a GGUF file (no GGUF magic at the start)");

  ggml_context* shapes = nullptr;
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/&shapes};
  gguf_context* ctx = gguf_init_from_file(path.c_str(), params);
  if (!ctx) throw Error(path + ": corrupt GGUF file (header, metadata or tensor table does not parse)");
  for (ggml_tensor* t = ggml_get_first_tensor(shapes); t; t = ggml_get_next_tensor(shapes, t))
    summary.n_elements += static_cast<std::uint64_t>(ggml_nelements(t));
  ggml_free(shapes);
  std::uint64_t needed = gguf_get_data_offset(ctx);
  for (std::int64_t i = 0; i < gguf_get_n_tensors(ctx); ++i)
    needed = std::max<std::uint64_t>(
        needed, gguf_get_data_offset(ctx) + gguf_get_tensor_offset(ctx, i) + gguf_get_tensor_size(ctx, i));
  for (std::int64_t i = 0; i < gguf_get_n_tensors(ctx); ++i)
    if (gguf_get_tensor_type(ctx, i) == GGML_TYPE_Q8_0) summary.has_q8_0 = true;
  const auto arch_key = gguf_find_key(ctx, "general.architecture");
  const bool has_arch = arch_key >= 0 && gguf_get_kv_type(ctx, arch_key) == GGUF_TYPE_STRING;
  if (has_arch) {
    const std::string labels = std::string(gguf_get_val_str(ctx, arch_key)) + ".classifier.output_labels";
    const auto id = gguf_find_key(ctx, labels.c_str());
    if (id >= 0 && gguf_get_kv_type(ctx, id) == GGUF_TYPE_ARRAY &&
        gguf_get_arr_type(ctx, id) == GGUF_TYPE_STRING)
      for (std::size_t i = 0; i < gguf_get_arr_n(ctx, id); ++i)
        summary.class_labels.emplace_back(gguf_get_arr_str(ctx, id, i));
  }
  summary.has_cls_head =
      gguf_find_tensor(ctx, "cls.output.weight") >= 0 || gguf_find_tensor(ctx, "cls.weight") >= 0;
  gguf_free(ctx);
  if (needed > file_size)
    throw Error(path + ": truncated GGUF file (tensor data needs " + std::to_string(needed) +
                " bytes, the file has " + std::to_string(file_size) + ")");
  if (!has_arch) throw Error(path + ": GGUF file without general.architecture (not a model)");
  return summary;
}
}  // namespace

void validate_gguf_file(const std::string& path) { inspect_gguf(path); }

RuntimeOptions::EncoderPrecision parse_encoder_precision(const std::string& name) {
  using P = RuntimeOptions::EncoderPrecision;
  return name == "f32" ? P::F32 : name == "bf16" ? P::BF16 : name == "int8" ? P::Int8 : P::Auto;
}

namespace {

// Whether a yes/no rank head (cls.output) holds the LM head's "yes" and "no" rows, so that P(yes)
// can be read from the LM logits. convert_hf_to_gguf.py keeps only those two rows of an untied
// lm_head (Qwen3-Reranker-8B) and writes no output.weight, so llama.cpp's LM head is then the
// embedding table, whose rows differ. Rows are compared dequantised: storage types may differ.
bool rank_head_is_lm_rows(const std::string& path, std::int32_t yes, std::int32_t no) {
  detail::GgufMeta meta(path);
  const char* lm = ggml_get_tensor(meta.tensors, "output.weight") ? "output.weight" : "token_embd.weight";
  for (auto [head_row, token] : {std::pair<std::int64_t, std::int32_t>{0, yes}, {1, no}}) {
    const auto head = detail::read_tensor_row(path, meta, "cls.output.weight", head_row);
    const auto lm_row = detail::read_tensor_row(path, meta, lm, token);
    if (head.empty() || head.size() != lm_row.size()) return false;
    double scale = 0, diff = 0;
    for (std::size_t i = 0; i < head.size(); ++i) {
      scale = std::max(scale, std::abs(static_cast<double>(head[i])));
      diff = std::max(diff, std::abs(static_cast<double>(head[i]) - lm_row[i]));
    }
    // Q8_0 against F16/F32 copies of one row differ by < 1% of its largest value; other rows by ~100%.
    if (diff > 0.05 * scale) return false;
  }
  return true;
}

}  // namespace

namespace {

std::string meta_string(const llama_model* m, const std::string& key) {
  char buf[512];
  const int n = llama_model_meta_val_str(m, key.c_str(), buf, sizeof buf);
  if (n < 0) return {};
  if (static_cast<std::size_t>(n) < sizeof buf) return std::string(buf, static_cast<std::size_t>(n));
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  llama_model_meta_val_str(m, key.c_str(), big.data(), big.size());
  big.resize(static_cast<std::size_t>(n));
  return big;
}

int meta_int(const llama_model* m, const std::string& key, int fallback) {
  const std::string v = meta_string(m, key);
  if (v.empty()) return fallback;
  try {
    return std::stoi(v);
  } catch (const std::exception&) {
    return fallback;
  }
}

// The model's metadata, as a vocabulary-only llama.cpp model holds it: its scalar keys (llama.cpp
// reads hyperparameters with the weights only), the class labels from the file (the kind is set by
// classify()).
ModelInfo read_info(llama_model* raw, const std::string& path, const GgufSummary& summary) {
  ModelInfo info;
  info.path = path;
  info.arch = meta_string(raw, "general.architecture");
  info.name = meta_string(raw, "general.name");
  info.n_ctx_train = meta_int(raw, info.arch + ".context_length", 0);
  info.n_embd = meta_int(raw, info.arch + ".embedding_length", 0);
  info.n_layer = meta_int(raw, info.arch + ".block_count", 0);
  info.n_head = meta_int(raw, info.arch + ".attention.head_count", 0);
  info.n_head_kv = meta_int(raw, info.arch + ".attention.head_count_kv", info.n_head);
  info.head_dim =
      meta_int(raw, info.arch + ".attention.key_length", info.n_head ? info.n_embd / info.n_head : 0);
  info.n_ff = meta_int(raw, info.arch + ".feed_forward_length", 0);
  info.n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(raw));
  info.causal = meta_string(raw, info.arch + ".attention.causal") != "false";
  info.pooling_type = meta_int(raw, info.arch + ".pooling_type", -1);
  info.rank_head = info.pooling_type == LLAMA_POOLING_TYPE_RANK;
  // llama.cpp's classifier has one unnamed output unless the file names its outputs.
  info.class_labels = summary.class_labels.empty() ? std::vector<std::string>{""} : summary.class_labels;
  if (const char* tmpl = llama_model_chat_template(raw, "rerank")) info.rerank_template = tmpl;
  if (const char* tmpl = llama_model_chat_template(raw, nullptr)) info.chat_template = tmpl;
  return info;
}

ModelKind classify(const ModelInfo& info, const GgufSummary& summary, const Tokenizer& tokenizer) {
  const bool yes_no_head = info.class_labels == std::vector<std::string>{"yes", "no"};
  // convert_hf_to_gguf.py writes no pooling type for a plain BertForSequenceClassification (only
  // sentence-transformers' modules.json gives one), so a bidirectional model with a classification
  // head and no pooling metadata is a cross-encoder (llama-server --reranking agrees).
  const bool encoder_with_head = !info.causal && summary.has_cls_head && info.pooling_type < 0;
  const bool head_in_lm =
      info.causal && yes_no_head &&
      rank_head_is_lm_rows(info.path, tokenizer.single_token("yes"), tokenizer.single_token("no"));
  if ((info.rank_head || encoder_with_head) && !head_in_lm) return ModelKind::CrossEncoder;
  // A converted Qwen3-Reranker whose rank head holds the LM head's "yes"/"no" rows (0.6B, 4B: tied
  // embeddings) is scored from the LM logits, which gives the same P(yes) and allows prefix KV
  // reuse; an untied one (8B) goes through its head as a cross-encoder.
  if (info.causal) return ModelKind::DecoderLM;
  return ModelKind::Embedding;  // usable by embedding strategies, not by pair scorers
}

}  // namespace

std::shared_ptr<const Model> Model::load(const std::string& path) {
  ensure_llama_backend();
  const GgufSummary summary = inspect_gguf(path);  // also rejects malformed files
  llama_model_params mp = llama_model_default_params();
  mp.vocab_only = true;  // metadata, hyperparameters and vocabulary; weights() loads the rest
  llama_model* raw = llama_model_load_from_file(path.c_str(), mp);
  if (!raw) throw Error(path + ": " + kLoadFailure);
  std::shared_ptr<Model> model(new Model());
  model->q8_0_weights_ = summary.has_q8_0;
  model->tokenizer_ = Tokenizer::from_model(std::shared_ptr<llama_model>(raw, llama_model_free));
  model->info_ = read_info(raw, path, summary);
  model->info_.n_params = summary.n_elements;
  if (llama_model_has_encoder(raw))
    throw Error(path + ": " + model->info_.arch +
                " is an encoder-decoder model, which rerank.cpp does not support");
  model->info_.kind = classify(model->info_, summary, model->tokenizer_);
  return model;
}

std::string Model::chat_prompt(const std::string& system, const std::string& user) const {
  if (info_.chat_template.empty()) return {};
  std::vector<llama_chat_message> messages;
  if (!system.empty()) messages.push_back({"system", system.c_str()});
  messages.push_back({"user", user.c_str()});
  std::string out(2 * (system.size() + user.size()) + 256, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int32_t n =
        llama_chat_apply_template(info_.chat_template.c_str(), messages.data(), messages.size(),
                                  /*add_ass=*/true, out.data(), static_cast<int32_t>(out.size()));
    if (n < 0)
      throw Error(info_.path + ": llama.cpp does not recognise this model's chat template; give the prompt " +
                  "format explicitly");
    if (static_cast<std::size_t>(n) <= out.size()) {
      out.resize(static_cast<std::size_t>(n));
      return out;
    }
    out.resize(static_cast<std::size_t>(n));
  }
  throw Error("internal error: chat template output kept growing");
}

bool Model::plain_prompts() const {
  return info_.chat_template.empty() && tokenizer_.tokenize("<|im_start|>", false, true).size() != 1;
}

std::string Model::decoder_prompt(const std::string& system, const std::string& user) const {
  std::string prompt;
  if (!info_.chat_template.empty()) {
    prompt = chat_prompt(system, user);
  } else if (!plain_prompts()) {
    prompt = chatml(system, user);
  } else {
    prompt = (system.empty() ? "" : system + "\n\n") + user + "\n\nAnswer:";
  }
  if (info_.arch == "qwen3") prompt += kQwen3EmptyThink;
  return prompt;
}

double Model::forward_flops(std::uint64_t new_tokens, std::uint64_t past_tokens,
                            std::uint64_t output_rows) const {
  const double embd_table = static_cast<double>(info_.n_vocab) * info_.n_embd;
  const double dense = std::max(0.0, static_cast<double>(info_.n_params) - embd_table);
  const double n = static_cast<double>(new_tokens);
  const double p = static_cast<double>(past_tokens);
  // Query-key pairs: causal token i (0-based, after p cached) sees p + i + 1 keys; bidirectional
  // tokens see all n.
  const double pairs = info_.causal ? n * p + n * (n + 1) / 2 : n * (n + p);
  const double attention = 4.0 * info_.n_layer * static_cast<double>(info_.n_head) * info_.head_dim * pairs;
  const double head =
      info_.kind == ModelKind::DecoderLM ? 2.0 * embd_table * static_cast<double>(output_rows) : 0.0;
  return 2.0 * dense * n + attention + head;
}

llama_model* Model::weights() const {
  std::call_once(weights_once_, [this] {
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.check_tensors = true;  // NaN or infinite weights are refused at load, naming the tensor
#ifndef RERANK_LLAMA_AMX_SAFE
    // A llama.cpp built by GCC 12 without scripts/bootstrap.sh's header fix faults in its AMX Q8_0
    // matmul (ggml-org/llama.cpp#20824), so such builds use Q8_0 weights as stored, off the AMX path.
    if (q8_0_weights_) mp.use_extra_bufts = false;
#endif
    llama_model* raw = llama_model_load_from_file(info_.path.c_str(), mp);
    if (!raw) throw Error(info_.path + ": " + kLoadFailure);
    weights_ = std::shared_ptr<llama_model>(raw, llama_model_free);
  });
  return weights_.get();
}

llama_model* raw_llama_model(const Model& model) { return model.weights(); }

}  // namespace rerank
