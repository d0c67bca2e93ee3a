// `rerank embed --model M.gguf --input TEXTS --output VECTORS.jsonl [--max-tokens N] [--normalize]`
// Embeds texts (a BEIR corpus or any queries file) with an embedding model and writes one JSON line
// {"id": ..., "embedding": [...]} per text: for checking parity with other implementations and for
// use elsewhere.
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "rerank/atomic_file.h"
#include "rerank/dense.h"
#include "rerank/embedding_model.h"
#include "rerank/error.h"
#include "rerank/io.h"

namespace rerank::cli {
namespace {

struct EmbedArgs {
  std::string model, input, output;
  int max_tokens = 0;
  int threads = 0;
  bool normalize = false;
  bool corpus = false;
  std::string runtime = "auto", precision = "auto";
};

// The texts to embed with their ids: documents as "title text" (BEIR convention), or queries.
std::vector<std::pair<std::string, std::string>> read_texts(const EmbedArgs& a) {
  std::vector<std::pair<std::string, std::string>> out;
  if (a.corpus) {
    CorpusReader reader(a.input);
    Document d;
    while (reader.next(d)) out.emplace_back(d.doc_id, document_text(d.title, d.text));
    return out;
  }
  for (const auto& q : read_queries(a.input)) out.emplace_back(q.id, q.text);
  return out;
}

std::function<int()> setup_embed(CLI::App& app) {
  auto a = std::make_shared<EmbedArgs>();
  app.add_option("--model", a->model, "GGUF embedding model (mean, CLS or last-token pooling)")->required();
  app.add_option("--input", a->input,
                 "Texts: queries (BEIR jsonl, TREC topics, TSV), or a corpus with --corpus")
      ->required();
  app.add_flag("--corpus", a->corpus, "--input is a corpus (BEIR jsonl or TREC): embed \"title text\"");
  app.add_option("--output", a->output, "JSON lines {\"id\", \"embedding\"} to write")->required();
  app.add_option("--max-tokens", a->max_tokens,
                 "Longest input in tokens, special tokens included (default: the model's context)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--normalize", a->normalize, "Scale every vector to unit length");
  app.add_option("--threads", a->threads, "CPU threads (default: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--runtime", a->runtime,
                 "auto: rerank.cpp's own runtime for BERT-family models with mean or CLS pooling, llama.cpp "
                 "for the rest; llama; onednn")
      ->check(CLI::IsMember({"auto", "llama", "onednn"}));
  app.add_option(
         "--precision", a->precision,
         "Matrix products of the onednn runtime: auto (BF16 for BF16/8-bit weights on CPUs with native "
         "BF16), f32, bf16, int8 (dynamic quantization)")
      ->check(CLI::IsMember({"auto", "f32", "bf16", "int8"}));
  return [a] {
    const auto texts = read_texts(*a);
    RuntimeOptions options;
    options.threads = a->threads;
    options.max_input_tokens = a->max_tokens;
    using Runtime = RuntimeOptions::EncoderRuntime;
    options.encoder_runtime = a->runtime == "llama"    ? Runtime::Llama
                              : a->runtime == "onednn" ? Runtime::OneDnn
                                                       : Runtime::Auto;
    options.encoder_precision = parse_encoder_precision(a->precision);
    EmbeddingModel model(Model::load(a->model), options);
    std::vector<std::string> batch;
    for (const auto& t : texts) batch.push_back(t.second);
    auto vectors = model.embed(batch);
    io::AtomicFile out(a->output);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (a->normalize) normalize_vector(vectors[i].data(), vectors[i].size());
      out.write(nlohmann::json{{"id", texts[i].first}, {"embedding", vectors[i]}}.dump() + "\n");
    }
    out.commit();
    return 0;
  };
}

const CommandRegistration kEmbed("embed", "Embed texts with an embedding model (JSON lines)", setup_embed);

}  // namespace
}  // namespace rerank::cli
