// The weights of a BERT-family encoder (GGUF arch "bert": BERT, RoBERTa, XLM-R, as llama.cpp's
// convert_hf_to_gguf.py writes them), read from the file for rerank.cpp's own encoder runtime
// (onednn_encoder.h; private to src/model). Matrices are dequantized to F32 once; the token table,
// the only large one, stays in the file (mapped) and is dequantized a row at a time.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rerank::detail {

class MappedFile;

// y = W x + b with W stored as PyTorch and GGUF store it: `out` rows of `in` values.
struct LinearWeights {
  int in = 0, out = 0;
  std::vector<float> w;  // out x in, row-major
  std::vector<float> b;  // out (zeros when the file has no bias)
};

struct NormWeights {
  std::vector<float> scale, shift;
};

struct EncoderLayerWeights {
  LinearWeights qkv;  // Q, K and V stacked (out = 3 x n_embd)
  LinearWeights attn_out;
  NormWeights attn_norm;
  LinearWeights ffn_up, ffn_down;
  NormWeights out_norm;
};

// What the encoder's output is for: a classification head's score (cross-encoders) or a pooled
// sequence embedding (embedding models: mean or first-token pooling, no head).
enum class EncoderOutput { Classifier, PooledEmbedding };

class EncoderWeights {
 public:
  // The weights of `path`, or nullptr with `why_not` set when the file is not an encoder this runtime
  // computes for `output` (another architecture, tensors it does not know, no head or no pooling).
  // Throws rerank::Error for a file that claims to be one but cannot be read.
  static std::unique_ptr<EncoderWeights> open(const std::string& path, EncoderOutput output,
                                              std::string* why_not);
  ~EncoderWeights();
  EncoderWeights(const EncoderWeights&) = delete;
  EncoderWeights& operator=(const EncoderWeights&) = delete;

  int n_embd = 0, n_head = 0, n_ff = 0, n_ctx = 0, n_types = 0;
  float norm_eps = 1e-12f;
  EncoderOutput output = EncoderOutput::Classifier;
  bool mean_pooling = false;  // PooledEmbedding: mean over tokens (else the first token's row)
  // How the layers' matrices are stored (a ggml_type): what precision they carry.
  int matrix_type = 0;
  std::vector<float> positions;  // n_ctx x n_embd
  std::vector<float> types;      // n_types x n_embd
  NormWeights embd_norm;
  std::vector<EncoderLayerWeights> layers;
  // Classification head: optional dense + tanh (BERT's pooler, RoBERTa's classifier.dense), then the
  // output projection (its first row is the score).
  LinearWeights head_dense;  // in == 0 when absent
  LinearWeights head_out;

  std::int64_t vocab() const { return n_vocab_; }
  // Writes token `id`'s embedding to out[0 .. n_embd). Throws for ids outside the table.
  void token_row(std::int32_t id, float* out) const;
  // Frees layer `il`'s dequantized matrices once a runtime has copied them into its own layout.
  void release_matrices(std::size_t il);

 private:
  EncoderWeights() = default;
  std::unique_ptr<MappedFile> file_;
  const unsigned char* token_table_ = nullptr;
  std::size_t token_row_bytes_ = 0;
  int token_type_ = 0;
  std::int64_t n_vocab_ = 0;
  friend class EncoderWeightsReader;
};

}  // namespace rerank::detail
