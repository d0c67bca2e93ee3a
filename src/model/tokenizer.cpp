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

namespace {

// llama.cpp's tokenizers hold several copies of their input (code points, normalised text, words):
// about 24 bytes per byte, 2.4 GB for a 100 MB document. Long texts are therefore tokenized in
// pieces of about this many bytes.
constexpr std::size_t kTokenizePieceBytes = std::size_t{1} << 16;

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The first cut at or after begin + piece_bytes, before a single space between two ASCII letters, or
// text.size(). WordPiece splits at every space, and every BPE pre-tokenizer of llama.cpp starts a
// word there (" word" after a letter), so the pieces' tokens are those of the whole text.
std::size_t next_cut(std::string_view text, std::size_t begin, std::size_t piece_bytes) {
  if (text.size() - begin <= piece_bytes) return text.size();
  for (std::size_t i = begin + piece_bytes; i + 1 < text.size(); ++i)
    if (text[i] == ' ' && is_ascii_letter(text[i - 1]) && is_ascii_letter(text[i + 1])) return i;
  return text.size();
}

void append_tokens(const llama_vocab* vocab, std::string_view text, bool add_special, bool parse_special,
                   std::vector<std::int32_t>& out) {
  const std::size_t at = out.size();
  out.resize(at + text.size() + 8);  // a token is at least one byte, plus the special framing
  int n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), out.data() + at,
                         static_cast<int32_t>(out.size() - at), add_special, parse_special);
  if (n < 0) {
    out.resize(at + static_cast<std::size_t>(-n));
    n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), out.data() + at,
                       static_cast<int32_t>(out.size() - at), add_special, parse_special);
  }
  if (n < 0) throw Error("tokenization failed");
  out.resize(at + static_cast<std::size_t>(n));
}

}  // namespace

std::vector<std::int32_t> Tokenizer::tokenize(std::string_view text, bool add_special,
                                              bool parse_special) const {
  std::vector<std::int32_t> ids;
  const llama_vocab* v = vocab();
  const auto type = llama_vocab_type(v);
  // SentencePiece-like vocabularies are not pre-split at spaces (and may add a space prefix to each
  // call), so only WordPiece and BPE are cut; special framing needs the whole text.
  const bool in_pieces = !add_special && (type == LLAMA_VOCAB_TYPE_WPM || type == LLAMA_VOCAB_TYPE_BPE);
  if (!in_pieces) {
    append_tokens(v, text, add_special, parse_special, ids);
    return ids;
  }
  for (std::size_t begin = 0; begin < text.size();) {
    const std::size_t end = next_cut(text, begin, kTokenizePieceBytes);
    append_tokens(v, text.substr(begin, end - begin), false, parse_special, ids);
    begin = end;
  }
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
