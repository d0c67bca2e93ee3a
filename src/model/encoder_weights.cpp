#include "model/encoder_weights.h"

#include <set>

#include "model/gguf_tables.h"
#include "rerank/error.h"

namespace rerank::detail {

// Reads one file's tensors; every failure names the file and the tensor.
class EncoderWeightsReader {
 public:
  EncoderWeightsReader(const std::string& path, const GgufMeta& meta, EncoderWeights& w)
      : path_(path), meta_(meta), w_(w) {}

  const ggml_tensor* find(const std::string& name) const {
    return ggml_get_tensor(meta_.tensors, name.c_str());
  }

  // The tensor's values as F32, checked to hold `rows` rows of `cols` values.
  std::vector<float> read(const std::string& name, std::int64_t cols, std::int64_t rows) const {
    const ggml_tensor* t = find(name);
    if (!t) throw Error(path_ + ": encoder tensor " + name + " is missing");
    if (t->ne[0] != cols || t->ne[1] != rows || t->ne[2] != 1 || t->ne[3] != 1)
      throw Error(path_ + ": tensor " + name + " has shape [" + std::to_string(t->ne[0]) + ", " +
                  std::to_string(t->ne[1]) + "], expected [" + std::to_string(cols) + ", " +
                  std::to_string(rows) + "]");
    check_readable(name, t);
    const std::size_t at = meta_.offset(name.c_str());
    if (at + ggml_nbytes(t) > w_.file_->size()) throw Error(path_ + ": truncated GGUF file (" + name + ")");
    check_finite(name, t, at);
    std::vector<float> out(static_cast<std::size_t>(cols * rows));
    for (std::int64_t r = 0; r < rows; ++r)
      dequantize_row(t->type, w_.file_->data() + at + static_cast<std::size_t>(r) * t->nb[1],
                     static_cast<int>(cols), out.data() + r * cols);
    w_.file_->release_pages(at, ggml_nbytes(t));  // read once: the copy is what is used
    return out;
  }

  void check_readable(const std::string& name, const ggml_tensor* t) const {
    const auto* traits = ggml_get_type_traits(t->type);
    if (t->type != GGML_TYPE_F32 && (!traits || !traits->to_float))
      throw Error(path_ + ": tensor " + name + " is stored in a type rerank.cpp cannot read (" +
                  ggml_type_name(t->type) + ")");
  }

  // NaN or infinite weights (a damaged file) would turn every score into NaN without an error.
  void check_finite(const std::string& name, const ggml_tensor* t, std::size_t at) const {
    if (!ggml_validate_row_data(t->type, w_.file_->data() + at, ggml_nbytes(t)))
      throw Error(path_ + ": tensor " + name + " holds NaN or infinite values (corrupt weights)");
  }

  std::vector<float> bias(const std::string& name, int n) const {
    if (!find(name)) return std::vector<float>(static_cast<std::size_t>(n), 0.0f);
    return read(name, n, 1);
  }

  LinearWeights linear(const std::string& prefix, int in, int out) const {
    return {in, out, read(prefix + ".weight", in, out), bias(prefix + ".bias", out)};
  }

  NormWeights norm(const std::string& prefix, int n) const {
    return {read(prefix + ".weight", n, 1), read(prefix + ".bias", n, 1)};
  }

  // Q, K and V of layer `il`, fused or separate in the file, as one [3 n_embd] projection.
  LinearWeights qkv(int il, int n) const {
    const std::string blk = "blk." + std::to_string(il) + ".";
    if (find(blk + "attn_qkv.weight")) return linear(blk + "attn_qkv", n, 3 * n);
    LinearWeights fused{n, 3 * n, {}, {}};
    for (const char* part : {"attn_q", "attn_k", "attn_v"}) {
      const LinearWeights p = linear(blk + part, n, n);
      fused.w.insert(fused.w.end(), p.w.begin(), p.w.end());
      fused.b.insert(fused.b.end(), p.b.begin(), p.b.end());
    }
    return fused;
  }

