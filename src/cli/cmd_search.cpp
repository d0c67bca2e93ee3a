// `rerank search --index DIR --queries FILE --output RUN [--first-stage SPEC] [--param KEY=VALUE]...
//  [--hits 1000] [--k1 0.9] [--b 0.4] [--fields title=1.0,text=1.0] [--rm3] [--remove-query] [--threads N]`:
//  any first stage of
// the registry (first_stage.h) over every query, into a TREC run.
#include <chrono>
#include <cstdio>
#include <map>
#include <tuple>

#include "cli/command.h"
#include "rerank/error.h"
#include "rerank/first_stage.h"
#include "rerank/io.h"

namespace rerank::cli {

namespace {

struct SearchArgs {
  std::string first_stage = "bm25";
  std::string index;
  std::string queries;
  std::string output;
  std::size_t hits = 1000;
  // Option values as typed, handed to the first stage as its params (it parses and checks them).
  std::map<std::string, std::string> params;
  std::vector<std::string> generic_params;  // --param KEY=VALUE
  bool rm3 = false;
  bool remove_query = false;
  unsigned threads = 0;
  std::string tag = "rerank";
  bool quiet = false;
};

std::function<int()> setup_search(CLI::App& app) {
  auto args = std::make_shared<SearchArgs>();
  app.add_option("--index", args->index, "Index directory (from rerank index) for bm25 and bm25+rm3");
  app.add_option("--queries", args->queries, "Queries: BEIR queries.jsonl, TREC topics or qid<TAB>text")
      ->required();
  app.add_option("--output", args->output, "TREC run file to write")->required();
  app.add_option("--first-stage", args->first_stage,
                 "bm25 (default), bm25+rm3, dense[:NAME], hybrid[:NAME], run:FILE, rrf(SPEC,...), "
                 "interpolate(SPEC,...)");
  app.add_option(
      "--param", args->generic_params,
      "A first-stage option KEY=VALUE (repeatable), e.g. search=hnsw, ef_search=200, fusion=interpolate, "
      "dense_weight=0.6");
  app.add_option("--hits", args->hits, "Documents per query (default 1000)")->check(CLI::PositiveNumber);
  // Each option below becomes the first stage's parameter of the same name.
  const std::vector<std::tuple<const char*, const char*, const char*>> params = {
      {"--k1", "k1", "BM25 k1 (default 0.9)"},
      {"--b", "b", "BM25 b (default 0.4)"},
      {"--fields", "fields", "Fields and weights, e.g. title=1.0,text=1.0 (default: every field, weight 1)"},
      {"--fb-terms", "fb_terms", "RM3 feedback terms (default 10)"},
      {"--fb-docs", "fb_docs", "RM3 feedback documents (default 10)"},
      {"--original-query-weight", "original_query_weight", "RM3 original query weight (default 0.5)"},
      {"--rrf-k", "rrf_k", "Fusion: RRF constant k (default 60)"},
      {"--weights", "weights", "Fusion: interpolation weights, one per first stage"},
      {"--depth", "depth", "Fusion: documents of each list taking part (default 1000)"},
  };
  for (const auto& [flag, key, help] : params)
    app.add_option_function<std::string>(
        flag, [args, key = std::string(key)](const std::string& v) { args->params[key] = v; }, help);
  app.add_flag("--rm3", args->rm3, "RM3 pseudo-relevance feedback (the same as --first-stage bm25+rm3)");
  app.add_flag("--remove-query", args->remove_query,
               "Drop a hit whose id equals the query id (as Pyserini for BEIR)");
  app.add_option("--threads", args->threads, "Search threads (default: all cores)");
  app.add_option("--tag", args->tag, "Run tag in the last column (default rerank)");
  app.add_flag("--quiet", args->quiet, "No summary on stderr");
  return [args] {
    const auto start = std::chrono::steady_clock::now();
    FirstStageOptions options{args->index, args->params};
    for (const auto& [k, v] : key_values(args->generic_params, "--param")) options.params[k] = v;
    if (args->remove_query) options.params["remove_query"] = "on";
    std::string spec = args->first_stage;
    if (args->rm3) {
      if (spec != "bm25" && spec != "bm25+rm3") throw Error("--rm3 applies to --first-stage bm25");
      spec = "bm25+rm3";
    }
    const auto first_stage = make_first_stage(spec, options);
    const std::vector<Query> queries = read_queries(args->queries);
    const auto loaded = std::chrono::steady_clock::now();
    const Run run = retrieve_all(*first_stage, queries, args->hits, args->threads, args->tag);
    const auto searched = std::chrono::steady_clock::now();
    write_run(args->output, run);
    if (!args->quiet) {
      const double seconds = std::chrono::duration<double>(searched - loaded).count();
      std::fprintf(stderr,
                   "rerank search: %s, %zu queries in %.3f s (%.0f queries/s), index load %.3f s -> %s\n",
                   first_stage->name().c_str(), queries.size(), seconds,
                   seconds > 0 ? static_cast<double>(queries.size()) / seconds : 0.0,
                   std::chrono::duration<double>(loaded - start).count(), args->output.c_str());
    }
    return 0;
  };
}

const CommandRegistration kSearch(
    "search", "Retrieve with a first stage (BM25, RM3, dense, hybrid, a run, fusion) into a TREC run",
    setup_search);

}  // namespace

}  // namespace rerank::cli
