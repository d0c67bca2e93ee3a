// The neural runtime on tiny generated models: loading and classification, clear errors for bad
// files, cross-encoder scores and decoder logits equal to a plain single-sequence llama.cpp decode,
// batching that never changes a score (batch invariance), determinism, prefix KV reuse equality,
// cost accounting, and grammar-constrained generation.
#include <gguf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <llama.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "error_message.h"
#include "model/exact_gelu.h"
#include "model/llama_session.h"
#include "model/packing.h"
#include "rerank/chat_format.h"
#include "rerank/cross_encoder.h"
#include "rerank/error.h"
#include "rerank/language_model.h"
#include "rerank/model.h"
#include "tiny_embedding_model.h"
#include "tiny_models.h"

namespace {

using rerank::TokenIds;
using rerank::test::Tiny;
using rerank::test::tiny_model;
namespace fs = std::filesystem;

using rerank::test::error_of;

std::string scratch(const std::string& name) {
  const fs::path dir = fs::path(RERANK_TEST_TMP) / "runtime_bad";
  fs::create_directories(dir);
  return (dir / (std::to_string(::getpid()) + "-" + name)).string();
}

// Reference: one sequence alone in a fresh llama.cpp context with plain llama.cpp calls, no
// packing, no reuse; attention and padding as the runtime's (see kInvariantBatchTokens in
// src/model/llama_session.h), and for BERT the runtime's exact GELU (src/model/exact_gelu.h, whose
// own correctness the parity checks against PyTorch show).
llama_context* reference_decode(const rerank::Model& model, const TokenIds& tokens, bool embeddings,
                                bool exact_gelu = true) {
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = cp.n_batch = cp.n_ubatch = 512;
  cp.n_seq_max = 2;
  cp.kv_unified = true;
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_AUTO;  // as the runtime (see RuntimeOptions)
  cp.embeddings = embeddings;
  cp.pooling_type = embeddings ? LLAMA_POOLING_TYPE_RANK : LLAMA_POOLING_TYPE_NONE;
  cp.n_threads = cp.n_threads_batch = 1;
  if (exact_gelu && model.info().arch == "bert") {
    cp.cb_eval = rerank::detail::exact_gelu_callback;
    cp.cb_eval_user_data = rerank::detail::exact_gelu_user_data(model.info().n_ff);
  }
  llama_context* ctx = llama_init_from_model(rerank::raw_llama_model(model), cp);
  llama_batch batch = llama_batch_init(512, 0, 1);
  auto add = [&](llama_token t, llama_pos pos, llama_seq_id seq, bool out) {
    const int i = batch.n_tokens++;
    batch.token[i] = t, batch.pos[i] = pos, batch.n_seq_id[i] = 1, batch.seq_id[i][0] = seq,
    batch.logits[i] = out;
  };
  for (std::size_t i = 0; i < tokens.size(); ++i)
    add(tokens[i], static_cast<llama_pos>(i), 0, i + 1 == tokens.size());
  for (llama_pos p = 0; batch.n_tokens < 64; ++p) add(tokens[0], p, 1, false);
  EXPECT_EQ(llama_decode(ctx, batch), 0);
  llama_batch_free(batch);
  return ctx;
}

float reference_rank_score(const rerank::Model& model, const TokenIds& tokens, bool exact_gelu = true) {
  llama_context* ctx = reference_decode(model, tokens, true, exact_gelu);
  const float score = llama_get_embeddings_seq(ctx, 0)[0];
  llama_free(ctx);
  return score;
}

std::vector<float> reference_logits(const rerank::Model& model, const TokenIds& tokens,
                                    const TokenIds& wanted) {
  llama_context* ctx = reference_decode(model, tokens, false);
  const float* logits = llama_get_logits_ith(ctx, static_cast<int32_t>(tokens.size()) - 1);
  std::vector<float> out;
  for (auto t : wanted) out.push_back(logits[t]);
  llama_free(ctx);
  return out;
}

TokenIds words(const rerank::Model& m, const std::string& text) {
  return m.tokenizer().tokenize(text, true, false);
}

const std::vector<std::string> kTexts = {
    "what is the capital of france",
    "paris is the capital and most populous city of france",
    "the eiffel tower",
    "bananas are rich in potassium and grow in tropical climates around the world",
    "a",
    "neural rankers score query document pairs with a cross attention model over both texts at once",
    "france",
};

TEST(ModelLoad, TinyBertIsACrossEncoder) {
  const auto m = rerank::Model::load(tiny_model(Tiny::Bert));
  const auto& info = m->info();
  EXPECT_EQ(info.arch, "bert");
  EXPECT_EQ(info.kind, rerank::ModelKind::CrossEncoder);
  EXPECT_FALSE(info.causal);
  EXPECT_TRUE(info.rank_head);
  EXPECT_EQ(info.n_layer, 2);
  EXPECT_EQ(info.n_embd, 64);
  EXPECT_EQ(info.n_ctx_train, 512);
  EXPECT_EQ(info.class_labels, std::vector<std::string>{"LABEL_0"});
  EXPECT_EQ(info.rerank_template, "");
}

// Model::load reads the vocabulary only; llama.cpp loads the weights when a runtime on it first asks,
// and the parameter count read from the file's tensor table is llama.cpp's own.
TEST(ModelLoad, WeightsLoadOnFirstUseAndTheParameterCountIsLlamaCpps) {
  for (Tiny which : {Tiny::Bert, Tiny::Qwen3WithHead}) {
    const auto m = rerank::Model::load(tiny_model(which));
    EXPECT_GT(m->info().n_params, 0u);
    llama_model* weights = rerank::raw_llama_model(*m);
    const auto& info = m->info();
    EXPECT_EQ(info.n_params, llama_model_n_params(weights)) << info.arch;
    // The hyperparameters read from the metadata are the ones llama.cpp loads with the weights.
    EXPECT_EQ(info.n_ctx_train, llama_model_n_ctx_train(weights));
    EXPECT_EQ(info.n_embd, llama_model_n_embd(weights));
    EXPECT_EQ(info.n_layer, llama_model_n_layer(weights));
    EXPECT_EQ(info.n_head, llama_model_n_head(weights));
    EXPECT_EQ(info.n_head_kv, llama_model_n_head_kv(weights));
    ASSERT_EQ(info.class_labels.size(), llama_model_n_cls_out(weights));
    for (std::uint32_t i = 0; i < llama_model_n_cls_out(weights); ++i) {
      const char* label = llama_model_cls_label(weights, i);
      EXPECT_EQ(info.class_labels[i], label ? label : "");
    }
    EXPECT_EQ(rerank::raw_llama_model(*m), weights) << "loaded once";
  }
}

TEST(ModelLoad, TinyQwen3IsADecoderWithItsRerankTemplate) {
  for (Tiny which : {Tiny::Qwen3, Tiny::Qwen3WithHead}) {
    const auto m = rerank::Model::load(tiny_model(which));
    const auto& info = m->info();
    EXPECT_EQ(info.arch, "qwen3");
    EXPECT_EQ(info.kind, rerank::ModelKind::DecoderLM);
    EXPECT_TRUE(info.causal);
    EXPECT_EQ(info.rank_head, which == Tiny::Qwen3WithHead);
    EXPECT_EQ(info.head_dim, 32);
    EXPECT_EQ(info.n_head_kv, 2);
    EXPECT_EQ(info.rerank_template, rerank::qwen3_reranker_template());
  }
}

TEST(ModelLoad, BadFilesAreClearErrors) {
  EXPECT_EQ(error_of([] { rerank::Model::load("/nonexistent/m.gguf"); }),
            "/nonexistent/m.gguf: no such model file");
  const std::string dir = scratch("dir.gguf");
  fs::create_directories(dir);
  EXPECT_EQ(error_of([&] { rerank::Model::load(dir); }), dir + ": not a regular file");
  const std::string text = scratch("text.gguf");
  std::ofstream(text) << "this is a text file, not a model\n";
  EXPECT_EQ(error_of([&] { rerank::Model::load(text); }),
            text + ": not a GGUF file (no GGUF magic at the start)");
  const std::string empty = scratch("empty.gguf");
  std::ofstream{empty};
  EXPECT_EQ(error_of([&] { rerank::Model::load(empty); }),
            empty + ": not a GGUF file (no GGUF magic at the start)");
  const std::string garbage = scratch("garbage.gguf");
  std::ofstream(garbage, std::ios::binary) << "GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff junk";
  EXPECT_EQ(error_of([&] { rerank::Model::load(garbage); }),
            garbage + ": corrupt GGUF file (header, metadata or tensor table does not parse)");
  // A real model cut in half: header fine, tensor data missing.
  const std::string truncated = scratch("truncated.gguf");
  fs::copy_file(tiny_model(Tiny::Bert), truncated, fs::copy_options::overwrite_existing);
  const auto full = fs::file_size(truncated);
  fs::resize_file(truncated, full / 2);
  EXPECT_THAT(
      error_of([&] { rerank::Model::load(truncated); }),
      ::testing::MatchesRegex(".*: truncated GGUF file \\(tensor data needs [0-9]+ bytes, the file has " +
                              std::to_string(full / 2) + "\\)"));
}

TEST(ModelLoad, UnsupportedArchitecturesAreClearErrors) {
  // A well-formed GGUF whose architecture llama.cpp does not know.
  const std::string path = scratch("unknown-arch.gguf");
  gguf_context* g = gguf_init_empty();
  gguf_set_val_str(g, "general.architecture", "nonesuch");
  ASSERT_TRUE(gguf_write_to_file(g, path.c_str(), false));
  gguf_free(g);
  EXPECT_EQ(
      error_of([&] { rerank::Model::load(path); }),
      path +
          ": llama.cpp could not load the model (unsupported architecture, inconsistent tensors, or NaN "
          "or infinite weights; set RERANK_LLAMA_LOG=1 for llama.cpp's reason)");
  // A GGUF that is not a model at all (no architecture), e.g. a bare tensor file.
  const std::string bare = scratch("bare.gguf");
  g = gguf_init_empty();
  gguf_set_val_str(g, "general.name", "just data");
  ASSERT_TRUE(gguf_write_to_file(g, bare.c_str(), false));
  gguf_free(g);
  EXPECT_EQ(error_of([&] { rerank::Model::load(bare); }),
            bare + ": GGUF file without general.architecture (not a model)");
}

TEST(ModelLoad, BidirectionalModelsWithoutAHeadAreEmbeddingModels) {
  const auto m = rerank::Model::load(rerank::test::tiny_embedding_model());
  EXPECT_EQ(m->info().kind, rerank::ModelKind::Embedding);
  EXPECT_EQ(m->info().pooling_type, LLAMA_POOLING_TYPE_MEAN);
  EXPECT_FALSE(m->info().rank_head);
  EXPECT_THAT(error_of([&] { rerank::CrossEncoder ce(m, {}); }),
              ::testing::EndsWith("not a cross-encoder (model kind: embedding model)"));
}

TEST(ModelLoad, RuntimesRejectTheWrongKindOfModel) {
  const auto bert = rerank::Model::load(tiny_model(Tiny::Bert));
  const auto qwen = rerank::Model::load(tiny_model(Tiny::Qwen3));
  EXPECT_THAT(error_of([&] { rerank::LanguageModel lm(bert, {}); }),
              ::testing::HasSubstr("not a decoder language model"));
  EXPECT_THAT(error_of([&] { rerank::CrossEncoder ce(qwen, {}); }),
              ::testing::HasSubstr("not a cross-encoder"));
}

TEST(PackByLength, SortsByLengthAndRespectsBothLimits) {
  // lengths: idx0=5 idx1=1 idx2=3 idx3=3 idx4=9 idx5=2
  const auto packs = rerank::detail::pack_by_length({5, 1, 3, 3, 9, 2}, 8, 3);
  const std::vector<std::vector<std::size_t>> expected = {{1, 5, 2}, {3, 0}, {4}};
  EXPECT_EQ(packs, expected);
  EXPECT_TRUE(rerank::detail::pack_by_length({}, 8, 3).empty());
}

TEST(CrossEncoder, ScoresEqualASingleSequenceDecodeWhateverTheBatch) {
  const auto model = rerank::Model::load(tiny_model(Tiny::Bert));
  std::vector<TokenIds> seqs;
  for (const auto& t : kTexts) seqs.push_back(words(*model, t));
  rerank::RuntimeOptions opt;
  opt.batch_tokens = 192;  // several packs: each sequence takes an aligned 64-token slot
  opt.max_sequences = 2;
  opt.threads = 2;
  opt.encoder_runtime = rerank::RuntimeOptions::EncoderRuntime::Llama;
  rerank::CrossEncoder encoder(model, opt);
  rerank::RerankCost cost;
  const auto batched = encoder.score(seqs, &cost);
  ASSERT_EQ(batched.size(), seqs.size());
  std::size_t tokens = 0;
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    tokens += seqs[i].size();
    if (i < 3) {
      // Same tiles, same kernels: bit-identical on both CPUs measured (Zen 5, Xeon with AMX); 1e-5 is
      // the batch-invariance requirement.
      EXPECT_NEAR(batched[i], reference_rank_score(*model, seqs[i]), 1e-5) << kTexts[i];
    }
    // Alone in its own batch: bit for bit the same score (batch invariance).
    EXPECT_EQ(encoder.score({seqs[i]})[0], batched[i]) << kTexts[i];
  }
  EXPECT_EQ(cost.prompt_tokens, tokens);
  EXPECT_EQ(cost.forward_passes, 4u);  // 7 sequences, at most 2 per pass
  EXPECT_GT(cost.flops, 2.0 * tokens * 1e5);
  // Different inputs, different outputs (the head really reads the sequence).
  EXPECT_NE(batched[0], batched[1]);
  // Determinism: the same request gives bit-identical scores.
  EXPECT_EQ(encoder.score(seqs), batched);
  // Order of the request does not matter either.
  std::vector<TokenIds> reversed(seqs.rbegin(), seqs.rend());
  const auto rev = encoder.score(reversed);
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(rev[seqs.size() - 1 - i], batched[i]);
}

