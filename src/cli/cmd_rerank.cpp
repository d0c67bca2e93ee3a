// `rerank rerank --model M.gguf --queries Q --corpus C (--run RUN | --first-stage SPEC [--index DIR] |
// --candidates FILE) --output OUT`: reranks each query's top --depth candidates with a neural
// reranker and writes a TREC run (the library's pipeline, rerank/pipeline.h). The documents below
// the depth follow the reranked ones in their original order, with scores lowered so that the run
// stays sorted. Progress with an ETA and a cost summary go to stderr.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <unordered_map>

#include "cli/command.h"
#include "rerank/error.h"
#include "rerank/io.h"
#include "rerank/pipeline.h"
#include "rerank/reranker.h"

namespace rerank::cli {

namespace {

struct RerankArgs {
  std::string model, queries, corpus, run, candidates, output, strategy = "pointwise", chunking, instruction;
  std::string first_stage, index;
  std::string tag = "rerank";
  std::size_t depth = 100;
  std::size_t hits = 1000;
  std::vector<std::string> first_stage_params;
  std::size_t query_batch = 16;
  int max_length = 0;
  int threads = 0;
  std::vector<std::string> params;
};

std::string clock_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

// A one-line progress bar with an ETA: redrawn in place on a terminal, a line every 10 s otherwise;
// silent for jobs that finish within two seconds.
class Progress {
 public:
  explicit Progress(std::size_t total) : total_(total), tty_(isatty(STDERR_FILENO)) {}
  void update(std::size_t done) {
    const double elapsed = seconds();
    if (elapsed < 2.0 && done < total_) return;
    if (done < total_ && elapsed - last_ < (tty_ ? 0.25 : 10.0)) return;
    last_ = elapsed;
    const double rate = elapsed > 0 ? done / elapsed : 0;
    const std::size_t width = 30, filled = total_ ? width * done / total_ : width;
    std::string bar(filled, '=');
    if (filled < width) bar += '>' + std::string(width - filled - 1, ' ');
    std::fprintf(stderr, "%s[%s] %zu/%zu documents, %.1f docs/s, ETA %s%s", tty_ ? "\r" : "", bar.c_str(),
                 done, total_, rate, rate > 0 ? clock_text((total_ - done) / rate).c_str() : "?",
                 tty_ ? "" : "\n");
    shown_ = true;
  }
  void finish() {
    if (shown_ && tty_) std::fputc('\n', stderr);
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::size_t total_;
  bool tty_;
  bool shown_ = false;
  double last_ = -1e9;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

RerankerOptions reranker_options(const RerankArgs& a) {
  RerankerOptions options;
  options.model_path = a.model;
  options.threads = a.threads;
  options.params = key_values(a.params, "--param");
  if (a.max_length > 0) options.params["max_length"] = std::to_string(a.max_length);
  if (!a.chunking.empty()) options.params["chunking"] = a.chunking;
  if (!a.instruction.empty()) options.params["instruction"] = a.instruction;
  return options;
}

// The library's errors name options by their keys; the command line adds the flags that set them.
std::string with_flag_names(std::string message) {
  static const std::vector<std::pair<std::string, std::string>> flags = {
      {"option max_length", "--max-length"},
      {"option chunking", "--chunking"},
      {"option instruction", "--instruction"},
      {"needs a model path", "--model"}};
  for (const auto& [key, flag] : flags)
    for (auto at = message.find(key); at != std::string::npos; at = message.find(key, at + 1))
      message.insert(at + key.size(), " (" + flag + ")");
  return message;
}

void print_summary(const RerankArgs& a, const RerankedRun& r, double secs) {
  const RerankCost& cost = r.cost;
  std::fprintf(stderr,
               "reranked %zu queries, %zu documents in %.1f s (%.1f docs/s) with %s: %llu model calls, "
               "%llu forward passes, %llu prompt tokens, %llu cached tokens, %llu generated tokens, "
               "%llu repaired answers, %.3g GFLOP estimated\n",
               r.queries, r.documents, secs, secs > 0 ? r.documents / secs : 0.0, a.strategy.c_str(),
               static_cast<unsigned long long>(cost.model_calls),
               static_cast<unsigned long long>(cost.forward_passes),
               static_cast<unsigned long long>(cost.prompt_tokens),
               static_cast<unsigned long long>(cost.cached_tokens),
               static_cast<unsigned long long>(cost.generated_tokens),
               static_cast<unsigned long long>(cost.repaired_answers), cost.flops / 1e9);
}

int run_rerank(const RerankArgs& a) {
  const int sources = !a.run.empty() + !a.candidates.empty() + !a.first_stage.empty();
  if (sources != 1) throw Error("give exactly one of --run, --first-stage and --candidates");
  if (a.depth == 0) throw Error("--depth must be at least 1");
  if (a.candidates.empty() && (a.queries.empty() || a.corpus.empty()))
    throw Error(std::string(a.run.empty() ? "--first-stage" : "--run") + " needs --queries and --corpus");
  FirstStageOptions first_options{a.index, key_values(a.first_stage_params, "--first-stage-param")};
  // Every option is checked before any input is read or the model is loaded.
  if (!a.first_stage.empty()) check_first_stage(a.first_stage, first_options);
  const RerankerBuilder build = prepare_reranker(a.strategy, reranker_options(a));
  std::vector<RerankJob> jobs;
  if (!a.candidates.empty()) {
    jobs = jobs_from_candidates_file(a.candidates, a.depth);
  } else {
    const std::vector<Query> queries = read_queries(a.queries);
    const Run run = a.run.empty() ? retrieve_all(*make_first_stage(a.first_stage, first_options), queries,
                                                 a.hits, static_cast<unsigned>(std::max(a.threads, 0)), a.tag)
                                  : read_run(a.run);
    jobs = jobs_from_run(run, queries, a.corpus, a.depth, a.run.empty() ? a.first_stage : a.run, a.queries);
  }
  const auto reranker = build();

  std::size_t total = 0;
  for (const auto& j : jobs) total += j.head.candidates.size();
  Progress progress(total);
  RerankRunOptions options;
  options.query_batch = a.query_batch;
  options.tag = a.tag;
  options.progress = [&progress](std::size_t done, std::size_t) { progress.update(done); };
  const RerankedRun result = rerank_jobs(*reranker, jobs, options);
  progress.finish();
  write_run(a.output, result.run);
  print_summary(a, result, progress.seconds());
  return 0;
}

std::function<int()> setup_rerank(CLI::App& app) {
  auto a = std::make_shared<RerankArgs>();
  app.add_option("--model", a->model, "GGUF reranker: a cross-encoder or a decoder LM")->required();
  app.add_option("--queries", a->queries,
                 "Queries: BEIR queries.jsonl, TREC topics or \"qid<TAB>text\" (with --run)");
  app.add_option("--corpus", a->corpus, "Documents: BEIR corpus.jsonl or TREC SGML (with --run)");
  app.add_option("--run", a->run, "First-stage TREC run to rerank");
  app.add_option("--first-stage", a->first_stage,
                 "Retrieve first: bm25, bm25+rm3, run:FILE, rrf(SPEC,...), interpolate(SPEC,...)");
  app.add_option("--index", a->index, "Index directory for bm25 and bm25+rm3 (from rerank index)");
  app.add_option("--hits", a->hits, "With --first-stage: documents retrieved per query (default 1000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--first-stage-param", a->first_stage_params,
                 "First-stage option KEY=VALUE, e.g. k1=1.2 (repeatable; see docs/first-stage.md)");
  app.add_option("--candidates", a->candidates, "Candidates JSONL (query and documents per line)");
  app.add_option("--output", a->output, "Reranked TREC run to write")->required();
  app.add_option("--depth", a->depth, "Rerank each query's top N candidates (default 100)");
  app.add_option("--max-length", a->max_length,
                 "Tokens per pair; longer documents are chunked (default: model's)");
  app.add_option("--chunking", a->chunking, "Aggregate chunk scores: maxp (default), firstp or sump")
      ->check(CLI::IsMember({"maxp", "firstp", "sump"}));
  app.add_option("--threads", a->threads, "CPU threads (default: all cores)");
  app.add_option("--strategy", a->strategy, "Reranking strategy (default pointwise)");
  app.add_option("--instruction", a->instruction, "Task instruction for LLM rerankers' prompts");
  app.add_option("--param", a->params, "Strategy option KEY=VALUE (repeatable; see docs/rerankers.md)");
  app.add_option("--tag", a->tag, "Run tag of the output (default rerank)");
  app.add_option("--query-batch", a->query_batch, "Queries handed to the reranker at once (default 16)")
      ->check(CLI::PositiveNumber);
  return [a] {
    try {
      return run_rerank(*a);
    } catch (const InputError&) {
      throw;  // names a file and line, never an option
    } catch (const Error& e) {
      throw Error(with_flag_names(e.what()));
    }
  };
}

const CommandRegistration kRerank("rerank", "Rerank a run's top candidates with a neural model (GGUF)",
                                  setup_rerank);

}  // namespace
}  // namespace rerank::cli
