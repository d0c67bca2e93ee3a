// The "pointwise" reranker on tiny generated models: pairs encoded as Hugging Face encodes them,
// the Qwen3-Reranker prompt, scores equal to the runtime's on the same tokens, P(yes) as the
// softmax of the yes/no logits, chunking with MaxP/FirstP/SumP, prefix reuse equality, determinism,
// batch invariance, and clear errors for bad options and inputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "error_message.h"
#include "rerank/cross_encoder.h"
#include "rerank/error.h"
#include "rerank/language_model.h"
#include "rerank/reranker.h"
#include "rerankers/pair_format.h"
#include "tiny_models.h"

namespace {

using rerank::CandidateList;
using rerank::TokenIds;
using rerank::test::Tiny;
using rerank::test::tiny_model;
namespace pw = rerank::pointwise;

using rerank::test::error_of;

std::shared_ptr<const rerank::Model> shared_model(Tiny which) {
  static std::map<Tiny, std::shared_ptr<const rerank::Model>> loaded;
  auto& m = loaded[which];
  if (!m) m = rerank::Model::load(tiny_model(which));
  return m;
}

std::unique_ptr<rerank::Reranker> pointwise(Tiny which, std::map<std::string, std::string> params = {}) {
  rerank::RerankerOptions o;
  o.model_path = tiny_model(which);
  o.threads = 2;
  o.params = std::move(params);
  return rerank::make_reranker("pointwise", o);
}

CandidateList sample_list() {
  CandidateList l{{"q1", "what is the capital of france"}, {}};
  l.candidates = {{"d1", "Paris", "paris is the capital and most populous city of france", 9.0},
                  {"d2", "", "bananas are rich in potassium", 8.0},
                  {"d3", "Eiffel", "the eiffel tower is in paris", 7.0},
                  {"d4", "", "", 6.0},  // empty document
                  {"d5", "", "france borders spain, italy, germany and belgium", 5.0}};
  return l;
}

std::string long_text(int words) {
  std::string s;
  const char* vocab[] = {"river", "mountain", "capital", "france", "history", "science", "ocean", "city"};
  for (int i = 0; i < words; ++i) s += std::string(vocab[(i * 7 + i / 3) % 8]) + (i + 1 < words ? " " : "");
  return s;
}

TEST(Registry, PointwiseIsRegisteredAndUnknownNamesAreClear) {
  const auto names = rerank::reranker_names();
  EXPECT_THAT(names, ::testing::Contains("pointwise"));
  EXPECT_THAT(error_of([] { rerank::make_reranker("nope", {}); }),
              ::testing::StartsWith("unknown reranking strategy 'nope' (available: "));
  EXPECT_EQ(error_of([] { rerank::make_reranker("pointwise", {}); }),
            "pointwise reranking needs a model path");
  EXPECT_THAT(error_of([] {
                pointwise(Tiny::Bert, {{"bogus", "1"}});
              }),
              ::testing::StartsWith("pointwise: unknown option(s) bogus (known: "));
  EXPECT_THAT(error_of([] {
                pointwise(Tiny::Bert, {{"chunking", "best"}});
              }),
              ::testing::HasSubstr("option chunking must be one of maxp, firstp, sump, got 'best'"));
}

TEST(PairFormat, CrossEncoderPairIsHuggingFacesEncoding) {
  const auto model = shared_model(Tiny::Bert);
  const auto& tok = model->tokenizer();
  const auto f = pw::PairFormat::for_model(*model, "", "");
  const auto q = tok.tokenize("capital of france", false, false);
  const auto d = tok.tokenize("paris is the capital", false, false);
  // Hugging Face's BERT pair encoding, [CLS] query [SEP] document [SEP] ([CLS]=101, [SEP]=102),
  // whatever the vocabulary's add_* flags say (this one has no add_eos: llama-server would drop the
  // last [SEP]).
  TokenIds expected = {101};
  expected.insert(expected.end(), q.begin(), q.end());
  expected.push_back(102);
  expected.insert(expected.end(), d.begin(), d.end());
  expected.push_back(102);
  EXPECT_EQ(f.whole("capital of france", "paris is the capital"), expected);
  const auto parts = f.parts("capital of france");
  EXPECT_EQ(parts.before_doc.size(), q.size() + 2);
  EXPECT_EQ(parts.after_doc, TokenIds{102});
  // The document, and its [SEP], are sentence B (token type 1).
  EXPECT_EQ(f.second_segment_start(parts), q.size() + 2);
  // encoding=llama-server: llama-server's framing from the add_* flags, all tokens of type 0.
  const auto server = pw::PairFormat::for_model(*model, "", "", /*llama_server_encoding=*/true);
  expected.pop_back();
  EXPECT_EQ(server.whole("capital of france", "paris is the capital"), expected);
  EXPECT_EQ(server.second_segment_start(server.parts("capital of france")), std::string::npos);
  EXPECT_EQ(
      error_of([&] { pw::PairFormat::for_model(*model, "", "be helpful"); }),
      "pointwise: option instruction needs a model with a prompt template (this is a plain cross-encoder)");
}

TEST(PairFormat, DecoderUsesQwen3RerankersPublishedPrompt) {
  const auto model = shared_model(Tiny::Qwen3);
  const auto& tok = model->tokenizer();
  const std::string expected =
      "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
      "Instruct "
      "provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n"
      "<Instruct>: Given a web search query, retrieve relevant passages that answer the query\n"
      "<Query>: what is {document}?\n<Document>: some {query} text<|im_end|>\n<|im_start|>assistant\n"
      "<think>\n\n</think>\n\n";
  const auto f = pw::PairFormat::for_model(*model, "", "");
  // Placeholders inside the query or document are not expanded.
  EXPECT_EQ(f.whole("what is {document}?", "some {query} text"), tok.tokenize(expected, false, true));
  // Our built-in template (for models without one in their metadata) is the same prompt.
  const auto builtin = pw::PairFormat::for_model(*model, rerank::qwen3_reranker_template(), "");
  EXPECT_EQ(builtin.whole("what is {document}?", "some {query} text"), tok.tokenize(expected, false, true));
  // A custom instruction replaces the <Instruct> line of the model's template.
  const auto custom = pw::PairFormat::for_model(*model, "", "Find proofs");
  std::string with_instruction = expected;
  with_instruction.replace(
      with_instruction.find("Given a web"),
      std::string("Given a web search query, retrieve relevant passages that answer the query").size(),
      "Find proofs");
  EXPECT_EQ(custom.whole("what is {document}?", "some {query} text"),
            tok.tokenize(with_instruction, false, true));
  EXPECT_EQ(error_of([&] { pw::PairFormat::for_model(*model, "no placeholders", ""); }),
            "rerank prompt template must contain {query} and {document}");
  // Parts and document tokens put together are the whole prompt's tokens: the space after
  // "<Document>:" goes with the document ("ĠPlace", as Qwen3-Reranker's tokenizer cuts a long one).
  const auto parts = f.parts("what is it?");
  TokenIds joined = parts.before_doc;
  for (auto t : f.document_tokens("Place names")) joined.push_back(t);
  joined.insert(joined.end(), parts.after_doc.begin(), parts.after_doc.end());
  EXPECT_EQ(joined, f.whole("what is it?", "Place names"));
}

// A 60-token document and a short query framed for the tiny BERT.
struct LongPair {
  std::shared_ptr<const rerank::Model> model = shared_model(Tiny::Bert);
  pw::PairFormat f = pw::PairFormat::for_model(*model, "", "");
  std::string query = "capital of france";
  pw::PairFormat::QueryParts parts = f.parts(query);
  std::string doc = long_text(60);
  TokenIds doc_tokens = f.document_tokens(doc);
};

TEST(Chunking, WindowsOverlapNeverCutTheQueryAndCoverTheDocument) {
  const LongPair p;
  const auto& [model, f, query, parts, doc, doc_tokens] = p;
  ASSERT_EQ(doc_tokens.size(), 60u);
  const std::size_t max_length = 32, overlap = 8;
  const std::size_t window = max_length - parts.before_doc.size() - parts.after_doc.size();
  const auto chunks = pw::pair_sequences(f, parts, query, doc, max_length, overlap, pw::Chunking::MaxP);
  const std::size_t step = window - overlap;
  ASSERT_EQ(chunks.size(), (doc_tokens.size() - overlap + step - 1) / step);
  TokenIds covered;
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    ASSERT_LE(chunks[k].size(), max_length);
    ASSERT_TRUE(std::equal(parts.before_doc.begin(), parts.before_doc.end(), chunks[k].begin()))
        << "query kept whole";
    ASSERT_TRUE(std::equal(parts.after_doc.rbegin(), parts.after_doc.rend(), chunks[k].rbegin()));
    const TokenIds body(chunks[k].begin() + static_cast<std::ptrdiff_t>(parts.before_doc.size()),
                        chunks[k].end() - static_cast<std::ptrdiff_t>(parts.after_doc.size()));
    const TokenIds expected_body(
        doc_tokens.begin() + static_cast<std::ptrdiff_t>(k * step),
        doc_tokens.begin() + static_cast<std::ptrdiff_t>(std::min(doc_tokens.size(), k * step + window)));
    EXPECT_EQ(body, expected_body) << "chunk " << k;
  }
  EXPECT_EQ(pw::pair_sequences(f, parts, query, doc, max_length, overlap, pw::Chunking::FirstP),
            std::vector<TokenIds>{chunks.front()});
  // A document that fits is one sequence, the whole pair tokenized at once.
  EXPECT_EQ(pw::pair_sequences(f, parts, query, "short doc", max_length, overlap, pw::Chunking::MaxP),
            std::vector<TokenIds>{f.whole(query, "short doc")});
  // The query is never truncated: no room left is an error.
  EXPECT_EQ(error_of([&] {
              pw::pair_sequences(f, f.parts(long_text(40)), long_text(40), doc, 32, 8, pw::Chunking::MaxP);
            }),
            "the query with its prompt takes 43 tokens, leaving no room for a document within max_length 32 "
            "(queries are never truncated; raise option max_length)");
  EXPECT_DOUBLE_EQ(pw::aggregate({0.5, 2.0, -1.0}, pw::Chunking::MaxP), 2.0);
  EXPECT_DOUBLE_EQ(pw::aggregate({0.5, 2.0, -1.0}, pw::Chunking::FirstP), 0.5);
  EXPECT_DOUBLE_EQ(pw::aggregate({0.5, 2.0, -1.0}, pw::Chunking::SumP), 1.5);
}