TEST(CrossEncoder, ASequenceAloneInItsPassScoresAsInASharedPass) {
  // Sequences shorter than one 64-token slot share passes in aligned, padded slots; a longer one
  // runs alone and unpadded. Either way a sequence scores the same bits alone as in any batch.
  const auto model = rerank::Model::load(tiny_model(Tiny::Bert));
  std::vector<TokenIds> seqs;
  for (std::size_t n : {70u, 20u, 64u, 130u, 50u, 63u}) {
    TokenIds s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<std::int32_t>(1000 + (i * 37 + n) % 5000));
    seqs.push_back(s);
  }
  rerank::RuntimeOptions shared;
  shared.batch_tokens = 256;
  shared.threads = 2;
  shared.encoder_runtime = rerank::RuntimeOptions::EncoderRuntime::Llama;
  rerank::CrossEncoder together(model, shared);
  rerank::RerankCost cost;
  const auto batched = together.score(seqs, &cost);
  EXPECT_EQ(cost.forward_passes, 4u);  // {20, 50, 63} in three 64-token slots, then 64, 70, 130 alone
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    const float alone = together.score({seqs[i]})[0];
    EXPECT_EQ(alone, batched[i]) << "sequence " << i;
    EXPECT_NEAR(alone, reference_rank_score(*model, seqs[i]), 1e-5) << "sequence " << i;
  }
}

