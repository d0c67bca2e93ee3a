// `rerank index --corpus FILE --index DIR [--flat] [--memory-mb N] [--overwrite] [--quiet]
//  [--embed MODEL.gguf [--vectors NAME] [--vector-precision f32|f16|int8] [--hnsw] ...]`
// Builds the BM25 index and, with --embed, the document vectors of dense retrieval beside it.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "cli/command.h"
#include "rerank/dense.h"
#include "rerank/error.h"
#include "rerank/index.h"
#include "rerank/io.h"

namespace rerank::cli {

namespace {

struct IndexArgs {
  std::string corpus;
  std::string index;
  bool flat = false;
  double memory_mb = 512;
  bool overwrite = false;
  bool quiet = false;
  // Dense vectors.
  std::string embed, from_vectors, vectors = "dense", vector_precision = "f32", runtime = "auto",
                                   precision = "auto";
  std::string query_prefix, document_prefix;
  bool query_prefix_set = false, document_prefix_set = false, no_normalize = false;
  int max_tokens = 0, chunk_tokens = 0, chunk_stride = 0, threads = 0;
  bool hnsw = false;
  std::size_t hnsw_m = 16, hnsw_ef_construction = 200;
  unsigned hnsw_threads = 1;
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void build_bm25(const IndexArgs& args) {
  const auto start = Clock::now();
  CorpusReader reader(args.corpus);
  IndexOptions options;
  options.layout = args.flat ? FieldLayout::kFlat : FieldLayout::kMultifield;
  options.memory_budget_bytes = static_cast<std::size_t>(args.memory_mb * 1024.0 * 1024.0);
  options.overwrite = args.overwrite;
  if (!args.quiet) {
    options.progress = [&reader, start](std::uint64_t docs, const char* phase) {
      const double percent = reader.bytes_total() ? 100.0 * static_cast<double>(reader.bytes_read()) /
                                                        static_cast<double>(reader.bytes_total())
                                                  : 0;
      std::fprintf(stderr, "rerank index: %s: %llu documents, %.0f%% of the corpus, %.1f s\n", phase,
                   static_cast<unsigned long long>(docs), percent, seconds_since(start));
    };
  }
  IndexWriter writer(args.index, options);
  Document doc;
  while (reader.next(doc)) writer.add(doc);
  const IndexBuildStats stats = writer.finish();
  const double seconds = seconds_since(start);
  if (!args.quiet)
    std::fprintf(stderr,
                 "rerank index: indexed %llu documents, %llu terms, %llu spill(s), %.1f MB in %.2f s "
                 "(%.0f docs/s) -> %s\n",
                 static_cast<unsigned long long>(stats.documents),
                 static_cast<unsigned long long>(stats.terms), static_cast<unsigned long long>(stats.spills),
                 static_cast<double>(stats.index_bytes) / 1e6, seconds,
                 seconds > 0 ? static_cast<double>(stats.documents) / seconds : 0.0, args.index.c_str());
}

DenseEncoding encoding_from(const IndexArgs& a) {
  DenseEncoding e = default_encoding(Model::load(a.embed)->info());
  if (a.query_prefix_set) e.query_prefix = a.query_prefix;
  if (a.document_prefix_set) e.document_prefix = a.document_prefix;
  e.max_tokens = a.max_tokens;
  e.chunk_tokens = a.chunk_tokens;
  e.chunk_stride = a.chunk_stride;
  e.normalize = !a.no_normalize;
  return e;
}

void embed_documents(const IndexArgs& a, const std::string& path) {
  const auto start = Clock::now();
  EmbedCorpusOptions options;
  options.encoding = encoding_from(a);
  options.precision = parse_vector_precision(a.vector_precision);
  options.overwrite = true;  // a staging name; the final name was checked by StagedVectors
  options.runtime.threads = a.threads;
  using Runtime = RuntimeOptions::EncoderRuntime;
  options.runtime.encoder_runtime = a.runtime == "llama"    ? Runtime::Llama
                                    : a.runtime == "onednn" ? Runtime::OneDnn
                                                            : Runtime::Auto;
  options.runtime.encoder_precision = parse_encoder_precision(a.precision);
  if (!a.quiet)
    options.progress = [start](std::uint64_t docs, double fraction) {
      const double s = seconds_since(start);
      std::fprintf(stderr,
                   "rerank index: embedding: %llu documents, %.0f%% of the corpus, %.1f s (%.1f docs/s)\n",
                   static_cast<unsigned long long>(docs), 100 * fraction, s,
                   s > 0 ? static_cast<double>(docs) / s : 0);
    };
  const VectorFileStats stats = embed_corpus(a.corpus, a.embed, path, options);
  const double s = seconds_since(start);
  if (!a.quiet)
    std::fprintf(
        stderr,
        "rerank index: embedded %llu documents (%llu vectors, %s) in %.1f s (%.1f docs/s), %.1f MB -> %s\n",
        static_cast<unsigned long long>(stats.documents), static_cast<unsigned long long>(stats.rows),
        a.vector_precision.c_str(), s, s > 0 ? static_cast<double>(stats.documents) / s : 0,
        static_cast<double>(stats.file_bytes) / 1e6, vector_file_path(a.index, a.vectors).c_str());
}

void build_graph(const IndexArgs& a, const std::string& vectors_path, const std::string& path) {
  const auto start = Clock::now();
  const auto vectors = VectorSet::open(vectors_path);
  HnswOptions options;
  options.m = a.hnsw_m;
  options.ef_construction = a.hnsw_ef_construction;
  options.threads = a.hnsw_threads;
  if (!a.quiet)
    options.progress = [start](std::uint64_t done) {
      std::fprintf(stderr, "rerank index: HNSW: %llu vectors inserted, %.1f s\n",
                   static_cast<unsigned long long>(done), seconds_since(start));
    };
  HnswIndex::build(*vectors, path, options);
  if (!a.quiet)
    std::fprintf(stderr, "rerank index: HNSW graph (m=%zu, ef_construction=%zu) in %.1f s -> %s\n", a.hnsw_m,
                 a.hnsw_ef_construction, seconds_since(start), hnsw_file_path(a.index, a.vectors).c_str());
}

// New vectors (and their graph) are written under staging names beside the index directory and
// renamed into it only when everything, the BM25 index included, is complete: a kill leaves the
// previous vectors, graph and index. Only the instants between the final renames can leave a
// mismatched pair, which HNSW search refuses ("built over other vectors"). Unpublished staging files
// are removed when an error unwinds.
class StagedVectors {
 public:
  explicit StagedVectors(const IndexArgs& a)
      : vectors_(vector_file_path(a.index, a.vectors)), graph_(hnsw_file_path(a.index, a.vectors)) {
    if (!a.overwrite && std::filesystem::exists(vectors_))
      throw Error(vectors_ + " exists (pass --overwrite to replace it)");
    std::string dir = std::filesystem::path(a.index).lexically_normal().string();
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();  // "idx/": beside idx, not inside
    const std::string stem = dir + "." + a.vectors + ".staged-" + std::to_string(::getpid());
    staged_vectors_ = stem + ".vec";
    staged_graph_ = stem + ".hnsw";
  }
  ~StagedVectors() {
    std::error_code ec;
    std::filesystem::remove(staged_vectors_, ec);
    std::filesystem::remove(staged_graph_, ec);
  }
  const std::string& vectors() const { return staged_vectors_; }
  const std::string& graph() const { return staged_graph_; }
  void publish(bool with_graph) const {
    if (with_graph) rename_into_place(staged_graph_, graph_);
    rename_into_place(staged_vectors_, vectors_);
  }