TEST(Chunking, ACallersLimitsCutTokensAndWindowsFromTheStartOrTheEnd) {
  const LongPair p;
  const auto& [model, f, query, parts, doc, doc_tokens] = p;
  const std::size_t max_length = 32, overlap = 8;
  const std::size_t window = max_length - parts.before_doc.size() - parts.after_doc.size();
  const auto framed = [&](std::size_t begin, std::size_t end) {
    TokenIds seq = parts.before_doc;
    seq.insert(seq.end(), doc_tokens.begin() + static_cast<std::ptrdiff_t>(begin),
               doc_tokens.begin() + static_cast<std::ptrdiff_t>(end));
    seq.insert(seq.end(), parts.after_doc.begin(), parts.after_doc.end());
    return seq;
  };
  const auto cut = [&](rerank::DocumentLimits limits, pw::Chunking chunking = pw::Chunking::MaxP) {
    return pw::pair_sequences(f, parts, query, doc, max_length, overlap, chunking, limits);
  };
  // max_tokens: the first (or last) tokens only, framed as a window even when they fit.
  EXPECT_EQ(cut({5, 0, false}), std::vector<TokenIds>{framed(0, 5)});
  EXPECT_EQ(cut({5, 0, true}), std::vector<TokenIds>{framed(55, 60)});
  // max_chunks: the first windows, or the windows nearest the end, in document order.
  const std::size_t step = window - overlap;
  EXPECT_EQ(cut({0, 2, false}), (std::vector<TokenIds>{framed(0, window), framed(step, step + window)}));
  EXPECT_EQ(cut({0, 2, true}),
            (std::vector<TokenIds>{framed(60 - window - step, 60 - step), framed(60 - window, 60)}));
  // TEI's truncate with direction Left: one window, the document's end.
  EXPECT_EQ(cut({0, 1, true}), std::vector<TokenIds>{framed(60 - window, 60)});
  EXPECT_EQ(cut({0, 0, true}, pw::Chunking::FirstP), std::vector<TokenIds>{framed(60 - window, 60)});
  // A limit the document is within changes nothing.
  EXPECT_EQ(cut({100, 100, false}), cut({}));
}