TEST(CrossEncoder, WorkersInParallelScoreTheSameBits) {
  const auto model = rerank::Model::load(tiny_model(Tiny::Bert));
  std::vector<TokenIds> seqs;
  for (const auto& t : kTexts) seqs.push_back(words(*model, t));
  for (std::size_t n : {90u, 64u, 150u, 33u, 200u}) {
    TokenIds s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<std::int32_t>(2000 + (i * 53 + n) % 7000));
    seqs.push_back(s);
  }
  rerank::RuntimeOptions one, two;
  one.threads = two.threads = 2;
  one.encoder_runtime = two.encoder_runtime = rerank::RuntimeOptions::EncoderRuntime::Llama;
  two.workers = 2;
  rerank::CrossEncoder serial(model, one), parallel(model, two);
  rerank::RerankCost serial_cost, parallel_cost;
  const auto expected = serial.score(seqs, &serial_cost);
  for (int round = 0; round < 3; ++round) {
    rerank::RerankCost c;
    EXPECT_EQ(parallel.score(seqs, &c), expected) << "round " << round;
    if (round == 0) parallel_cost = c;
  }
  EXPECT_EQ(parallel_cost.forward_passes, serial_cost.forward_passes);
  EXPECT_EQ(parallel_cost.prompt_tokens, serial_cost.prompt_tokens);
  EXPECT_EQ(parallel_cost.flops, serial_cost.flops);
}

