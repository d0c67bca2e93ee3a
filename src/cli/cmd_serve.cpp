// `rerank serve --model [NAME=]PATH [--model ...] [--host 127.0.0.1] [--port 8080] [--api-key KEY |
//  --api-key-file FILE] [--strategy S] [--param K=V]... [limits]`: the HTTP rerank server
// (rerank/server.h). SIGTERM or SIGINT stops accepting and answers what is in flight, then exits 0.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include "cli/command.h"
#include "rerank/error.h"
#include "rerank/server.h"
#include "rerank/strategy_pool.h"

namespace rerank::cli {
namespace {

struct ServeArgs {
  std::vector<std::string> models, params, api_keys, first_stage_params;
  std::string api_key_file, strategy = "pointwise";
  std::string index, corpus, first_stage = "bm25";
  std::size_t search_candidates = 100;
  int threads = 0;
  ServeOptions options;
};

std::vector<std::string> read_keys(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read the API key file " + path);
  std::vector<std::string> keys;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && line[0] != '#') keys.push_back(line);
  }
  if (keys.empty()) throw Error(path + ": no API keys in it");
  return keys;
}

// The runtime options of --param that the strategies chosen per request share with the served one.
std::map<std::string, std::string> shared_runtime_params(const ServeArgs& a, const RerankerOptions& base) {
  std::map<std::string, std::string> runtime;
  if (!StrategyPool::offers(a.strategy)) return runtime;  // the served strategy's options are its own
  for (const char* key : {"context_tokens", "batch_tokens"})
    if (auto it = base.params.find(key); it != base.params.end()) runtime[key] = it->second;
  return runtime;
}

// --param without the shared runtime options (the pool holds those).
std::map<std::string, std::string> strategy_params(std::map<std::string, std::string> params) {
  params.erase("context_tokens");
  params.erase("batch_tokens");
  return params;
}

std::vector<ServedModel> load_models(const ServeArgs& a) {
  RerankerOptions base;
  base.threads = a.threads;
  base.params = key_values(a.params, "--param");
  // Every model's options are checked before the first one loads.
  std::vector<std::pair<ServedModel, RerankerBuilder>> prepared;
  for (const auto& spec : a.models) {
    const auto eq = spec.find('=');
    ServedModel m;
    m.path = eq == std::string::npos ? spec : spec.substr(eq + 1);
    m.name = eq == std::string::npos ? "default" : spec.substr(0, eq);
    RerankerOptions options = base;
    options.model_path = m.path;
    RerankerOptions pool = options;
    pool.params = shared_runtime_params(a, base);
    m.strategies = std::make_shared<StrategyPool>(pool);
    prepared.emplace_back(std::move(m), prepare_reranker(a.strategy, options));
  }
  std::vector<ServedModel> models;
  for (auto& [m, build] : prepared) {
    // An LLM strategy served by default runs on the pool's model, which requests' strategies share.
    m.reranker = StrategyPool::offers(a.strategy)
                     ? m.strategies->make(a.strategy, strategy_params(base.params))
                     : build();
    models.push_back(std::move(m));
  }
  return models;
}

std::optional<SearchOptions> search_options(const ServeArgs& a) {
  if (a.index.empty() != a.corpus.empty()) throw Error("--index and --corpus go together (for POST /search)");
  if (a.index.empty()) {
    if (!a.first_stage_params.empty()) throw Error("--first-stage-param needs --index and --corpus");
    return std::nullopt;
  }
  SearchOptions s;
  s.first_stage = a.first_stage;
  s.first_stage_options = {a.index, key_values(a.first_stage_params, "--first-stage-param")};
  s.corpus_path = a.corpus;
  s.candidates = a.search_candidates;
  check_first_stage(s.first_stage, s.first_stage_options);
  return s;
}