 private:
  const std::string& path_;
  const GgufMeta& meta_;
  EncoderWeights& w_;
};

namespace {

std::int64_t meta_int(const GgufMeta& meta, const std::string& key, std::int64_t fallback) {
  const auto id = gguf_find_key(meta.gguf, key.c_str());
  if (id < 0) return fallback;
  switch (gguf_get_kv_type(meta.gguf, id)) {
    case GGUF_TYPE_UINT32:
      return gguf_get_val_u32(meta.gguf, id);
    case GGUF_TYPE_INT32:
      return gguf_get_val_i32(meta.gguf, id);
    case GGUF_TYPE_UINT64:
      return static_cast<std::int64_t>(gguf_get_val_u64(meta.gguf, id));
    case GGUF_TYPE_INT64:
      return gguf_get_val_i64(meta.gguf, id);
    default:
      return fallback;
  }
}

// Tensors outside this list belong to graph parts this runtime does not compute (Q/K norms, gated
// feed-forwards, MoE...); such a model stays on llama.cpp.
bool known_tensor(const std::string& name) {
  static const std::set<std::string> top = {"token_embd.weight",
                                            "token_types.weight",
                                            "position_embd.weight",
                                            "token_embd_norm.weight",
                                            "token_embd_norm.bias",
                                            "cls.weight",
                                            "cls.bias",
                                            "cls.output.weight",
                                            "cls.output.bias"};
  static const std::set<std::string> block = {"attn_qkv.weight",
                                              "attn_qkv.bias",
                                              "attn_q.weight",
                                              "attn_q.bias",
                                              "attn_k.weight",
                                              "attn_k.bias",
                                              "attn_v.weight",
                                              "attn_v.bias",
                                              "attn_output.weight",
                                              "attn_output.bias",
                                              "attn_output_norm.weight",
                                              "attn_output_norm.bias",
                                              "ffn_up.weight",
                                              "ffn_up.bias",
                                              "ffn_down.weight",
                                              "ffn_down.bias",
                                              "layer_output_norm.weight",
                                              "layer_output_norm.bias"};
  if (top.count(name)) return true;
  if (name.rfind("blk.", 0) != 0) return false;
  const auto dot = name.find('.', 4);
  return dot != std::string::npos && block.count(name.substr(dot + 1));
}

}  // namespace

std::unique_ptr<EncoderWeights> EncoderWeights::open(const std::string& path, EncoderOutput output,
                                                     std::string* why_not) {
  GgufMeta meta(path);
  const auto arch_id = gguf_find_key(meta.gguf, "general.architecture");
  const std::string arch = arch_id >= 0 ? gguf_get_val_str(meta.gguf, arch_id) : "";
  if (arch != "bert") {
    *why_not = "architecture '" + arch + "' (this runtime computes BERT-family encoders, arch 'bert')";
    return nullptr;
  }
  for (std::int64_t i = 0; i < gguf_get_n_tensors(meta.gguf); ++i) {
    const std::string name = gguf_get_tensor_name(meta.gguf, i);
    if (!known_tensor(name)) {
      *why_not = "tensor " + name + " is not part of the BERT graph this runtime computes";
      return nullptr;
    }
  }
  // llama_pooling_type: 1 mean, 2 first token (CLS).
  const auto pooling = meta_int(meta, "bert.pooling_type", -1);
  if (output == EncoderOutput::Classifier && !ggml_get_tensor(meta.tensors, "cls.output.weight")) {
    *why_not = "no classification output (cls.output.weight)";
    return nullptr;
  }
  // As in llama.cpp, the pooling type decides: a head beside mean or CLS pooling goes unused.
  if (output == EncoderOutput::PooledEmbedding && pooling != 1 && pooling != 2) {
    *why_not = "pooling type " + std::to_string(pooling) + " (this runtime pools by mean or CLS)";
    return nullptr;
  }

  std::unique_ptr<EncoderWeights> w(new EncoderWeights());
  w->output = output;
  w->mean_pooling = pooling == 1;
  w->n_embd = static_cast<int>(meta_int(meta, "bert.embedding_length", 0));
  w->n_head = static_cast<int>(meta_int(meta, "bert.attention.head_count", 0));
  w->n_ff = static_cast<int>(meta_int(meta, "bert.feed_forward_length", 0));
  w->n_ctx = static_cast<int>(meta_int(meta, "bert.context_length", 0));
  const auto n_layer = meta_int(meta, "bert.block_count", 0);
  const auto eps_id = gguf_find_key(meta.gguf, "bert.attention.layer_norm_epsilon");
  if (eps_id >= 0 && gguf_get_kv_type(meta.gguf, eps_id) == GGUF_TYPE_FLOAT32)
    w->norm_eps = gguf_get_val_f32(meta.gguf, eps_id);
  if (w->n_embd <= 0 || w->n_head <= 0 || w->n_embd % w->n_head != 0 || w->n_ff <= 0 || w->n_ctx <= 0 ||
      n_layer <= 0 || n_layer > 1024)
    throw Error(path +
                ": BERT hyperparameters are missing or inconsistent (embedding_length, head_count, "
                "feed_forward_length, context_length, block_count)");

  w->file_ = std::make_unique<MappedFile>(path);
  const EncoderWeightsReader r(path, meta, *w);
  const int n = w->n_embd;
  const ggml_tensor* tok = r.find("token_embd.weight");
  if (!tok || tok->ne[0] != n || tok->ne[1] <= 0)
    throw Error(path + ": token_embd.weight is missing or misshapen");
  r.check_readable("token_embd.weight", tok);
  if (meta.offset("token_embd.weight") + ggml_nbytes(tok) > w->file_->size())
    throw Error(path + ": truncated GGUF file (token_embd.weight)");
  r.check_finite("token_embd.weight", tok, meta.offset("token_embd.weight"));
  w->token_table_ = w->file_->data() + meta.offset("token_embd.weight");
  w->token_row_bytes_ = tok->nb[1];
  w->token_type_ = tok->type;
  w->n_vocab_ = tok->ne[1];

  w->positions = r.read("position_embd.weight", n, w->n_ctx);
  const ggml_tensor* types = r.find("token_types.weight");
  w->n_types = types ? static_cast<int>(types->ne[1]) : 1;
  w->types = types ? r.read("token_types.weight", n, w->n_types) : std::vector<float>(std::size_t(n), 0.0f);
  w->embd_norm = r.norm("token_embd_norm", n);
  for (int il = 0; il < n_layer; ++il) {
    const std::string blk = "blk." + std::to_string(il) + ".";
    EncoderLayerWeights layer;
    layer.qkv = r.qkv(il, n);
    layer.attn_out = r.linear(blk + "attn_output", n, n);
    layer.attn_norm = r.norm(blk + "attn_output_norm", n);
    layer.ffn_up = r.linear(blk + "ffn_up", n, w->n_ff);
    layer.ffn_down = r.linear(blk + "ffn_down", w->n_ff, n);
    layer.out_norm = r.norm(blk + "layer_output_norm", n);
    w->layers.push_back(std::move(layer));
  }
  w->matrix_type = r.find("blk.0.ffn_up.weight")->type;
  if (output == EncoderOutput::PooledEmbedding) return w;
  if (r.find("cls.weight")) w->head_dense = r.linear("cls", n, n);
  const ggml_tensor* out = r.find("cls.output.weight");
  w->head_out = r.linear("cls.output", n, static_cast<int>(out->ne[1]));
  return w;
}

EncoderWeights::~EncoderWeights() = default;

void EncoderWeights::token_row(std::int32_t id, float* out) const {
  if (id < 0 || id >= n_vocab_)
    throw Error("internal error: token " + std::to_string(id) + " outside the model's vocabulary");
  dequantize_row(token_type_, token_table_ + static_cast<std::size_t>(id) * token_row_bytes_, n_embd, out);
}

void EncoderWeights::release_matrices(std::size_t il) {
  auto& layer = layers.at(il);
  for (LinearWeights* l : {&layer.qkv, &layer.attn_out, &layer.ffn_up, &layer.ffn_down})
    std::vector<float>().swap(l->w);
}

}  // namespace rerank::detail