TEST(PointwiseCrossEncoder, ScoresAreTheHeadOutputAndChunksAggregate) {
  const auto model = shared_model(Tiny::Bert);
  const auto f = pw::PairFormat::for_model(*model, "", "");
  rerank::CrossEncoder encoder(model, {});
  auto list = sample_list();
  list.candidates.push_back({"long", "", long_text(60), 1.0});
  std::map<std::string, std::vector<double>> chunk_scores;
  const auto parts = f.parts(list.query.text);
  for (const auto& c : list.candidates) {
    const auto seqs = pw::pair_sequences(f, parts, list.query.text, rerank::document_text(c.title, c.text),
                                         32, 8, pw::Chunking::MaxP);
    for (const auto& seq : seqs)
      chunk_scores[c.doc_id].push_back(encoder.score({seq}, nullptr, {f.second_segment_start(parts)})[0]);
  }
  ASSERT_EQ(chunk_scores["long"].size(), 4u);
  for (const std::string mode : {"maxp", "firstp", "sump"}) {
    auto reranker = pointwise(Tiny::Bert, {{"max_length", "32"}, {"overlap", "8"}, {"chunking", mode}});
    const auto result = reranker->rerank({list})[0];
    ASSERT_EQ(result.ranking.size(), list.candidates.size());
    std::set<std::string> ids;
    for (std::size_t i = 0; i < result.ranking.size(); ++i) {
      const auto& r = result.ranking[i];
      ids.insert(r.doc_id);
      if (i) {
        EXPECT_GE(result.ranking[i - 1].score, r.score);
      }
      const auto& cs = chunk_scores[r.doc_id];
      const double expected = pw::aggregate(cs, pw::parse_chunking(mode));
      EXPECT_NEAR(r.score, expected, 1e-5) << mode << " " << r.doc_id;
    }
    EXPECT_EQ(ids.size(), list.candidates.size());
    EXPECT_EQ(result.cost.model_calls,
              mode == "firstp" ? list.candidates.size() : list.candidates.size() + 3);
    EXPECT_GT(result.cost.forward_passes, 0u);
  }
}

