#include "model/segment_embeddings.h"

#include <cstring>

#include "model/gguf_tables.h"
#include "rerank/error.h"

namespace rerank::detail {

std::unique_ptr<SegmentEmbeddings> SegmentEmbeddings::open(const std::string& path) {
  GgufMeta meta(path);
  const ggml_tensor* tok = ggml_get_tensor(meta.tensors, "token_embd.weight");
  const ggml_tensor* types = ggml_get_tensor(meta.tensors, "token_types.weight");
  if (!tok || !types || types->ne[1] < 2) return nullptr;
  if (types->ne[0] != tok->ne[0] || ggml_n_dims(tok) != 2 || ggml_n_dims(types) != 2)
    throw Error(path + ": token_types and token_embd tensors disagree on the embedding width");
  const auto* traits = ggml_get_type_traits(tok->type);
  if (tok->type != GGML_TYPE_F32 && (!traits || !traits->to_float))
    throw Error(path + ": token_embd is stored in a type rerank.cpp cannot read (" +
                std::string(ggml_type_name(tok->type)) + ")");

  std::unique_ptr<SegmentEmbeddings> s(new SegmentEmbeddings());
  s->n_embd_ = static_cast<int>(tok->ne[0]);
  s->n_vocab_ = tok->ne[1];
  s->n_types_ = static_cast<int>(types->ne[1]);
  s->token_type_ = tok->type;
  s->row_bytes_ = tok->nb[1];

  // The token table is read where it lies in the file (mapped, shared with llama.cpp's own mapping).
  s->file_ = std::make_unique<MappedFile>(path);
  const unsigned char* map = s->file_->data();
  const std::size_t tok_at = meta.offset("token_embd.weight"), types_at = meta.offset("token_types.weight");
  if (tok_at + ggml_nbytes(tok) > s->file_->size() || types_at + ggml_nbytes(types) > s->file_->size())
    throw Error(path + ": truncated GGUF file (token tables lie past its end)");
  s->token_table_ = map + tok_at;

  const std::size_t w = static_cast<std::size_t>(s->n_embd_);
  std::vector<float> rows(w * static_cast<std::size_t>(s->n_types_));
  for (int t = 0; t < s->n_types_; ++t)
    dequantize_row(types->type, map + types_at + static_cast<std::size_t>(t) * types->nb[1], s->n_embd_,
                   rows.data() + w * static_cast<std::size_t>(t));
  s->type_delta_.resize(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) s->type_delta_[i] = rows[i] - rows[i % w];
  return s;
}

SegmentEmbeddings::~SegmentEmbeddings() = default;

void SegmentEmbeddings::row(std::int32_t token, int type, float* out) const {
  if (token < 0 || token >= n_vocab_ || type < 0 || type >= n_types_)
    throw Error("internal error: token " + std::to_string(token) + " or type " + std::to_string(type) +
                " outside the model's tables");
  dequantize_row(token_type_, token_table_ + static_cast<std::size_t>(token) * row_bytes_, n_embd_, out);
  if (type == 0) return;  // the graph adds token_types[0] itself
  const float* delta =
      type_delta_.data() + static_cast<std::size_t>(type) * static_cast<std::size_t>(n_embd_);
  for (int i = 0; i < n_embd_; ++i) out[i] += delta[i];
}

}  // namespace rerank::detail
