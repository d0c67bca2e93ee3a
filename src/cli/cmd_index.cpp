// `rerank index --corpus FILE --index DIR [--flat] [--memory-mb N] [--overwrite] [--quiet]`
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/command.h"
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
};

std::function<int()> setup_index(CLI::App& app) {
  auto args = std::make_shared<IndexArgs>();
  app.add_option("--corpus", args->corpus, "Documents: BEIR corpus.jsonl or TREC <DOC> file")->required();
  app.add_option("--index", args->index, "Index directory to create")->required();
  app.add_flag("--flat", args->flat,
               "One field, title + \" \" + text (Pyserini's flat BEIR index); default: title and text as "
               "separate fields");
  app.add_option("--memory-mb", args->memory_mb,
                 "Postings kept in memory before spilling a sorted run to disk (default 512)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--overwrite", args->overwrite, "Replace an existing index directory");
  app.add_flag("--quiet", args->quiet, "No progress output on stderr");
  return [args] {
    const auto start = std::chrono::steady_clock::now();
    CorpusReader reader(args->corpus);
    IndexOptions options;
    options.layout = args->flat ? FieldLayout::kFlat : FieldLayout::kMultifield;
    options.memory_budget_bytes = static_cast<std::size_t>(args->memory_mb * 1024.0 * 1024.0);
    options.overwrite = args->overwrite;
    if (!args->quiet) {
      options.progress = [&reader, start](std::uint64_t docs, const char* phase) {
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double percent = reader.bytes_total() ? 100.0 * static_cast<double>(reader.bytes_read()) /
                                                          static_cast<double>(reader.bytes_total())
                                                    : 0;
        std::fprintf(stderr, "rerank index: %s: %llu documents, %.0f%% of the corpus, %.1f s\n", phase,
                     static_cast<unsigned long long>(docs), percent, seconds);
      };
    }
    IndexWriter writer(args->index, options);
    Document doc;
    while (reader.next(doc)) writer.add(doc);
    const IndexBuildStats stats = writer.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!args->quiet)
      std::fprintf(
          stderr,
          "rerank index: indexed %llu documents, %llu terms, %llu spill(s), %.1f MB in %.2f s "
          "(%.0f docs/s) -> %s\n",
          static_cast<unsigned long long>(stats.documents), static_cast<unsigned long long>(stats.terms),
          static_cast<unsigned long long>(stats.spills), static_cast<double>(stats.index_bytes) / 1e6,
          seconds, seconds > 0 ? static_cast<double>(stats.documents) / seconds : 0.0, args->index.c_str());
    return 0;
  };
}

const CommandRegistration registration(
    "index", "Build a BM25 index (Lucene/Anserini-compatible analysis) from a corpus", setup_index);

}  // namespace

}  // namespace rerank::cli
