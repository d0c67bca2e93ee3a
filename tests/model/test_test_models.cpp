// The generated test models must load and run in unmodified llama.cpp, and be reproducible.
#include <gguf.h>
#include <gtest/gtest.h>
#include <llama.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "rerank/chat_format.h"
#include "rerank/error.h"
#include "rerank/test_models.h"
#include "rerank/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using rerank::TestModelArch;
using rerank::TestModelShape;
using rerank::TestModelSpec;
using rerank::TestModelType;

std::string model_dir() {
  const fs::path dir = fs::path(RERANK_TEST_TMP) / "test_models";
  fs::create_directories(dir);
  return dir.string();
}

std::string generate(const TestModelSpec& spec, const std::string& name) {
  const std::string path = model_dir() + "/" + name;
  rerank::write_test_model(spec, path);
  return path;
}

TestModelSpec spec_of(TestModelArch arch, TestModelShape shape, std::uint64_t seed = 7,
                      TestModelType type = TestModelType::F16, bool head = false) {
  TestModelSpec s;
  s.arch = arch, s.shape = shape, s.seed = seed, s.type = type, s.rerank_head = head;
  return s;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ModelFree {
  void operator()(llama_model* m) const { llama_model_free(m); }
};
struct ContextFree {
  void operator()(llama_context* c) const { llama_free(c); }
};
using ModelPtr = std::unique_ptr<llama_model, ModelFree>;
using ContextPtr = std::unique_ptr<llama_context, ContextFree>;

// no_repack loads weights as stored, without llama.cpp's extra buffer types (on AMX CPUs, the
// repacking for its AMX kernels); llama-server's equivalent is --no-repack.
ModelPtr load(const std::string& path, bool no_repack = false) {
  rerank::ensure_llama_backend();
  llama_model_params p = llama_model_default_params();
  p.use_extra_bufts = !no_repack;
  ModelPtr m(llama_model_load_from_file(path.c_str(), p));
  EXPECT_NE(m, nullptr) << "llama.cpp refused " << path;
  return m;
}

ContextPtr make_context(llama_model* m, bool embeddings, enum llama_pooling_type pooling, int n_seq) {
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 512;
  cp.n_batch = cp.n_ubatch = 512;
  cp.n_seq_max = static_cast<std::uint32_t>(n_seq);
  cp.n_threads = cp.n_threads_batch = 2;
  cp.embeddings = embeddings;
  cp.pooling_type = pooling;
  ContextPtr c(llama_init_from_model(m, cp));
  EXPECT_NE(c, nullptr);
  return c;
}

std::vector<llama_token> tokenize(const llama_model* m, const std::string& text, bool special) {
  const llama_vocab* v = llama_model_get_vocab(m);
  std::vector<llama_token> ids(text.size() + 16);
  const int n =
      llama_tokenize(v, text.data(), int(text.size()), ids.data(), int(ids.size()), special, special);
  EXPECT_GT(n, 0);
  ids.resize(std::size_t(std::max(n, 0)));
  return ids;
}

// Puts each token list in its own sequence of one batch, outputs at every token.
void run_batch(llama_context* c, const std::vector<std::vector<llama_token>>& seqs, bool encoder) {
  std::size_t total = 0;
  for (const auto& s : seqs) total += s.size();
  llama_batch b = llama_batch_init(int(total), 0, 1);
  for (std::size_t s = 0; s < seqs.size(); ++s)
    for (std::size_t i = 0; i < seqs[s].size(); ++i) {
      const int k = b.n_tokens++;
      b.token[k] = seqs[s][i];
      b.pos[k] = llama_pos(i);
      b.n_seq_id[k] = 1;
      b.seq_id[k][0] = llama_seq_id(s);
      b.logits[k] = i + 1 == seqs[s].size();
    }
  const int rc = encoder ? llama_encode(c, b) : llama_decode(c, b);
  llama_batch_free(b);
  ASSERT_EQ(rc, 0);
}

std::vector<llama_token> bert_pair(const llama_model* m, const std::string& q, const std::string& d) {
  // [CLS] query [SEP] document [SEP], the cross-encoder input
  auto ids = tokenize(m, q, true);
  auto doc = tokenize(m, d, false);
  ids.insert(ids.end(), doc.begin(), doc.end());
  ids.push_back(llama_vocab_sep(llama_model_get_vocab(m)));
  return ids;
}

std::vector<float> bert_scores(const std::string& path, bool no_repack = false) {
  auto m = load(path, no_repack);
  if (!m) return {};
  auto c = make_context(m.get(), true, LLAMA_POOLING_TYPE_RANK, 2);
  run_batch(c.get(),
            {bert_pair(m.get(), "what do cats eat", "Cats are obligate carnivores and eat meat."),
             bert_pair(m.get(), "what do cats eat", "The stock market fell sharply on Monday.")},
            true);
  std::vector<float> out;
  for (int s = 0; s < 2; ++s) {
    const float* e = llama_get_embeddings_seq(c.get(), s);
    EXPECT_NE(e, nullptr);
    out.push_back(e ? e[0] : NAN);
  }
  return out;
}

std::string meta(const llama_model* m, const char* key) {
  char buf[512] = {0};
  return llama_model_meta_val_str(m, key, buf, sizeof buf) >= 0 ? buf : "<missing>";
}

TEST(TestModels, TinyBertCrossEncoderLoadsAndScoresInLlamaCpp) {
  const auto path = generate(spec_of(TestModelArch::Bert, TestModelShape::Tiny), "bert-tiny.gguf");
  auto m = load(path);
  ASSERT_TRUE(m);
  EXPECT_EQ(llama_model_n_layer(m.get()), 2);
  EXPECT_EQ(llama_model_n_embd(m.get()), 64);
  EXPECT_EQ(llama_model_n_head(m.get()), 4);
  EXPECT_EQ(llama_model_n_ctx_train(m.get()), 512);
  EXPECT_EQ(llama_model_n_cls_out(m.get()), 1u);
  EXPECT_STREQ(llama_model_cls_label(m.get(), 0), "LABEL_0");
  EXPECT_EQ(llama_vocab_n_tokens(llama_model_get_vocab(m.get())), 30522);
  EXPECT_EQ(meta(m.get(), "bert.pooling_type"), "4");
  EXPECT_EQ(meta(m.get(), "general.architecture"), "bert");
  m.reset();

  const auto scores = bert_scores(path);
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_TRUE(std::isfinite(scores[0]) && std::isfinite(scores[1]));
  EXPECT_NE(scores[0], scores[1]) << "the document must change the score";
  EXPECT_EQ(bert_scores(path), scores) << "same file, same inputs: same scores";
}

TEST(TestModels, MiniLmShapeHasRealDimensionsAndRuns) {
  const auto path = generate(spec_of(TestModelArch::Bert, TestModelShape::MiniLmL6), "bert-minilm.gguf");
  auto m = load(path);
  ASSERT_TRUE(m);
  EXPECT_EQ(llama_model_n_layer(m.get()), 6);
  EXPECT_EQ(llama_model_n_embd(m.get()), 384);
  EXPECT_EQ(llama_model_n_head(m.get()), 12);
  EXPECT_EQ(llama_model_n_params(m.get()), 22713601u);  // as cross-encoder/ms-marco-MiniLM-L6-v2
  m.reset();
  const auto scores = bert_scores(path);
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_TRUE(std::isfinite(scores[0]) && std::isfinite(scores[1]));
  EXPECT_NE(scores[0], scores[1]);
}

// P(yes) over {yes, no} from the decoder's logits at the last prompt token.
float p_yes_from_logits(const float* logits, llama_token yes, llama_token no) {
  const double y = logits[yes], n = logits[no], mx = std::max(y, n);
  return float(std::exp(y - mx) / (std::exp(y - mx) + std::exp(n - mx)));
}

std::string rerank_prompt(const std::string& q, const std::string& d) {
  std::string p = rerank::qwen3_reranker_template();
  p.replace(p.find("{query}"), 7, q);
  p.replace(p.find("{document}"), 10, d);
  return p;
}

TEST(TestModels, TinyQwen3DecoderLoadsAndGivesFiniteLogits) {
  const auto path = generate(spec_of(TestModelArch::Qwen3, TestModelShape::Tiny), "qwen3-tiny.gguf");
  auto m = load(path);
  ASSERT_TRUE(m);
  EXPECT_EQ(llama_model_n_layer(m.get()), 2);
  EXPECT_EQ(llama_model_n_embd(m.get()), 64);
  EXPECT_EQ(llama_model_n_head(m.get()), 4);
  EXPECT_EQ(llama_model_n_head_kv(m.get()), 2);
  EXPECT_EQ(llama_model_n_ctx_train(m.get()), 40960);
  EXPECT_EQ(meta(m.get(), "general.architecture"), "qwen3");
  EXPECT_EQ(meta(m.get(), "qwen3.pooling_type"), "<missing>") << "no reranker head unless asked";
  const llama_vocab* v = llama_model_get_vocab(m.get());
  EXPECT_EQ(llama_vocab_n_tokens(v), 151936);
  ASSERT_NE(llama_model_chat_template(m.get(), "rerank"), nullptr);
  EXPECT_EQ(llama_model_chat_template(m.get(), "rerank"), rerank::qwen3_reranker_template());

  auto c = make_context(m.get(), false, LLAMA_POOLING_TYPE_NONE, 1);
  const auto prompt = tokenize(m.get(), rerank_prompt("what do cats eat", "Cats eat meat."), true);
  EXPECT_EQ(prompt.front(), 151644) << "<|im_start|> must be parsed as its special token";
  run_batch(c.get(), {prompt}, false);
  const float* logits = llama_get_logits_ith(c.get(), -1);
  ASSERT_NE(logits, nullptr);
  for (int i = 0; i < llama_vocab_n_tokens(v); ++i) ASSERT_TRUE(std::isfinite(logits[i])) << "logit " << i;
}

TEST(TestModels, Qwen3RerankHeadEqualsYesNoSoftmaxOfTheLmHead) {
  const auto path = generate(spec_of(TestModelArch::Qwen3, TestModelShape::Tiny, 7, TestModelType::F16, true),
                             "qwen3-tiny-head.gguf");
  auto m = load(path);
  ASSERT_TRUE(m);
  ASSERT_EQ(llama_model_n_cls_out(m.get()), 2u);
  EXPECT_STREQ(llama_model_cls_label(m.get(), 0), "yes");
  EXPECT_STREQ(llama_model_cls_label(m.get(), 1), "no");
  const auto yes = tokenize(m.get(), "yes", false), no = tokenize(m.get(), "no", false);
  ASSERT_EQ(yes.size(), 1u);
  ASSERT_EQ(no.size(), 1u);

  const std::vector<std::vector<llama_token>> prompts = {
      tokenize(m.get(), rerank_prompt("what do cats eat", "Cats eat meat."), true),
      tokenize(m.get(), rerank_prompt("what do cats eat", "Stocks fell on Monday."), true)};
  // llama-server's path: rank pooling through cls.output, softmax over {yes, no}.
  auto rank = make_context(m.get(), true, LLAMA_POOLING_TYPE_RANK, 2);
  run_batch(rank.get(), prompts, false);
  // A decoder runtime's path: the LM head's logits, softmax over the yes/no entries.
  for (std::size_t s = 0; s < prompts.size(); ++s) {
    const float* pooled = llama_get_embeddings_seq(rank.get(), llama_seq_id(s));
    ASSERT_NE(pooled, nullptr);
    EXPECT_NEAR(pooled[0] + pooled[1], 1.0f, 1e-6);
    auto lm = make_context(m.get(), false, LLAMA_POOLING_TYPE_NONE, 1);
    run_batch(lm.get(), {prompts[s]}, false);
    // Same weights, two code paths: the head's two rows against the whole LM head (different matmul
    // kernels, activations rounded to F16 for the F16 weights), and two sequences in one pass against
    // one (flash attention's F16 tiles laid out differently). Measured: 1.32e-4 on an AMD Zen 5 (AVX-512,
    // no AMX), under 1e-4 on an Intel Xeon with AMX; 5e-4 leaves room for other CPUs' kernels and is
    // still 100x below what a swapped yes/no row or a wrong token would move P(yes) by.
    EXPECT_NEAR(pooled[0], p_yes_from_logits(llama_get_logits_ith(lm.get(), -1), yes[0], no[0]), 5e-4)
        << "document " << s;
  }
  EXPECT_NE(llama_get_embeddings_seq(rank.get(), 0)[0], llama_get_embeddings_seq(rank.get(), 1)[0]);
}

std::vector<ggml_type> tensor_types(const std::string& path, const std::vector<std::string>& names) {
  gguf_init_params p{true, nullptr};
  gguf_context* g = gguf_init_from_file(path.c_str(), p);
  EXPECT_NE(g, nullptr);
  std::vector<ggml_type> out;
  for (const auto& n : names) {
    const auto id = gguf_find_tensor(g, n.c_str());
    out.push_back(id < 0 ? GGML_TYPE_COUNT : gguf_get_tensor_type(g, id));
  }
  gguf_free(g);
  return out;
}

TEST(TestModels, Q8_0AndF32VariantsLoadAndRun) {
  for (auto type : {TestModelType::Q8_0, TestModelType::F32}) {
    const auto name = "bert-tiny-" + rerank::to_string(type) + ".gguf";
    const auto path = generate(spec_of(TestModelArch::Bert, TestModelShape::Tiny, 7, type), name);
    const ggml_type mat = type == TestModelType::Q8_0 ? GGML_TYPE_Q8_0 : GGML_TYPE_F32;
    EXPECT_EQ(tensor_types(path, {"blk.0.attn_q.weight", "token_embd.weight", "token_types.weight"}),
              (std::vector<ggml_type>{mat, mat, GGML_TYPE_F32}))
        << name;
    const auto scores = bert_scores(path, /*no_repack=*/true);
    ASSERT_EQ(scores.size(), 2u);
    EXPECT_TRUE(std::isfinite(scores[0]) && std::isfinite(scores[1])) << name;
  }
  const auto path =
      generate(spec_of(TestModelArch::Qwen3, TestModelShape::Tiny, 7, TestModelType::Q8_0, true),
               "qwen3-tiny-q8.gguf");
  EXPECT_EQ(tensor_types(path, {"blk.1.ffn_down.weight", "cls.output.weight", "output_norm.weight"}),
            (std::vector<ggml_type>{GGML_TYPE_Q8_0, GGML_TYPE_Q8_0, GGML_TYPE_F32}));
  auto m = load(path, /*no_repack=*/true);
  ASSERT_TRUE(m);
  auto c = make_context(m.get(), true, LLAMA_POOLING_TYPE_RANK, 1);
  run_batch(c.get(), {tokenize(m.get(), rerank_prompt("q", "d"), true)}, false);
  const float* pooled = llama_get_embeddings_seq(c.get(), 0);
  ASSERT_NE(pooled, nullptr);
  EXPECT_TRUE(pooled[0] > 0.0f && pooled[0] < 1.0f);
}

// On AMX CPUs llama.cpp repacks Q8_0 weights for its AMX kernels, which GCC 12 miscompiles (every
// AMX matmul faults, ggml-org/llama.cpp#20824) unless scripts/bootstrap.sh's header fix was applied.
// Where the CPU has no AMX, both loads below take the same path and the test still holds.
TEST(TestModels, Q8_0RepackedForAmxScoresLikeStoredWeights) {
#ifndef RERANK_LLAMA_AMX_SAFE
  GTEST_SKIP() << "llama.cpp was not built by scripts/bootstrap.sh (no amx-safe marker in LLAMA_PREFIX)";
#endif
  const auto bert = generate(spec_of(TestModelArch::Bert, TestModelShape::Tiny, 7, TestModelType::Q8_0),
                             "bert-tiny-q8-amx.gguf");
  const auto stored = bert_scores(bert, /*no_repack=*/true);
  const auto repacked = bert_scores(bert, /*no_repack=*/false);
  ASSERT_EQ(stored.size(), 2u);
  ASSERT_EQ(repacked.size(), 2u);
  EXPECT_NE(stored[0], stored[1]);
  // AMX repacks Q8_0 weights and quantizes activations per 32-block in its own order: measured
  // 3e-3 apart on Qwen3-0.6B scores and under 1e-3 on these tiny models (Xeon with AMX); identical on
  // CPUs without AMX, where repacking does not apply.
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(repacked[i], stored[i], 1e-3) << "bert pair " << i;

  const auto qwen =
      generate(spec_of(TestModelArch::Qwen3, TestModelShape::Tiny, 7, TestModelType::Q8_0, true),
               "qwen3-tiny-q8-amx.gguf");
  std::vector<float> out[2];
  for (bool no_repack : {true, false}) {
    auto m = load(qwen, no_repack);
    ASSERT_TRUE(m);
    auto c = make_context(m.get(), true, LLAMA_POOLING_TYPE_RANK, 2);
    run_batch(c.get(),
              {tokenize(m.get(), rerank_prompt("what do cats eat", "Cats eat meat."), true),
               tokenize(m.get(), rerank_prompt("what do cats eat", "Stocks fell on Monday."), true)},
              false);
    for (int s = 0; s < 2; ++s) {
      const float* e = llama_get_embeddings_seq(c.get(), s);
      ASSERT_NE(e, nullptr);
      out[no_repack ? 0 : 1].push_back(e[0]);
    }
  }
  EXPECT_NE(out[0][0], out[0][1]);
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(out[1][i], out[0][i], 1e-3) << "qwen3 prompt " << i;
}

TEST(TestModels, SameSeedSameBytesOtherSeedOtherWeights) {
  for (auto arch : {TestModelArch::Bert, TestModelArch::Qwen3}) {
    const auto a = slurp(generate(spec_of(arch, TestModelShape::Tiny, 11), "det-a.gguf"));
    const auto b = slurp(generate(spec_of(arch, TestModelShape::Tiny, 11), "det-b.gguf"));
    const auto c = slurp(generate(spec_of(arch, TestModelShape::Tiny, 12), "det-c.gguf"));
    ASSERT_GT(a.size(), 1000000u);
    EXPECT_TRUE(a == b) << rerank::to_string(arch) << ": same seed must give identical bytes";
    ASSERT_EQ(a.size(), c.size());
    EXPECT_FALSE(a == c) << rerank::to_string(arch) << ": another seed must change the weights";
  }
  EXPECT_FALSE(fs::exists(model_dir() + "/det-a.gguf.tmp"));
}

void expect_error(const TestModelSpec& spec, const std::string& message) {
  const std::string path = model_dir() + "/bad.gguf";
  fs::remove(path);
  try {
    rerank::write_test_model(spec, path);
    ADD_FAILURE() << "expected error: " << message;
  } catch (const rerank::Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(TestModels, BadSpecsAreClearErrors) {
  expect_error(spec_of(TestModelArch::Qwen3, TestModelShape::MiniLmL6),
               "shape minilm-l6 is not a qwen3 shape (use tiny or qwen3-0.6b)");
  expect_error(spec_of(TestModelArch::Bert, TestModelShape::Qwen3_0_6B),
               "shape qwen3-0.6b is not a bert shape (use tiny or minilm-l6)");
  expect_error(spec_of(TestModelArch::Bert, TestModelShape::Tiny, 1, TestModelType::F16, true),
               "a rerank head is for qwen3 models (bert models always have their classification head)");
  auto missing = spec_of(TestModelArch::Bert, TestModelShape::Tiny);
  missing.vocab_path = "/nonexistent/vocab.gguf";
  expect_error(missing, "/nonexistent/vocab.gguf: no such vocabulary file");
  auto wrong = spec_of(TestModelArch::Bert, TestModelShape::Tiny);
  wrong.vocab_path = rerank::default_vocab_path(TestModelArch::Qwen3);
  expect_error(wrong, wrong.vocab_path + ": tokenizer is 'gpt2', this architecture needs 'bert'");
  EXPECT_THROW(rerank::parse_test_model_shape("huge"), rerank::Error);
  EXPECT_EQ(rerank::parse_test_model_type("q8_0"), TestModelType::Q8_0);
}

// The full Qwen3-0.6B file is 1.2 GB: generated by bench/neural_bench.sh, here only on request.
TEST(TestModels, FullQwen3Shape) {
  if (!std::getenv("RERANK_FULL_SHAPE_TESTS"))
    GTEST_SKIP() << "set RERANK_FULL_SHAPE_TESTS=1 (writes 1.2 GB)";
  const auto path =
      generate(spec_of(TestModelArch::Qwen3, TestModelShape::Qwen3_0_6B, 1, TestModelType::F16, true),
               "qwen3-0.6b.gguf");
  auto m = load(path);
  ASSERT_TRUE(m);
  EXPECT_EQ(llama_model_n_layer(m.get()), 28);
  EXPECT_EQ(llama_model_n_embd(m.get()), 1024);
  auto c = make_context(m.get(), true, LLAMA_POOLING_TYPE_RANK, 1);
  run_batch(c.get(), {tokenize(m.get(), rerank_prompt("q", "d"), true)}, false);
  const float* pooled = llama_get_embeddings_seq(c.get(), 0);
  ASSERT_NE(pooled, nullptr);
  EXPECT_TRUE(std::isfinite(pooled[0]));
  m.reset();
  fs::remove(path);
}

}  // namespace
