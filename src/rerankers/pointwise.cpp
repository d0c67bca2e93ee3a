// "pointwise": every (query, document) pair scored on its own by a neural model —
//  - a cross-encoder: the classification head's output;
//  - a decoder LM (Qwen3-Reranker or any instruct model with a yes/no prompt): P(yes) from the
//    softmax over the "yes" and "no" logits after the prompt, with the prompt part shared by a
//    query's documents evaluated once (prefix KV reuse).
// Long documents are chunked (MaxP / FirstP / SumP); pairs are batched by length.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "rerank/cross_encoder.h"
#include "rerank/error.h"
#include "rerank/language_model.h"
#include "rerank/options.h"
#include "rerank/reranker.h"
#include "rerankers/pair_format.h"

namespace rerank {
namespace {

using pointwise::Chunking;
using pointwise::PairFormat;
using pointwise::parse_chunking;

// The options, read and checked before the model loads. Limits that depend on the model (its trained
// context) are checked when it is loaded.
struct PointwiseOptions {
  std::string prompt_template;  // empty: the model's own or Qwen3-Reranker's
  std::string instruction;
  bool llama_server_encoding = false;
  int max_length = 0;  // 0: the model's trained context, at most 1024 (decoders) or 512
  std::size_t overlap = 32;
  Chunking chunking = Chunking::MaxP;
  RuntimeOptions runtime;
  bool reuse_prefix = true;
  std::optional<std::string> yes, no;  // default: "yes"/"no", led by a space after plain prompts
  bool decoder_options_given = false;  // prefix_reuse, yes or no: an error for cross-encoders
};

PointwiseOptions parse_pointwise(const RerankerOptions& options) {
  OptionReader params("pointwise", options.params);
  PointwiseOptions o;
  o.prompt_template = params.text("template", "");
  o.instruction = params.text("instruction", "");
  o.llama_server_encoding = params.choice("encoding", "hf", {"hf", "llama-server"}) == "llama-server";
  o.max_length = params.has("max_length") ? params.integer("max_length", 0, 8, 1 << 20) : 0;
  o.overlap = static_cast<std::size_t>(params.integer("overlap", 32, 0, 1 << 20));
  o.chunking = parse_chunking(params.choice("chunking", "maxp", {"maxp", "firstp", "sump"}));
  o.runtime.threads = options.threads;
  o.runtime.batch_tokens = params.integer("batch_tokens", 1024, 64, 1 << 20);
  o.runtime.max_sequences = params.integer("max_sequences", 64, 1, 127);
  o.runtime.flash_attention = params.on_off("flash_attention", true);
  // exact: erf GELU as Hugging Face's BERT/XLM-R (src/model/exact_gelu.h); llama: llama.cpp's table.
  o.runtime.exact_gelu = params.choice("gelu", "exact", {"exact", "llama"}) == "exact";
  o.runtime.align_sequences = params.on_off("align", true);
  // Cross-encoders: auto (rerank.cpp's own oneDNN runtime for BERT-family models), llama or onednn.
  const std::string runtime = params.choice("runtime", "auto", {"auto", "llama", "onednn"});
  o.runtime.encoder_runtime = runtime == "llama"    ? RuntimeOptions::EncoderRuntime::Llama
                              : runtime == "onednn" ? RuntimeOptions::EncoderRuntime::OneDnn
                                                    : RuntimeOptions::EncoderRuntime::Auto;
  if (runtime == "onednn" && !o.runtime.exact_gelu)
    throw Error(
        "pointwise: option gelu=llama applies to runtime=llama (the onednn runtime computes GELU exactly)");
  // The onednn runtime's matrix products: auto (BF16 for BF16/8-bit weights on CPUs with native BF16),
  // f32, bf16 or int8.
  const std::string precision = params.choice("precision", "auto", {"auto", "f32", "bf16", "int8"});
  o.runtime.encoder_precision = parse_encoder_precision(precision);
  if (precision != "auto" && runtime == "llama")
    throw Error(
        "pointwise: option precision applies to runtime=onednn (llama.cpp computes at the weights' types)");
  // 0: one worker per thread, up to 8 (the runtime caps workers at the thread count); cross-encoders
  // only (see RuntimeOptions::workers).
  const int workers = params.integer("workers", 0, 0, 64);
  o.runtime.workers = workers > 0 ? workers : 8;
  o.decoder_options_given = params.has("prefix_reuse") || params.has("yes") || params.has("no");
  o.reuse_prefix = params.on_off("prefix_reuse", true);
  if (params.has("yes")) o.yes = params.text("yes", "");
  if (params.has("no")) o.no = params.text("no", "");
  params.accept({"yes", "no"});
  params.finish();
  if (options.model_path.empty()) throw Error("pointwise reranking needs a model path");
  return o;
}

class PointwiseReranker final : public Reranker {
 public:
  PointwiseReranker(const std::string& model_path, const PointwiseOptions& o)
      : model_(Model::load(model_path)),
        format_(PairFormat::for_model(*model_, o.prompt_template, o.instruction, o.llama_server_encoding)),
        overlap_(o.overlap),
        chunking_(o.chunking),
        reuse_prefix_(o.reuse_prefix) {
    if (model_->info().kind == ModelKind::Embedding)
      throw Error(
          model_path +
          ": an embedding model without a classification head cannot score pairs; pointwise reranking "
          "needs a cross-encoder or a decoder LM (for embeddings use the embedding strategy)");
    const bool decoder = model_->info().kind == ModelKind::DecoderLM;
    const int trained = model_->info().n_ctx_train > 0 ? model_->info().n_ctx_train : 512;
    if (o.max_length > std::max(trained, 8))
      throw Error("pointwise: option max_length must be between 8 and " +
                  std::to_string(std::max(trained, 8)) + " for this model, got " +
                  std::to_string(o.max_length));
    max_length_ =
        static_cast<std::size_t>(o.max_length > 0 ? o.max_length : std::min(trained, decoder ? 1024 : 512));
    RuntimeOptions runtime = o.runtime;
    if (decoder) {
      // After a plain prompt's "Answer:" the answer is a word with its leading space.
      const std::string space = model_->plain_prompts() ? " " : "";
      const std::string yes = o.yes.value_or(space + "yes"), no = o.no.value_or(space + "no");
      answer_tokens_ = {model_->tokenizer().single_token(yes), model_->tokenizer().single_token(no)};
      if (answer_tokens_[0] < 0 || answer_tokens_[1] < 0)
        throw Error("pointwise: the answers '" + yes + "' and '" + no +
                    "' must each be one token of this model");
      runtime.context_tokens = static_cast<int>(max_length_);
      lm_ = std::make_unique<LanguageModel>(model_, runtime);
    } else {
      if (o.decoder_options_given)
        throw Error("pointwise: options prefix_reuse, yes and no apply to decoder models; " + model_path +
                    " is a cross-encoder");
      runtime.batch_tokens = std::max(runtime.batch_tokens, static_cast<int>(max_length_));
      encoder_ = std::make_unique<CrossEncoder>(model_, runtime);
      max_length_ = std::min(max_length_, static_cast<std::size_t>(encoder_->max_sequence_tokens()));
    }
  }