TEST(CrossEncoder, ExactGeluReplacesLlamaCppsTableAndCanBeTurnedOff) {
  const auto model = rerank::Model::load(tiny_model(Tiny::Bert));
  ASSERT_GT(model->info().n_ff, 0);
  const TokenIds seq = words(*model, kTexts[3]);
  rerank::RuntimeOptions opt;
  opt.threads = 1;
  opt.encoder_runtime = rerank::RuntimeOptions::EncoderRuntime::Llama;
  const float exact = rerank::CrossEncoder(model, opt).score({seq})[0];
  opt.exact_gelu = false;
  const float table = rerank::CrossEncoder(model, opt).score({seq})[0];
  EXPECT_NEAR(table, reference_rank_score(*model, seq, /*exact_gelu=*/false), 1e-5);
  EXPECT_NEAR(exact, reference_rank_score(*model, seq, /*exact_gelu=*/true), 1e-5);
  // The table's error on this random model (about 1e-4 relative on its hidden states) is visible.
  EXPECT_GT(std::abs(exact - table), 2e-5);
}

TEST(CrossEncoder, RejectsEmptyAndOverlongSequences) {
  const auto model = rerank::Model::load(tiny_model(Tiny::Bert));
  rerank::RuntimeOptions opt;
  opt.batch_tokens = 16;  // raised to the 64-token minimum pass
  opt.encoder_runtime = rerank::RuntimeOptions::EncoderRuntime::Llama;
  rerank::CrossEncoder encoder(model, opt);
  EXPECT_EQ(encoder.max_sequence_tokens(), 64);
  EXPECT_EQ(error_of([&] { encoder.score({TokenIds{}}); }),
            "cross-encoder: cannot score an empty token sequence");
  EXPECT_EQ(error_of([&] { encoder.score({TokenIds(65, 1000)}); }),
            "cross-encoder: sequence of 65 tokens exceeds the limit of 64 (truncate or chunk the document)");
  EXPECT_TRUE(encoder.score({}).empty());
}