TEST(PointwiseCrossEncoder, DeterministicBatchInvariantAndEdgeCases) {
  auto reranker = pointwise(Tiny::Bert);
  const auto list = sample_list();
  const auto first = reranker->rerank({list, list});
  ASSERT_EQ(first.size(), 2u);
  for (std::size_t i = 0; i < list.candidates.size(); ++i) {
    EXPECT_EQ(first[0].ranking[i].score, first[1].ranking[i].score);
    EXPECT_EQ(first[0].ranking[i].doc_id, first[1].ranking[i].doc_id);
  }
  std::map<std::string, double> together;
  for (const auto& r : first[0].ranking) together[r.doc_id] = r.score;
  for (const auto& c : list.candidates) {
    CandidateList alone{list.query, {c}};
    EXPECT_EQ(reranker->rerank({alone})[0].ranking[0].score, together[c.doc_id]) << c.doc_id;  // bit for bit
  }
  // No candidates: an empty ranking at no cost.
  const auto empty = reranker->rerank({CandidateList{list.query, {}}})[0];
  EXPECT_TRUE(empty.ranking.empty());
  EXPECT_EQ(empty.cost.forward_passes, 0u);
  // A huge document (40k words) is chunked, not rejected; FirstP scores its first window only.
  CandidateList huge{list.query, {{"huge", "", long_text(40000), 0}}};
  auto firstp = pointwise(Tiny::Bert, {{"chunking", "firstp"}});
  const auto r = firstp->rerank({huge})[0];
  EXPECT_EQ(r.cost.model_calls, 1u);
  EXPECT_TRUE(std::isfinite(r.ranking[0].score));
}

TEST(PointwiseDecoder, ScoreIsPYesFromTheYesNoLogitsWithAndWithoutPrefixReuse) {
  const auto model = shared_model(Tiny::Qwen3);
  const auto f = pw::PairFormat::for_model(*model, "", "");
  const TokenIds answers = {model->tokenizer().single_token("yes"), model->tokenizer().single_token("no")};
  rerank::RuntimeOptions ro;
  ro.context_tokens = 1024;
  rerank::LanguageModel lm(model, ro);
  const auto list = sample_list();
  auto reuse = pointwise(Tiny::Qwen3);
  auto no_reuse = pointwise(Tiny::Qwen3, {{"prefix_reuse", "off"}});
  const auto with = reuse->rerank({list})[0];
  const auto without = no_reuse->rerank({list})[0];
  std::map<std::string, double> score_without;
  for (const auto& r : without.ranking) score_without[r.doc_id] = r.score;
  for (const auto& r : with.ranking) {
    const auto& c = *std::find_if(list.candidates.begin(), list.candidates.end(),
                                  [&](const auto& c) { return c.doc_id == r.doc_id; });
    const auto prompt = f.whole(list.query.text, rerank::document_text(c.title, c.text));
    const auto logits =
        lm.next_token_logits({rerank::PromptGroup{{}, {prompt}}}, answers, nullptr, false)[0][0];
    const double p_yes = std::exp(logits[0]) / (std::exp(logits[0]) + std::exp(logits[1]));
    EXPECT_GT(r.score, 0.0);
    EXPECT_LT(r.score, 1.0);
    EXPECT_NEAR(r.score, p_yes, 1e-5) << r.doc_id;
    EXPECT_NEAR(r.score, score_without[r.doc_id], 1e-4) << r.doc_id;
  }
  EXPECT_GT(with.cost.cached_tokens, 0u);
  EXPECT_EQ(without.cost.cached_tokens, 0u);
  EXPECT_EQ(with.cost.prompt_tokens + with.cost.cached_tokens, without.cost.prompt_tokens);
  EXPECT_LT(with.cost.flops, without.cost.flops);
  EXPECT_EQ(with.cost.model_calls, list.candidates.size());
  // Determinism.
  const auto again = reuse->rerank({list})[0];
  for (std::size_t i = 0; i < with.ranking.size(); ++i)
    EXPECT_EQ(again.ranking[i].score, with.ranking[i].score);
  // Answers must be single tokens.
  EXPECT_THAT(error_of([] {
                pointwise(Tiny::Qwen3, {{"yes", "absolutely certain"}});
              }),
              ::testing::HasSubstr("must each be one token of this model"));
}

}  // namespace
