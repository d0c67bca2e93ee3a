// `rerank search --index DIR --queries FILE --output RUN [--hits 1000] [--k1 0.9] [--b 0.4]
//  [--fields title=1.0,text=1.0] [--rm3] [--remove-query] [--threads N]`
#include <chrono>
#include <cstdio>

#include "cli/command.h"
#include "rerank/error.h"
#include "rerank/io.h"
#include "rerank/search.h"

namespace rerank::cli {

namespace {

struct SearchArgs {
  std::string index;
  std::string queries;
  std::string output;
  std::size_t hits = 1000;
  float k1 = 0.9f;
  float b = 0.4f;
  std::string fields;
  bool rm3 = false;
  int fb_terms = 10;
  int fb_docs = 10;
  float original_query_weight = 0.5f;
  bool remove_query = false;
  unsigned threads = 0;
  std::string tag = "rerank";
  bool quiet = false;
};

std::function<int()> setup_search(CLI::App& app) {
  auto args = std::make_shared<SearchArgs>();
  app.add_option("--index", args->index, "Index directory (from rerank index)")->required();
  app.add_option("--queries", args->queries, "Queries: BEIR queries.jsonl, TREC topics or qid<TAB>text")
      ->required();
  app.add_option("--output", args->output, "TREC run file to write")->required();
  app.add_option("--hits", args->hits, "Documents per query (default 1000)")->check(CLI::PositiveNumber);
  app.add_option("--k1", args->k1, "BM25 k1 (default 0.9)")->check(CLI::NonNegativeNumber);
  app.add_option("--b", args->b, "BM25 b (default 0.4)")->check(CLI::Range(0.0, 1.0));
  app.add_option("--fields", args->fields,
                 "Fields and weights, e.g. title=1.0,text=1.0 (default: every field of the index, weight 1)");
  app.add_flag("--rm3", args->rm3, "RM3 pseudo-relevance feedback (Anserini's defaults)");
  app.add_option("--fb-terms", args->fb_terms, "RM3 feedback terms (default 10)")->check(CLI::PositiveNumber);
  app.add_option("--fb-docs", args->fb_docs, "RM3 feedback documents (default 10)")
      ->check(CLI::PositiveNumber);
  app.add_option("--original-query-weight", args->original_query_weight,
                 "RM3 original query weight (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--remove-query", args->remove_query,
               "Drop a hit whose id equals the query id (as Pyserini for BEIR)");
  app.add_option("--threads", args->threads, "Search threads (default: all cores)");
  app.add_option("--tag", args->tag, "Run tag in the last column (default rerank)");
  app.add_flag("--quiet", args->quiet, "No summary on stderr");
  return [args] {
    const auto start = std::chrono::steady_clock::now();
    SearchOptions options;
    options.k1 = args->k1;
    options.b = args->b;
    if (!args->fields.empty()) options.fields = parse_field_weights(args->fields);
    options.rm3 = args->rm3;
    options.rm3_options = {args->fb_terms, args->fb_docs, args->original_query_weight};
    options.remove_query = args->remove_query;
    const auto index = Index::open(args->index);
    const std::vector<Query> queries = read_queries(args->queries);
    const auto loaded = std::chrono::steady_clock::now();
    const Run run = search_all(index, options, queries, args->hits, args->threads, args->tag);
    const auto searched = std::chrono::steady_clock::now();
    write_run(args->output, run);
    if (!args->quiet) {
      const double seconds = std::chrono::duration<double>(searched - loaded).count();
      std::fprintf(stderr, "rerank search: %zu queries in %.3f s (%.0f queries/s), index load %.3f s -> %s\n",
                   queries.size(), seconds, seconds > 0 ? static_cast<double>(queries.size()) / seconds : 0.0,
                   std::chrono::duration<double>(loaded - start).count(), args->output.c_str());
    }
    return 0;
  };
}

const CommandRegistration registration("search",
                                       "Retrieve with BM25 (optionally RM3) from an index into a TREC run",
                                       setup_search);

}  // namespace

}  // namespace rerank::cli