TEST(PromptGroups, CommonPrefixSplit) {
  const auto g = rerank::group_by_common_prefix({{1, 2, 3, 4}, {1, 2, 5}, {1, 2}});
  EXPECT_EQ(g.prefix, (TokenIds{1, 2}));
  EXPECT_EQ(g.continuations, (std::vector<TokenIds>{{3, 4}, {5}, {}}));
  EXPECT_TRUE(rerank::group_by_common_prefix({}).continuations.empty());
}

std::shared_ptr<const rerank::Model> shared_model(Tiny which) {
  static std::map<Tiny, std::shared_ptr<const rerank::Model>> loaded;  // loading a vocabulary takes a while
  auto& m = loaded[which];
  if (!m) m = rerank::Model::load(tiny_model(which));
  return m;
}

struct DecoderFixture : ::testing::Test {
  std::shared_ptr<const rerank::Model> model = shared_model(Tiny::Qwen3);
  TokenIds answers = {model->tokenizer().single_token("yes"), model->tokenizer().single_token("no")};
  std::vector<TokenIds> prompts() const {
    std::vector<TokenIds> out;
    const auto prefix = model->tokenizer().tokenize(
        "<|im_start|>system\nJudge whether the document answers the query. Read the query, then the "
        "document, and answer yes when the document states the answer, no when it does not or when it "
        "only mentions the words of the query, without saying what the query asks "
        "for.<|im_end|>\n<|im_start|>user\n<Query>: capital of france\n<Document>:",
        false, true);
    for (const auto& t : kTexts) {
      TokenIds p = prefix;
      const auto d =
          model->tokenizer().tokenize(" " + t + "<|im_end|>\n<|im_start|>assistant\n", false, true);
      p.insert(p.end(), d.begin(), d.end());
      out.push_back(p);
    }
    return out;
  }
};

