// A GGUF model loaded through llama.cpp, classified by how it can rerank: an encoder with a
// classification head (cross-encoder, rank pooling) or a decoder language model (yes/no prompts,
// listwise, pairwise... strategies). The weights are loaded once and shared by every runtime
// (CrossEncoder, LanguageModel) built on the model.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rerank/tokenizer.h"

struct llama_model;

namespace rerank {

enum class ModelKind {
  CrossEncoder,  // rank pooling + classification head: score = the head's output
  DecoderLM,     // causal language model: scores come from next-token logits
  Embedding,     // bidirectional encoder without a head (mean/CLS pooling): embeds texts only
};

std::string to_string(ModelKind kind);

// How a runtime drives llama.cpp. Every decode holds at most `batch_tokens` tokens and
// `max_sequences` sequences (llama.cpp allows 256); larger inputs are split automatically.
struct RuntimeOptions {
  int threads = 0;            // 0: all cores
  int batch_tokens = 1024;    // token budget of one forward pass (llama.cpp n_batch = n_ubatch)
  int max_sequences = 64;     // sequences packed into one forward pass
  int context_tokens = 1024;  // longest prompt (decoder: prefix + continuation) the KV cache must hold
  // llama.cpp's flash attention (on: its tiled CPU kernel with 64-token aligned sequences is both
  // the fast path and batch invariant; off: the standard attention, much slower on CPU).
  bool flash_attention = true;
  // Start every sequence at a multiple of 64 tokens in its forward pass (padding the gaps), so that
  // its score does not depend on its batch-mates (bit-for-bit for cross-encoders). Costs up to 63
  // padding tokens per sequence; without it scores move by up to ~2e-5 with the batch.
  bool align_sequences = true;
  // Independent llama.cpp contexts evaluating different forward passes at the same time, the
  // threads split among them (cross-encoders). A pass of a small model is too short to keep several
  // threads busy between llama.cpp's per-operation barriers; whole passes in parallel avoid them.
  // Scores do not depend on it.
  int workers = 1;
  // Embedding models: the longest input in tokens, special tokens included (0: the model's trained
  // context). Longer texts keep their beginning and their closing special token, as Hugging Face
  // tokenizers truncate (sentence-transformers' all-MiniLM-L6-v2 uses 256).
  int max_input_tokens = 0;
  // BERT-family encoders (arch "bert": BERT, RoBERTa, XLM-R): compute GELU exactly, with erf, as
  // Hugging Face does, instead of llama.cpp's F16-table tanh approximation (~1e-3 relative per
  // activation). Costs three graph splits per layer (after the up projection, its bias and the GELU:
  // the callback cannot tell which of the first two feeds the GELU): ~20% of a MiniLM-L6 cross-encoder's
  // throughput (docs/rerankers.md).
  bool exact_gelu = true;
  // Cross-encoders and embedding models: what computes the forward pass. Auto: rerank.cpp's own runtime
  // (src/model/onednn_encoder.h: oneDNN matrix products, one sequence per worker, F32, exact GELU)
  // for BERT-family models (arch "bert"), llama.cpp for the rest and when exact_gelu is off. OneDnn
  // fails for a model it cannot compute. The options above about passes, alignment and flash
  // attention apply to llama.cpp only.
  enum class EncoderRuntime { Auto, Llama, OneDnn };
  EncoderRuntime encoder_runtime = EncoderRuntime::Auto;
  // rerank.cpp's own encoder runtime: the arithmetic of its matrix products. F32 everywhere, or
  // BF16 inputs with F32 accumulation (about twice the matmul throughput on CPUs with AVX512-BF16
  // or AMX; scores, softmax, norms and residuals stay F32). Auto:
  // BF16 when the model's matrices carry no more precision than BF16 does (BF16, Q8_0 and smaller
  // quantizations) and the CPU computes BF16 natively, else F32. BF16 fails on a CPU without it.
  // Int8: dynamic quantization as ONNX Runtime's quantize_dynamic does it: weights to INT8 per output
  // column, each matmul's input to INT8 with one scale per call, INT32 sums (VNNI or AMX kernels
  // where the CPU has them; attention in BF16 where native, else F32).
  enum class EncoderPrecision { Auto, F32, BF16, Int8 };
  EncoderPrecision encoder_precision = EncoderPrecision::Auto;
};

// "auto", "f32", "bf16" or "int8" as an EncoderPrecision (anything else: Auto).
RuntimeOptions::EncoderPrecision parse_encoder_precision(const std::string& name);

struct ModelInfo {
  std::string path;
  std::string arch;  // general.architecture, e.g. "bert", "qwen3"
  std::string name;  // general.name (may be empty)
  ModelKind kind = ModelKind::CrossEncoder;
  bool causal = true;                     // causal attention ({arch}.attention.causal)
  bool rank_head = false;                 // pooling type RANK with a classification head
  int pooling_type = -1;                  // {arch}.pooling_type (a llama_pooling_type; -1 when absent)
  std::vector<std::string> class_labels;  // classifier output labels (may be empty)
  std::string rerank_template;            // tokenizer.chat_template.rerank ("" when absent)
  std::string chat_template;              // tokenizer.chat_template ("" when absent: a base model)
  std::int32_t n_ctx_train = 0;
  std::int32_t n_embd = 0;
  std::int32_t n_layer = 0;
  std::int32_t n_head = 0;
  std::int32_t n_head_kv = 0;
  std::int32_t head_dim = 0;  // key length per head
  std::int32_t n_ff = 0;      // feed-forward width ({arch}.feed_forward_length; 0 when absent)
  std::int32_t n_vocab = 0;
  std::uint64_t n_params = 0;
};

// Checks, before llama.cpp sees the file (it may abort on some malformed inputs), that `path` is a
// readable GGUF file whose header, metadata and tensor table parse and whose tensor data lies
// within the file. Throws rerank::Error naming the file and the problem.
void validate_gguf_file(const std::string& path);

class Model {
 public:
  // Validates the file and reads its metadata and vocabulary. Throws rerank::Error for missing,
  // corrupt or truncated files and for models rerank.cpp cannot run (e.g. an encoder-decoder).
  // llama.cpp loads the weights only when a runtime on llama.cpp first needs them: models that
  // rerank.cpp's own encoder runtime computes never hold a second copy of them.
  static std::shared_ptr<const Model> load(const std::string& path);

