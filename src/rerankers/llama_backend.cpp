// The LLM backend on the llama.cpp runtime of src/model (LanguageModel): label logits through the
// runtime's batched next-token logits with shared-prefix KV reuse, generation of all requests at
// once (shared decoding passes) under their grammar or constraint.
#include "rerankers/llama_backend.h"

#include <algorithm>
#include <map>

#include "rerank/embedding_model.h"
#include "rerank/error.h"
#include "rerank/language_model.h"
#include "rerank/llm_backend.h"
#include "rerank/model.h"

namespace rerank {
namespace {

class LlamaBackend : public LlmBackend {
 public:
  LlamaBackend(const std::string& model_path, int threads, const llm::LlmRuntimeOptions& runtime)
      : model_(Model::load(model_path)) {
    // Encoders without a head (all-MiniLM, bge) serve the embedding strategies only.
    if (model_->info().kind == ModelKind::CrossEncoder)
      throw Error(model_path +
                  ": a cross-encoder scores pairs; use the pointwise strategy (LLM strategies need a decoder "
                  "language model, embedding strategies an embedding model)");
    RuntimeOptions ro;
    ro.threads = threads;
    ro.context_tokens = runtime.context_tokens;
    ro.batch_tokens = runtime.batch_tokens;
    runtime_ = ro;
    if (model_->info().kind == ModelKind::DecoderLM) lm_ = std::make_unique<LanguageModel>(model_, ro);
  }

  bool is_encoder() const override { return !lm_; }

  std::vector<LabelLogits> label_logits(const std::vector<LabelRequest>& requests) override {
    require_decoder();
    // One token list for the whole call: the first token of every label.
    std::vector<std::vector<std::int32_t>> label_tokens(requests.size());
    TokenIds all;
    for (std::size_t i = 0; i < requests.size(); ++i)
      for (const auto& label : requests[i].labels) {
        const auto t = first_token(label);
        label_tokens[i].push_back(t);
        all.push_back(t);
      }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    std::map<std::int32_t, std::size_t> column;
    for (std::size_t c = 0; c < all.size(); ++c) column[all[c]] = c;

    // Requests of one prefix group (one query) share their KV prefix; groups run one after another.
    std::map<std::size_t, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < requests.size(); ++i) groups[requests[i].prefix_group].push_back(i);
    std::vector<LabelLogits> out(requests.size());
    for (const auto& [key, members] : groups) {
      std::vector<TokenIds> prompts;
      for (auto i : members) prompts.push_back(tokenize_prompt(requests[i].prompt));
      RerankCost cost;
      const auto logits = lm_->next_token_logits({group_by_common_prefix(prompts)}, all, &cost);
      for (std::size_t m = 0; m < members.size(); ++m) {
        const std::size_t i = members[m];
        for (auto t : label_tokens[i]) out[i].logits.push_back(logits[0][m][column[t]]);
      }
      // The group's cost is the cost of its requests together; it is booked on the first one so that
      // per-query sums are exact.
      out[members[0]].cost = cost;
    }
    return out;
  }

  std::vector<Generation> generate(const std::vector<GenerationRequest>& requests) override {
    require_decoder();
    // All requests in one runtime call: their decoding steps share forward passes.
    std::vector<TokenIds> prompts;
    std::vector<GenerationOptions> options;
    for (const auto& r : requests) {
      prompts.push_back(tokenize_prompt(r.prompt));
      options.push_back({r.max_tokens, r.grammar, r.constraint});
    }
    std::vector<RerankCost> costs;
    auto texts = lm_->generate(prompts, options, &costs);
    std::vector<Generation> out(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) out[i] = {std::move(texts[i].text), costs[i]};
    return out;
  }

  std::vector<Embedding> embed(const std::vector<std::string>& texts) override {
    if (!embedder_) embedder_ = std::make_unique<EmbeddingModel>(model_, runtime_);  // only when needed
    std::vector<RerankCost> costs;
    auto vectors = embedder_->embed(texts, &costs);
    std::vector<Embedding> out(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) out[i] = {std::move(vectors[i]), costs[i]};
    return out;
  }

  bool labels_are_single_tokens(const std::vector<std::string>& labels) const override {
    for (const auto& l : labels)
      if (model_->tokenizer().tokenize(l, false, false).size() != 1) return false;
    return true;
  }

  std::string truncate(const std::string& text, std::size_t max_tokens) const override {
    const auto tokens = model_->tokenizer().tokenize(text, false, false);
    if (tokens.size() <= max_tokens) return text;
    std::string out;
    for (std::size_t i = 0; i < max_tokens; ++i) out += model_->tokenizer().token_text(tokens[i]);
    return out;
  }

  std::string chat(const std::string& system, const std::string& user,
                   const std::string& answer_prefix) const override {
    const std::string prompt = model_->decoder_prompt(system, user);
    // Plain prompts end with "Answer:"; a written answer start follows a space.
    return prompt + (model_->plain_prompts() && !answer_prefix.empty() ? " " : "") + answer_prefix;
  }

 private:
  void require_decoder() const {
    if (!lm_)
      throw Error(model_->info().path + ": this strategy needs a decoder language model; this is an " +
                  to_string(model_->info().kind) + " (it serves the embedding strategies)");
  }
  std::int32_t first_token(const std::string& label) const {
    const auto t = model_->tokenizer().tokenize(label, false, false);
    if (t.empty()) throw Error("an answer label is empty");
    return t[0];
  }
  TokenIds tokenize_prompt(const std::string& prompt) const {
    return model_->tokenizer().tokenize(prompt, true, true);
  }

  std::shared_ptr<const Model> model_;
  RuntimeOptions runtime_;
  std::unique_ptr<LanguageModel> lm_;
  std::unique_ptr<EmbeddingModel> embedder_;
};

}  // namespace

namespace llm {

LlmRuntimeOptions read_runtime_options(OptionReader& reader) {
  LlmRuntimeOptions o;
  o.context_tokens = reader.integer("context_tokens", o.context_tokens, 1, 1 << 20);
  o.batch_tokens = reader.integer("batch_tokens", o.batch_tokens, 1, 1 << 20);
  return o;
}

std::shared_ptr<LlmBackend> open_llama_backend(const std::string& model_path, int threads,
                                               const LlmRuntimeOptions& runtime) {
  if (model_path.empty()) throw Error("LLM reranking strategies need a model path");
  return std::make_shared<LlamaBackend>(model_path, threads, runtime);
}

}  // namespace llm
}  // namespace rerank
