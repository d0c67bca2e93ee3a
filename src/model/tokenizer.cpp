#include "rerank/tokenizer.h"

#include <llama.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "rerank/error.h"

namespace rerank {

namespace {
void quiet_log(ggml_log_level level, const char* text, void*) {
  static const bool verbose = std::getenv("RERANK_LLAMA_LOG") != nullptr;
  if (verbose || level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}
}  // namespace

void ensure_llama_backend() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(quiet_log, nullptr);
    llama_backend_init();
  });
}

void Tokenizer::ModelDeleter::operator()(llama_model* m) const { llama_model_free(m); }

Tokenizer Tokenizer::load(const std::string& gguf_path) {
  ensure_llama_backend();
  if (!std::filesystem::is_regular_file(gguf_path)) throw Error(gguf_path + ": no such model file");
  llama_model_params params = llama_model_default_params();
  params.vocab_only = true;
  llama_model* m = llama_model_load_from_file(gguf_path.c_str(), params);
  if (!m) throw Error(gguf_path + ": not a loadable GGUF vocabulary (llama.cpp refused it)");
  Tokenizer t;
  t.model_ = std::shared_ptr<llama_model>(m, ModelDeleter{});
  return t;
}

Tokenizer Tokenizer::from_model(std::shared_ptr<llama_model> model) {
  Tokenizer t;
  t.model_ = std::move(model);
  return t;
}

std::int32_t Tokenizer::single_token(std::string_view text) const {
  const auto ids = tokenize(text, /*add_special=*/false, /*parse_special=*/false);
  return ids.size() == 1 ? ids[0] : -1;
}

const llama_vocab* Tokenizer::vocab() const { return llama_model_get_vocab(model_.get()); }

SpecialTokens Tokenizer::special_tokens() const {
  const llama_vocab* v = vocab();
  auto id = [](llama_token t) { return t == LLAMA_TOKEN_NULL ? -1 : static_cast<std::int32_t>(t); };
  SpecialTokens s;
  s.bos = id(llama_vocab_bos(v)), s.eos = id(llama_vocab_eos(v)), s.sep = id(llama_vocab_sep(v));
  s.add_bos = llama_vocab_get_add_bos(v), s.add_eos = llama_vocab_get_add_eos(v);
  s.add_sep = llama_vocab_get_add_sep(v);
  s.wordpiece = llama_vocab_type(v) == LLAMA_VOCAB_TYPE_WPM;
  return s;
}

std::int32_t Tokenizer::vocab_size() const { return llama_vocab_n_tokens(vocab()); }

std::vector<std::int32_t> Tokenizer::tokenize(std::string_view text, bool add_special,
                                              bool parse_special) const {
  std::vector<llama_token> ids(text.size() + 8);
  int n = llama_tokenize(vocab(), text.data(), static_cast<int32_t>(text.size()), ids.data(),
                         static_cast<int32_t>(ids.size()), add_special, parse_special);
  if (n < 0) {
    ids.resize(static_cast<std::size_t>(-n));
    n = llama_tokenize(vocab(), text.data(), static_cast<int32_t>(text.size()), ids.data(),
                       static_cast<int32_t>(ids.size()), add_special, parse_special);
  }
  if (n < 0) throw Error("tokenization failed");
  ids.resize(static_cast<std::size_t>(n));
  return ids;
}

std::string Tokenizer::token_text(std::int32_t id) const {
  char buf[256];
  int n = llama_token_to_piece(vocab(), id, buf, sizeof buf, 0, true);
  if (n < 0) {
    std::string big(static_cast<std::size_t>(-n), '\0');
    n = llama_token_to_piece(vocab(), id, big.data(), static_cast<int32_t>(big.size()), 0, true);
    big.resize(static_cast<std::size_t>(std::max(n, 0)));
    return big;
  }
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace rerank