int run_serve(ServeArgs& a) {
  ServeOptions options = a.options;
  options.api_keys = a.api_keys;
  if (!a.api_key_file.empty())
    for (auto& k : read_keys(a.api_key_file)) options.api_keys.push_back(std::move(k));
  options.search = search_options(a);
  // Signals are taken by one thread (sigwait) so that stopping never runs inside a handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  RerankServer server(options, load_models(a));
  const int port = server.bind();
  std::fprintf(stderr, "rerank serve: listening on http://%s:%d (%zu model(s), %s)\n", options.host.c_str(),
               port, a.models.size(), options.api_keys.empty() ? "no API key" : "API keys required");
  std::atomic<bool> signalled{false};
  std::thread waiter([&server, &signalled, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (signalled.exchange(true)) return;  // our own wake-up below
    std::fprintf(stderr, "rerank serve: signal %d, finishing requests in flight\n", sig);
    server.stop();
  });
  server.run();
  // run() returned without a signal: cpp-httplib ends its accept loop on an accept() error. Wake the
  // waiter with one, and exit non-zero so that a supervisor (systemd's Restart=on-failure) restarts.
  const bool listen_failed = !signalled.exchange(true);
  if (listen_failed) kill(getpid(), SIGTERM);
  waiter.join();
  if (listen_failed) {
    std::fprintf(stderr, "rerank serve: stopped accepting connections (accept() failed); exiting\n");
    return 1;
  }
  return 0;
}

std::function<int()> setup_serve(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  app.add_option("--model", a->models,
                 "GGUF model to serve, or NAME=PATH (repeatable; chosen by the request's model)")
      ->required();
  app.add_option("--host", a->options.host, "Address to listen on (default 127.0.0.1)");
  app.add_option("--port", a->options.port, "Port (default 8080; 0: any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--api-key", a->api_keys,
                 "API key clients must send as Authorization: Bearer KEY (repeatable)");
  app.add_option("--api-key-file", a->api_key_file, "File of API keys, one per line");
  app.add_option("--strategy", a->strategy, "Reranking strategy (default pointwise)");
  app.add_option("--param", a->params, "Strategy option KEY=VALUE (repeatable; see docs/rerankers.md)");
  app.add_option("--threads", a->threads, "CPU threads for the model (default: all cores)");
  app.add_option("--max-body-bytes", a->options.max_body_bytes, "Largest request body (default 8 MiB)");
  app.add_option("--max-documents", a->options.max_documents, "Documents per request (default 1000)");
  app.add_option("--max-document-chars", a->options.max_document_chars,
                 "Bytes per document (default 100000)");
  app.add_option("--max-query-chars", a->options.max_query_chars, "Bytes per query (default 10000)");
  app.add_option("--queue", a->options.queue_capacity, "Requests waiting per model before 429 (default 256)");
  app.add_option("--max-batch", a->options.max_batch_queries, "Requests per reranker call (default 64)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-batch-documents", a->options.max_batch_documents,
                 "Documents per reranker call; a larger request runs alone (default 256)")
      ->check(CLI::PositiveNumber);
  app.add_option("--request-timeout", a->options.request_timeout_seconds,
                 "Seconds before an unanswered request gets 503 (default 60)")
      ->check(CLI::PositiveNumber);
  app.add_option("--http-threads", a->options.http_threads,
                 "Connection threads kept (default 16; more start, up to 1024, while connections wait)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--max-http-threads", a->options.max_http_threads,
                 "Connections served at once at most, while connections wait (default 1024)")
      ->check(CLI::Range(1, 65536));
  app.add_option("--read-timeout", a->options.read_timeout_seconds,
                 "Seconds a client may stay silent in the middle of a request (default 5)")
      ->check(CLI::Range(1, 3600));
  app.add_option("--keep-alive-timeout", a->options.keep_alive_seconds,
                 "Seconds an idle kept-alive connection stays open (default 5)")
      ->check(CLI::Range(1, 3600));
  app.add_option("--index", a->index, "Index for POST /search (with --corpus)");
  app.add_option("--corpus", a->corpus, "The corpus the index was built from (texts for /search)");
  app.add_option("--first-stage", a->first_stage, "First stage of /search (default bm25; see rerank search)");
  app.add_option("--first-stage-param", a->first_stage_params, "First-stage option KEY=VALUE (repeatable)");
  app.add_option("--search-candidates", a->search_candidates,
                 "First-stage hits /search reranks when a request does not say (default 100)")
      ->check(CLI::PositiveNumber);
  return [a] { return run_serve(*a); };
}

const CommandRegistration kServe("serve", "Serve reranking over HTTP (TEI, Cohere v1/v2, Jina clients)",
                                 setup_serve);

}  // namespace
}  // namespace rerank::cli