  const ModelInfo& info() const { return info_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

  // Estimated floating-point operations of one forward pass over `new_tokens` tokens that sit after
  // `past_tokens` already-cached positions of the same sequence: 2 x (non-embedding parameters) per
  // token, plus attention (4 x layers x heads x head_dim per query-key pair; causal: each token sees
  // the positions before it, bidirectional: the whole sequence), plus 2 x vocab x embd per
  // `output_rows` of language-model logits.
  // A system turn (omitted when empty) and a user turn in the model's own chat format
  // (tokenizer.chat_template, recognised and applied by llama.cpp), ending where the assistant's
  // answer starts. Empty when the GGUF has no chat template (a base model). Throws rerank::Error when
  // llama.cpp does not recognise the template.
  std::string chat_prompt(const std::string& system, const std::string& user) const;
  // The prompt every decoder strategy sends: chat_prompt(); without a chat template, ChatML when the
  // vocabulary has ChatML's special tokens (Qwen-family GGUFs without a template), else plain text
  // for a base model ("system\n\nuser\n\nAnswer:"). Qwen3 models then answer in non-thinking mode,
  // after an empty think block, as Qwen3-Reranker does.
  std::string decoder_prompt(const std::string& system, const std::string& user) const;
  // True when decoder_prompt() is plain text: answers then follow "Answer:" with a leading space.
  bool plain_prompts() const;

  double forward_flops(std::uint64_t new_tokens, std::uint64_t past_tokens, std::uint64_t output_rows) const;

 private:
  Model() = default;
  ModelInfo info_;
  // The llama.cpp handle with the weights, for the runtime in src/model only
  // (model/llama_session.h): loaded on first use, once; a failed load is retried by the next call.
  friend llama_model* raw_llama_model(const Model& model);
  llama_model* weights() const;
  bool q8_0_weights_ = false;
  mutable std::once_flag weights_once_;
  mutable std::shared_ptr<llama_model> weights_;
  Tokenizer tokenizer_;  // holds the vocabulary-only llama.cpp model
};

}  // namespace rerank