  std::string name() const override { return "pointwise"; }
  ScoreScale score_scale() const override { return encoder_ ? ScoreScale::Logit : ScoreScale::Probability; }

  // Every query's pairs go to the runtime in one call, so the queries of a batch (the CLI's query
  // groups, the server's concurrent requests) share forward passes; scores do not depend on
  // batch-mates, so batching never changes them.
  std::vector<RerankResult> rerank(const std::vector<CandidateList>& batch) override {
    std::vector<QueryPairs> pairs;
    pairs.reserve(batch.size());
    for (const auto& list : batch) pairs.push_back(pairs_of(list));
    RerankCost cost;
    const std::vector<std::vector<double>> scores = score(pairs, cost);
    std::vector<RerankResult> results(batch.size());
    const std::vector<RerankCost> shares = split_by_tokens(cost, pairs);
    for (std::size_t q = 0; q < batch.size(); ++q) {
      if (pairs[q].sequences.empty()) continue;
      results[q] = rank(batch[q], pairs[q], scores[q]);
      results[q].cost += shares[q];
    }
    return results;
  }

 private:
  struct QueryPairs {
    std::vector<TokenIds> sequences;
    std::vector<std::size_t> owner;  // candidate index of each sequence
    std::size_t document_from = std::string::npos;
  };

  QueryPairs pairs_of(const CandidateList& list) const {
    QueryPairs p;
    if (list.candidates.empty()) return p;
    const auto parts = format_.parts(list.query.text);
    p.document_from = format_.second_segment_start(parts);
    for (std::size_t i = 0; i < list.candidates.size(); ++i) {
      const std::string text = document_text(list.candidates[i].title, list.candidates[i].text);
      for (auto& seq : pointwise::pair_sequences(format_, parts, list.query.text, text, max_length_, overlap_,
                                                 chunking_, list.limits)) {
        p.sequences.push_back(std::move(seq));
        p.owner.push_back(i);
      }
    }
    return p;
  }

