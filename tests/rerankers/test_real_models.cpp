// A real decoder LM (SmolLM2-135M-Instruct Q4_1, from scripts/fetch_models.sh) against llama.cpp used
// plainly: on 10 pointwise prompts built from SciFact (a query with a relevant and an unrelated
// abstract, in the model's own chat template), the next-token log-probabilities of " yes"/"no" from
// rerank.cpp's runtime (prompts grouped, shared prefix evaluated once, continuations packed many per
// forward pass) equal those of one llama_decode per prompt in a fresh context, and the pointwise
// reranker's P(yes) equals the softmax of the reference's yes/no logits.
#include <gtest/gtest.h>
#include <llama.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "rerank/io.h"
#include "rerank/language_model.h"
#include "rerank/reranker.h"
#include "rerankers/pair_format.h"

namespace {

using rerank::TokenIds;

// The bound. Measured: 0 (bit-identical) on AMD Zen 5. The runtime evaluates a shared prefix
// of whole 64-token tiles once and packs continuations at 64-aligned KV cells, so every row's
// attention sums group as in the reference's single pass (both take llama.cpp's tiled CPU flash-
// attention kernel: every pass holds at least 64 tokens); matrix products do not depend on the batch.
// Before the prefix was cut to whole tiles the difference reached 0.49: with Q4_1 weights every
// activation is rounded to Q8_1, so a last-bit change flips whole quantisation steps, and they grow
// through 30 layers (an F32 instead of F16 KV cache moves the same log-probabilities by up to 0.85).
constexpr double kLogProbTolerance = 1e-3;
// Prompts of up to 384 tokens: several 64-token tiles, yet short enough for CI (each prompt is
// evaluated three times on a 135M model; 50 prompts of 1,024 took 6 minutes on a 2-core AVX2 CPU).
constexpr std::size_t kMaxLength = 384;

struct Pair {
  rerank::Query query;
  rerank::Document document;
  bool relevant;
};

std::string smollm2_path() {
  const char* v = std::getenv("RERANK_MODEL_SMOLLM2");
  return v ? v : "";
}

std::string scifact_dir() { return std::string(RERANK_SHARED_DATASETS) + "/scifact"; }

// The first 5 judged test queries, each with its first relevant abstract and with the relevant
// abstract of the next query (unrelated to it).
std::vector<Pair> scifact_pairs() {
  const auto qrels = rerank::read_qrels(scifact_dir() + "/qrels/test.tsv");
  std::vector<rerank::Query> queries;
  for (auto& q : rerank::read_queries(scifact_dir() + "/queries.jsonl"))
    if (qrels.count(q.id)) queries.push_back(std::move(q));
  queries.resize(6);
  std::vector<std::string> rel;
  for (const auto& q : queries) {
    std::vector<std::string> ids;
    for (const auto& [doc, grade] : qrels.at(q.id))
      if (grade > 0) ids.push_back(doc);
    rel.push_back(*std::min_element(ids.begin(), ids.end()));
  }
  const auto docs = rerank::read_documents(scifact_dir() + "/corpus.jsonl", {rel.begin(), rel.end()});
  std::vector<Pair> pairs;
  for (std::size_t i = 0; i + 1 < queries.size(); ++i) {
    pairs.push_back({queries[i], docs.at(rel[i]), true});
    pairs.push_back({queries[i], docs.at(rel[i + 1]), false});
  }
  return pairs;
}

// log softmax over the whole vocabulary, in double.
std::vector<double> log_softmax(const float* logits, std::size_t n) {
  const double max = *std::max_element(logits, logits + n);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<double>(logits[i]) - max - std::log(sum);
  return out;
}

// llama.cpp's API as its examples use it: a fresh KV cache per prompt, the prompt in one batch,
// the logits after its last token.
std::vector<std::vector<double>> reference_log_probs(const std::string& path,
                                                     const std::vector<TokenIds>& prompts) {
  llama_model_params mp = llama_model_default_params();
  std::unique_ptr<llama_model, decltype(&llama_model_free)> model(
      llama_model_load_from_file(path.c_str(), mp), llama_model_free);
  if (!model) throw std::runtime_error("cannot load " + path);
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = cp.n_batch = cp.n_ubatch = 1024;
  cp.n_seq_max = 1;
  cp.n_threads = cp.n_threads_batch = 2;
  std::unique_ptr<llama_context, decltype(&llama_free)> ctx(llama_init_from_model(model.get(), cp),
                                                            llama_free);
  if (!ctx) throw std::runtime_error("cannot create a llama.cpp context");
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model.get()));
  std::vector<std::vector<double>> out;
  for (const auto& prompt : prompts) {
    llama_memory_clear(llama_get_memory(ctx.get()), true);
    TokenIds tokens = prompt;
    if (llama_decode(ctx.get(), llama_batch_get_one(tokens.data(), static_cast<int>(tokens.size()))) != 0)
      throw std::runtime_error("llama_decode failed");
    out.push_back(log_softmax(llama_get_logits_ith(ctx.get(), -1), static_cast<std::size_t>(n_vocab)));
  }
  return out;
}