 private:
  static void rename_into_place(const std::string& from, const std::string& to) {
    std::error_code ec;
    std::filesystem::rename(from, to, ec);
    if (ec) throw Error("cannot rename " + from + " to " + to + ": " + ec.message());
  }
  std::string vectors_, graph_, staged_vectors_, staged_graph_;
};

void add_dense_options(CLI::App& app, const std::shared_ptr<IndexArgs>& a) {
  app.add_option("--embed", a->embed,
                 "Also embed the documents with this GGUF embedding model (dense retrieval)");
  app.add_option("--vectors", a->vectors,
                 "Name of the vectors in the index directory: DIR/NAME.vec (default dense)");
  app.add_option(
      "--from-vectors", a->from_vectors,
      "Store the existing vectors DIR/NAME.vec again as --vectors in --vector-precision (no encoding)");
  app.add_option("--vector-precision", a->vector_precision, "Stored vectors: f32 (default), f16, int8")
      ->check(CLI::IsMember({"f32", "f16", "int8"}));
  app.add_option(
         "--embed-max-tokens", a->max_tokens,
         "Longest document in tokens, special tokens included; longer ones are truncated (default: the "
         "model's window)")
      ->check(CLI::NonNegativeNumber);
  app.add_option(
         "--chunk-tokens", a->chunk_tokens,
         "Cut long documents into windows of this many tokens, one vector each; a document scores its "
         "best window (default: truncate)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--chunk-stride", a->chunk_stride, "Tokens between window starts (default: --chunk-tokens)")
      ->check(CLI::NonNegativeNumber);
  app.add_option_function<std::string>(
      "--query-prefix", [a](const std::string& v) { a->query_prefix = v, a->query_prefix_set = true; },
      "Text before every query (default: the model family's, e.g. e5 \"query: \")");
  app.add_option_function<std::string>(
      "--document-prefix",
      [a](const std::string& v) { a->document_prefix = v, a->document_prefix_set = true; },
      "Text before every document (default: the model family's, e.g. e5 \"passage: \")");
  app.add_flag("--no-normalize", a->no_normalize,
               "Keep the model's vector lengths (default: unit length, cosine)");
  app.add_option("--runtime", a->runtime, "Encoder runtime: auto, llama, onednn")
      ->check(CLI::IsMember({"auto", "llama", "onednn"}));
  app.add_option("--precision", a->precision, "Encoder matrix products: auto, f32, bf16, int8")
      ->check(CLI::IsMember({"auto", "f32", "bf16", "int8"}));
  app.add_option("--threads", a->threads, "Embedding threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--hnsw", a->hnsw, "Build the HNSW graph of the vectors (for search=hnsw)");
  app.add_option("--hnsw-m", a->hnsw_m, "HNSW links per node (default 16)")->check(CLI::Range(2, 1024));
  app.add_option("--hnsw-ef-construction", a->hnsw_ef_construction,
                 "HNSW candidates while inserting (default 200)")
      ->check(CLI::PositiveNumber);
  app.add_option("--hnsw-threads", a->hnsw_threads,
                 "HNSW insertion threads (default 1; more are faster but make the graph depend on timing)")
      ->check(CLI::PositiveNumber);
}

std::function<int()> setup_index(CLI::App& app) {
  auto args = std::make_shared<IndexArgs>();
  app.add_option("--corpus", args->corpus, "Documents: BEIR corpus.jsonl or TREC <DOC> file");
  app.add_option("--index", args->index, "Index directory to create")->required();
  app.add_flag("--flat", args->flat,
               "One field, title + \" \" + text (Pyserini's flat BEIR index); default: title and text as "
               "separate fields");
  app.add_option("--memory-mb", args->memory_mb,
                 "Postings kept in memory before spilling a sorted run to disk (default 512)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--overwrite", args->overwrite, "Replace an existing index directory (or vector file)");
  app.add_flag("--quiet", args->quiet, "No progress output on stderr");
  add_dense_options(app, args);
  return [args] {
    const IndexArgs& a = *args;
    const bool have_bm25 = std::filesystem::exists(a.index + "/index.rrx");
    if (!a.from_vectors.empty() && !a.embed.empty())
      throw Error("--from-vectors and --embed exclude each other");
    const bool graph_only = a.hnsw && a.embed.empty() && a.corpus.empty() && a.from_vectors.empty();
    if (a.corpus.empty() && !graph_only && a.from_vectors.empty())
      throw Error("--corpus is required (except with --hnsw or --from-vectors alone)");
    if (graph_only) {
      build_graph(a, vector_file_path(a.index, a.vectors), hnsw_file_path(a.index, a.vectors));
      return 0;
    }
    // With --embed, an existing BM25 index of the directory is kept: vectors are added beside it.
    const bool bm25 = a.from_vectors.empty() && !(have_bm25 && !a.embed.empty() && !a.overwrite);
    if (a.embed.empty() && a.from_vectors.empty()) {
      build_bm25(a);
      return 0;
    }
    const StagedVectors staged(a);
    if (!a.from_vectors.empty()) {
      const auto stats = convert_vectors(*VectorSet::open(vector_file_path(a.index, a.from_vectors)),
                                         staged.vectors(), parse_vector_precision(a.vector_precision), true);
      if (!a.quiet)
        std::fprintf(stderr, "rerank index: %llu vectors stored as %s -> %s\n",
                     static_cast<unsigned long long>(stats.rows), a.vector_precision.c_str(),
                     vector_file_path(a.index, a.vectors).c_str());
    } else {
      embed_documents(a, staged.vectors());
    }
    if (a.hnsw) build_graph(a, staged.vectors(), staged.graph());
    if (bm25) build_bm25(a);
    staged.publish(a.hnsw);
    return 0;
  };
}

const CommandRegistration kIndex(
    "index", "Build a BM25 index (Lucene/Anserini-compatible analysis) and document vectors from a corpus",
    setup_index);

}  // namespace

}  // namespace rerank::cli