TEST_F(DecoderFixture, LogitsEqualASingleSequenceDecodeWithAndWithoutPrefixReuse) {
  ASSERT_GE(answers[0], 0);
  ASSERT_GE(answers[1], 0);
  const auto all = prompts();
  const auto group = rerank::group_by_common_prefix(all);
  // Reuse shares whole 64-token tiles of the prefix (see LanguageModel::run_group).
  ASSERT_GT(group.prefix.size(), 64u);
  const std::size_t shared = group.prefix.size() / 64 * 64;
  rerank::RuntimeOptions opt;
  opt.batch_tokens = 64;
  opt.max_sequences = 4;
  opt.context_tokens = 128;
  rerank::LanguageModel lm(model, opt);
  rerank::RerankCost reuse_cost, full_cost;
  const auto reused = lm.next_token_logits({group}, answers, &reuse_cost, true);
  const auto full = lm.next_token_logits({group}, answers, &full_cost, false);
  ASSERT_EQ(reused.size(), 1u);
  ASSERT_EQ(reused[0].size(), all.size());
  std::size_t total = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    total += all[i].size();
    const auto ref = reference_logits(*model, all[i], answers);
    // Prefix reuse evaluates the continuation against the prefix's cached (F16) KV in another pass
    // layout than the whole prompt: measured up to 1.7e-6 on an AMD Zen 5 (AVX-512, no AMX) and
    // 1.4e-6 on an Intel Xeon with AMX. 1e-4 leaves room for other CPUs' kernels and is still
    // ~1000x below what a wrong prefix or a misplaced position would change.
    for (int t = 0; t < 2; ++t) {
      EXPECT_NEAR(reused[0][i][t], ref[t], 1e-4) << "prompt " << i;
      EXPECT_NEAR(full[0][i][t], ref[t], 1e-4) << "prompt " << i;
      EXPECT_NEAR(reused[0][i][t], full[0][i][t], 1e-4) << "prompt " << i;
    }
  }
  // Cost: every prompt token is either evaluated or served from the shared prefix.
  EXPECT_EQ(full_cost.prompt_tokens, total);
  EXPECT_EQ(full_cost.cached_tokens, 0u);
  EXPECT_EQ(reuse_cost.prompt_tokens + reuse_cost.cached_tokens, total);
  EXPECT_EQ(reuse_cost.cached_tokens, shared * (all.size() - 1));
  EXPECT_LT(reuse_cost.flops, full_cost.flops);
}

TEST_F(DecoderFixture, BatchInvariantAndDeterministic) {
  const auto all = prompts();
  const auto group = rerank::group_by_common_prefix(all);
  rerank::RuntimeOptions opt;
  opt.batch_tokens = 128;
  opt.context_tokens = 128;
  rerank::LanguageModel lm(model, opt);
  const auto together = lm.next_token_logits({group}, answers);
  const auto together_full = lm.next_token_logits({group}, answers, nullptr, /*reuse_prefix=*/false);
  const std::size_t n = all.size();
  for (std::size_t i = 0; i < n; ++i) {
    // The same document alone, and with two other batch-mates, after the same shared prefix...
    const auto& c = group.continuations;
    const auto alone = lm.next_token_logits({rerank::PromptGroup{group.prefix, {c[i]}}}, answers);
    const auto trio = lm.next_token_logits(
        {rerank::PromptGroup{group.prefix, {c[(i + 3) % n], c[i], c[(i + 5) % n]}}}, answers);
    // ...and without prefix reuse, alone in its pass.
    const auto alone_full =
        lm.next_token_logits({rerank::PromptGroup{{}, {all[i]}}}, answers, nullptr, false);
    // The issue asks for 1e-5; with aligned placement (RuntimeOptions::align_sequences) the
    // measured worst case is below 1e-7, so 1e-6 is asserted.
    for (int t = 0; t < 2; ++t) {
      EXPECT_NEAR(alone[0][0][t], together[0][i][t], 1e-6);
      EXPECT_NEAR(trio[0][1][t], together[0][i][t], 1e-6);
      EXPECT_NEAR(alone_full[0][0][t], together_full[0][i][t], 1e-6);
    }
  }
  EXPECT_EQ(lm.next_token_logits({group}, answers), together);
}

TEST_F(DecoderFixture, LongAndShortContinuationsAreBatchInvariant) {
  // Continuations from one 64-token block up run alone and unpadded, shorter ones share aligned
  // slots: either way a continuation's logits do not depend on its batch-mates.
  const auto group = rerank::group_by_common_prefix(prompts());
  // A prefix of one whole tile, all of it shared, so the lengths below are the continuations' own.
  rerank::PromptGroup mixed{TokenIds(group.prefix.begin(), group.prefix.begin() + 64), {}};
  for (std::size_t n : {20u, 80u, 63u, 64u, 130u, 5u}) {
    TokenIds c;
    for (std::size_t i = 0; i < n; ++i) c.push_back(static_cast<std::int32_t>(3000 + (i * 71 + n) % 9000));
    mixed.continuations.push_back(c);
  }
  rerank::RuntimeOptions opt;
  opt.batch_tokens = 256;
  opt.context_tokens = 400;
  rerank::LanguageModel lm(model, opt);
  rerank::RerankCost cost;
  const auto together = lm.next_token_logits({mixed}, answers, &cost);
  for (std::size_t i = 0; i < mixed.continuations.size(); ++i) {
    const auto alone =
        lm.next_token_logits({rerank::PromptGroup{mixed.prefix, {mixed.continuations[i]}}}, answers);
    for (int t = 0; t < 2; ++t) EXPECT_NEAR(alone[0][0][t], together[0][i][t], 1e-6) << "continuation " << i;
  }
  // The prefix pass, one pass for the three short ones, one alone for each of the three long ones.
  EXPECT_EQ(cost.forward_passes, 1u + 1u + 3u);
}

