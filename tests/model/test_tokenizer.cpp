// Proves the llama.cpp link for real: llama.cpp's own tokenizer test vectors for the BERT (bge)
// WordPiece vocabulary and the Qwen2 BPE vocabulary must come out id for id.
#include <gtest/gtest.h>
#include <llama.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "rerank/error.h"
#include "rerank/tokenizer.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void check_vocab_vectors(const std::string& name) {
  const std::string base = std::string(RERANK_LLAMA_SOURCE) + "/models/" + name;
  const auto tok = rerank::Tokenizer::load(base);
  const std::string inp = read_file(base + ".inp");
  const std::string out = read_file(base + ".out");
  ASSERT_FALSE(inp.empty()) << base << ".inp";

  // .inp: texts separated by "\n__ggml_vocab_test__\n"; .out: one line of ids per text.
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (std::size_t pos = 0;;) {
    const std::size_t next = inp.find(sep, pos);
    if (next == std::string::npos) break;
    texts.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::istringstream lines(out);
  std::string line;
  std::size_t checked = 0;
  for (const auto& text : texts) {
    ASSERT_TRUE(std::getline(lines, line)) << "fewer .out lines than texts";
    std::vector<std::int32_t> expected;
    std::istringstream ids(line);
    for (std::int32_t id; ids >> id;) expected.push_back(id);
    EXPECT_EQ(tok.tokenize(text, /*add_special=*/false, /*parse_special=*/false), expected)
        << "text: [" << text << "]";
    ++checked;
  }
  EXPECT_GT(checked, 30u);
}

}  // namespace

TEST(Tokenizer, BertBgeWordPieceMatchesLlamaCppVectors) { check_vocab_vectors("ggml-vocab-bert-bge.gguf"); }

TEST(Tokenizer, Qwen2BpeMatchesLlamaCppVectors) { check_vocab_vectors("ggml-vocab-qwen2.gguf"); }

TEST(Tokenizer, BertAddsClsAndSep) {
  const auto tok =
      rerank::Tokenizer::load(std::string(RERANK_LLAMA_SOURCE) + "/models/ggml-vocab-bert-bge.gguf");
  const auto ids = tok.tokenize("hello world", true, false);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids.front(), 101);                  // [CLS]
  EXPECT_EQ(ids.back(), 102);                   // [SEP]
  EXPECT_EQ(tok.token_text(ids[1]), " hello");  // llama.cpp renders word starts with a space
}

TEST(Tokenizer, MissingAndCorruptFilesAreClearErrors) {
  EXPECT_THROW(
      {
        try {
          rerank::Tokenizer::load("/nonexistent/model.gguf");
        } catch (const rerank::Error& e) {
          EXPECT_STREQ(e.what(), "/nonexistent/model.gguf: no such model file");
          throw;
        }
      },
      rerank::Error);
  const std::string bad = std::string(RERANK_TEST_TMP) + "/corrupt.gguf";
  std::filesystem::create_directories(RERANK_TEST_TMP);
  std::ofstream(bad) << "GGUF this is not a model";
  EXPECT_THROW(rerank::Tokenizer::load(bad), rerank::Error);
}

// Texts longer than 64 KB are tokenized in pieces (llama.cpp's tokenizer needs ~24 bytes per byte of
// input). Every WordPiece and BPE vocabulary llama.cpp ships (the others are not cut) must give, for a long
// text of real documents, llama.cpp's (tested ones) and many languages, exactly the tokens of one
// llama_tokenize call on the whole text.
TEST(Tokenizer, LongTextsInPiecesGiveTheTokensOfTheWholeText) {
  std::string text;
  while (text.size() < 140000) {  // three pieces
    text += read_file(std::string(RERANK_SOURCE_DIR) + "/data/corpus.jsonl");
    text += read_file(std::string(RERANK_LLAMA_SOURCE) + "/models/ggml-vocab-qwen2.gguf.inp");
    text += " Ünïcödé straße 東京都 Москва 12,345.67 it's don't   spaced\tout\n\nnew lines ";
  }
  std::size_t checked = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(RERANK_LLAMA_SOURCE) + "/models")) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".gguf" || path.find("ggml-vocab-") == std::string::npos) continue;
    llama_model_params params = llama_model_default_params();
    params.vocab_only = true;
    llama_model* model = llama_model_load_from_file(path.c_str(), params);
    ASSERT_NE(model, nullptr) << path;
    const llama_vocab* vocab = llama_model_get_vocab(model);
    const auto type = llama_vocab_type(vocab);
    if (type != LLAMA_VOCAB_TYPE_WPM && type != LLAMA_VOCAB_TYPE_BPE) {  // tokenized whole
      llama_model_free(model);
      continue;
    }
    const auto tok = rerank::Tokenizer::load(path);
    std::vector<llama_token> whole(text.size() + 8);
    const int n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), whole.data(),
                                 static_cast<int32_t>(whole.size()), false, false);
    ASSERT_GT(n, 0) << path;
    whole.resize(static_cast<std::size_t>(n));
    EXPECT_EQ(tok.tokenize(text, false, false), whole) << path;
    llama_model_free(model);
    ++checked;
  }
  EXPECT_GE(checked, 12u);  // every WordPiece and BPE vocabulary
}