class SmolLm2 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (smollm2_path().empty())
      GTEST_SKIP() << "RERANK_MODEL_SMOLLM2 is not set (scripts/fetch_models.sh prints it)";
    if (!std::filesystem::exists(scifact_dir() + "/corpus.jsonl"))
      GTEST_SKIP() << "SciFact is not at " << scifact_dir() << " (the shared test collections are absent)";
  }
};

TEST_F(SmolLm2, YesNoLogProbsEqualLlamaCppUsedPlainly) {
  const auto model = rerank::Model::load(smollm2_path());
  const auto format = rerank::pointwise::PairFormat::for_model(*model, "", "", false);
  const auto pairs = scifact_pairs();
  ASSERT_EQ(pairs.size(), 10u);
  std::vector<TokenIds> prompts;
  for (const auto& p : pairs) {
    const auto parts = format.parts(p.query.text);
    const auto seqs = rerank::pointwise::pair_sequences(
        format, parts, p.query.text, rerank::document_text(p.document.title, p.document.text), kMaxLength, 32,
        rerank::pointwise::Chunking::FirstP);
    prompts.push_back(seqs.front());
  }
  // The prompt is SmolLM2's ChatML turn (its own template), ending with the opened assistant turn.
  const TokenIds turn = model->tokenizer().tokenize("<|im_start|>assistant\n", false, true);
  for (const auto& p : prompts) ASSERT_TRUE(std::equal(turn.begin(), turn.end(), p.end() - turn.size()));

  const int yes = model->tokenizer().single_token("yes"), no = model->tokenizer().single_token("no");
  ASSERT_GE(yes, 0);
  ASSERT_GE(no, 0);
  TokenIds vocab(static_cast<std::size_t>(model->tokenizer().vocab_size()));
  for (std::size_t i = 0; i < vocab.size(); ++i) vocab[i] = static_cast<std::int32_t>(i);

  rerank::RuntimeOptions runtime;
  runtime.threads = 2;
  rerank::LanguageModel lm(model, runtime);
  const auto logits = lm.next_token_logits({rerank::group_by_common_prefix(prompts)}, vocab, nullptr,
                                           /*reuse_prefix=*/true)[0];
  const auto reference = reference_log_probs(smollm2_path(), prompts);

  double max_diff = 0, spread_lo = 1, spread_hi = 0;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const auto ours = log_softmax(logits[i].data(), logits[i].size());
    for (int t : {yes, no}) {
      EXPECT_NEAR(ours[t], reference[i][t], kLogProbTolerance) << "prompt " << i << " token " << t;
      max_diff = std::max(max_diff, std::abs(ours[t] - reference[i][t]));
    }
    const double p_yes = 1 / (1 + std::exp(reference[i][no] - reference[i][yes]));
    spread_lo = std::min(spread_lo, p_yes), spread_hi = std::max(spread_hi, p_yes);
  }
  std::printf("max |delta log p(yes|no)| = %.3g over %zu prompts; reference P(yes) in [%.3f, %.3f]\n",
              max_diff, prompts.size(), spread_lo, spread_hi);
  // The prompts differ enough for the answer to move: a test that could not tell prompts apart
  // (e.g. the document dropped from the prompt) fails here.
  EXPECT_GT(spread_hi - spread_lo, 0.05);

  // The pointwise reranker, prompts grouped by query as it does: P(yes) = softmax of the reference's
  // yes/no logits (prefix reuse on; off is the reference's layout).
  for (const char* reuse : {"on"}) {
    rerank::RerankerOptions o;
    o.model_path = smollm2_path();
    o.threads = 2;
    o.params = {{"max_length", std::to_string(kMaxLength)}, {"chunking", "firstp"}, {"prefix_reuse", reuse}};
    const auto reranker = rerank::make_reranker("pointwise", o);
    std::vector<rerank::CandidateList> lists;
    for (std::size_t i = 0; i < pairs.size(); i += 2) {
      rerank::CandidateList l{pairs[i].query, {}};
      for (std::size_t j = i; j < i + 2; ++j)
        l.candidates.push_back({pairs[j].document.doc_id + (j % 2 ? "-other" : ""), pairs[j].document.title,
                                pairs[j].document.text, 0.0});
      lists.push_back(std::move(l));
    }
    const auto results = reranker->rerank(lists);
    for (std::size_t q = 0; q < results.size(); ++q)
      for (const auto& d : results[q].ranking) {
        const std::size_t i = 2 * q + (d.doc_id.ends_with("-other") ? 1 : 0);
        const double p_yes = 1 / (1 + std::exp(reference[i][no] - reference[i][yes]));
        EXPECT_NEAR(d.score, p_yes, kLogProbTolerance) << "prefix_reuse=" << reuse << " prompt " << i;
      }
  }
}

}  // namespace
