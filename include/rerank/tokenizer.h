// A model's tokenizer, loaded from a GGUF through llama.cpp (vocabulary only, no weights).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct llama_model;
struct llama_vocab;

namespace rerank {

// The vocabulary's framing tokens (-1 when it has none) and the flags its GGUF sets for them.
struct SpecialTokens {
  std::int32_t bos = -1, eos = -1, sep = -1;
  bool add_bos = false, add_eos = false, add_sep = false;
  bool wordpiece = false;  // a BERT WordPiece vocabulary ([CLS] is its bos, [SEP] its sep)
};

class Tokenizer {
 public:
  // Throws rerank::Error naming the file when it is missing or not a loadable GGUF vocabulary.
  static Tokenizer load(const std::string& gguf_path);

  // add_special: the model's BOS/CLS...SEP framing; parse_special: "<|im_start|>"-like text
  // becomes its special token instead of being split into pieces.
  std::vector<std::int32_t> tokenize(std::string_view text, bool add_special, bool parse_special) const;
  std::string token_text(std::int32_t id) const;
  std::int32_t vocab_size() const;
  // The id of `text` when it is exactly one token (no special framing), else -1.
  std::int32_t single_token(std::string_view text) const;
  SpecialTokens special_tokens() const;

 private:
  friend class Model;
  // The tokenizer of a model already loaded with its weights (shares ownership of it).
  static Tokenizer from_model(std::shared_ptr<llama_model> model);
  // The llama.cpp vocabulary, for src/model only.
  const llama_vocab* vocab() const;

  struct ModelDeleter {
    void operator()(llama_model* m) const;
  };
  std::shared_ptr<llama_model> model_;
};

// llama.cpp's global state: the backend is initialised once and its logging routed to stderr only
// when RERANK_LLAMA_LOG is set (llama.cpp is chatty by default).
void ensure_llama_backend();

}  // namespace rerank