TEST_F(DecoderFixture, LongPromptsAreSplitAcrossPassesNotRejected) {
  rerank::RuntimeOptions opt;
  opt.batch_tokens = 64;
  opt.max_sequences = 2;
  opt.context_tokens = 300;
  rerank::LanguageModel lm(model, opt);
  const auto all = prompts();
  std::string long_text;
  for (const auto& t : kTexts) long_text += t + " ";
  TokenIds long_prompt = all[3];
  for (int r = 0; r < 3; ++r) {
    const auto more = model->tokenizer().tokenize(long_text, false, false);
    long_prompt.insert(long_prompt.end(), more.begin(), more.end());
  }
  ASSERT_GT(long_prompt.size() - 40, 2u * 64);  // the continuation spans three passes
  ASSERT_LT(long_prompt.size(), 300u);
  rerank::RerankCost cost;
  const auto out =
      lm.next_token_logits({rerank::group_by_common_prefix({long_prompt, all[5]})}, answers, &cost);
  // Passes split differently from the reference's (prefix reuse, see above): the same 1e-4.
  EXPECT_NEAR(out[0][1][1], reference_logits(*model, all[5], answers)[1], 1e-4);
  // The reference for the long prompt: the same model without prefix reuse in one 512-token pass.
  rerank::RuntimeOptions big = opt;
  big.batch_tokens = 512;
  rerank::LanguageModel one_pass(model, big);
  const auto ref = one_pass.next_token_logits({rerank::PromptGroup{{}, {long_prompt}}}, answers);
  EXPECT_NEAR(out[0][0][0], ref[0][0][0], 1e-4);
  EXPECT_NEAR(out[0][0][1], ref[0][0][1], 1e-4);
  EXPECT_GE(cost.forward_passes, 4u);
  // Beyond the context: a clear error.
  EXPECT_EQ(error_of([&] {
              lm.next_token_logits({rerank::PromptGroup{{}, {TokenIds(301, 100)}}}, answers);
            }),
            "prompt of 301 tokens exceeds the context of 300 tokens");
  // An empty continuation scores the prefix itself.
  const auto self = lm.next_token_logits({rerank::PromptGroup{all[2], {TokenIds{}}}}, answers);
  EXPECT_NEAR(self[0][0][0], reference_logits(*model, all[2], answers)[0], 1e-4);
}

TEST_F(DecoderFixture, GreedyGenerationFollowsTheGrammarAndRepeats) {
  rerank::RuntimeOptions opt;
  opt.context_tokens = 128;
  opt.batch_tokens = 64;
  rerank::LanguageModel lm(model, opt);
  const auto prompt = prompts()[1];
  rerank::GenerationOptions g;
  g.grammar = "root ::= \"[\" [1-3] \"] > [\" [1-3] \"]\"";
  g.max_tokens = 12;
  rerank::RerankCost cost;
  const auto out = lm.generate(prompt, g, &cost);
  EXPECT_THAT(out.text, ::testing::MatchesRegex("\\[[1-3]\\] > \\[[1-3]\\]"));
  EXPECT_TRUE(out.ended);
  EXPECT_EQ(cost.prompt_tokens, prompt.size());
  EXPECT_EQ(cost.generated_tokens, out.tokens.size());
  EXPECT_EQ(lm.generate(prompt, g).text, out.text);
  g.grammar.clear();
  g.max_tokens = 3;
  const auto free_run = lm.generate(prompt, g);
  EXPECT_LE(free_run.tokens.size(), 3u);
  EXPECT_EQ(lm.generate(prompt, g).tokens, free_run.tokens);
  g.grammar = "root ::= nonsense(";
  EXPECT_EQ(error_of([&] { lm.generate(prompt, g); }), "invalid GBNF grammar (llama.cpp could not parse it)");
}

}  // namespace