  RerankResult rank(const CandidateList& list, const QueryPairs& pairs,
                    const std::vector<double>& seq_scores) const {
    RerankResult result;
    const auto& cands = list.candidates;
    result.cost.model_calls = pairs.sequences.size();
    std::vector<std::vector<double>> chunk_scores(cands.size());
    for (std::size_t s = 0; s < pairs.sequences.size(); ++s)
      chunk_scores[pairs.owner[s]].push_back(seq_scores[s]);
    std::vector<double> doc_scores(cands.size());
    for (std::size_t i = 0; i < cands.size(); ++i)
      doc_scores[i] = pointwise::aggregate(chunk_scores[i], chunking_);
    std::vector<std::size_t> order(cands.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    // Ties keep the first-stage order, so equal scores give a reproducible ranking.
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return doc_scores[a] > doc_scores[b]; });
    for (std::size_t i : order) result.ranking.push_back({cands[i].doc_id, doc_scores[i]});
    return result;
  }

  // The batch's cost shared out by each query's tokens, so that a server reports each request's own
  // usage; integer counts are split exactly (the remainders go to the last query with tokens).
  static std::vector<RerankCost> split_by_tokens(const RerankCost& total,
                                                 const std::vector<QueryPairs>& pairs) {
    std::vector<double> tokens(pairs.size(), 0.0);
    double all = 0;
    for (std::size_t q = 0; q < pairs.size(); ++q) {
      for (const auto& seq : pairs[q].sequences) tokens[q] += static_cast<double>(seq.size());
      all += tokens[q];
    }
    std::vector<RerankCost> shares(pairs.size());
    if (all == 0) return shares;
    RerankCost given;
    std::size_t last = 0;
    for (std::size_t q = 0; q < pairs.size(); ++q) {
      if (tokens[q] == 0) continue;
      const double w = tokens[q] / all;
      auto part = [w](std::uint64_t n) { return static_cast<std::uint64_t>(static_cast<double>(n) * w); };
      RerankCost& c = shares[q];
      c.forward_passes = part(total.forward_passes);
      c.prompt_tokens = part(total.prompt_tokens);
      c.cached_tokens = part(total.cached_tokens);
      c.flops = total.flops * w;
      given += c;
      last = q;
    }
    shares[last].forward_passes += total.forward_passes - given.forward_passes;
    shares[last].prompt_tokens += total.prompt_tokens - given.prompt_tokens;
    shares[last].cached_tokens += total.cached_tokens - given.cached_tokens;
    return shares;
  }

  // Scores of every query's sequences, by query.
  std::vector<std::vector<double>> score(const std::vector<QueryPairs>& pairs, RerankCost& cost) {
    std::vector<std::vector<double>> out(pairs.size());
    if (encoder_) {
      std::vector<TokenIds> all;
      std::vector<std::size_t> segments;
      for (const auto& p : pairs)
        for (const auto& seq : p.sequences) {
          all.push_back(seq);
          if (p.document_from != std::string::npos) segments.push_back(p.document_from);
        }
      if (all.empty()) return out;
      const auto raw = encoder_->score(all, &cost, segments);
      std::size_t next = 0;
      for (std::size_t q = 0; q < pairs.size(); ++q)
        for (std::size_t s = 0; s < pairs[q].sequences.size(); ++s) out[q].push_back(raw[next++]);
      return out;
    }
    std::vector<PromptGroup> groups;
    std::vector<std::size_t> group_query;
    for (std::size_t q = 0; q < pairs.size(); ++q)
      if (!pairs[q].sequences.empty()) {
        groups.push_back(group_by_common_prefix(pairs[q].sequences));
        group_query.push_back(q);
      }
    if (groups.empty()) return out;
    const auto logits = lm_->next_token_logits(groups, answer_tokens_, &cost, reuse_prefix_);
    for (std::size_t g = 0; g < groups.size(); ++g)
      for (const auto& yes_no : logits[g]) {
        // P(yes) = softmax over the two answers' logits.
        const double diff = static_cast<double>(yes_no[1]) - static_cast<double>(yes_no[0]);
        out[group_query[g]].push_back(1.0 / (1.0 + std::exp(diff)));
      }
    return out;
  }

  std::shared_ptr<const Model> model_;
  PairFormat format_;
  std::size_t max_length_ = 512;
  std::size_t overlap_ = 32;
  Chunking chunking_ = Chunking::MaxP;
  bool reuse_prefix_ = true;
  TokenIds answer_tokens_;
  std::unique_ptr<CrossEncoder> encoder_;
  std::unique_ptr<LanguageModel> lm_;
};

const RerankerRegistration registration("pointwise", [](const RerankerOptions& options) -> RerankerBuilder {
  const PointwiseOptions parsed = parse_pointwise(options);
  return [parsed, path = options.model_path] { return std::make_unique<PointwiseReranker>(path, parsed); };
});

}  // namespace
}  // namespace rerank
