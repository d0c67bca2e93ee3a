// `rerank serve`: the rerank APIs clients already call (TEI's /rerank, Cohere's /v1/rerank and
// /v2/rerank, which Jina and vLLM clients also read), over the library's rerankers. Requests of many
// clients are gathered into one Reranker::rerank call per model (cross-request batching; scores do
// not depend on batch-mates), behind a bounded queue.
#pragma once
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rerank/first_stage.h"
#include "rerank/reranker.h"
#include "rerank/strategy_pool.h"

namespace rerank {

// POST /search: the first stage over an index, and the texts of its documents (held in memory).
struct SearchOptions {
  std::string first_stage = "bm25";       // a first-stage spec (first_stage.h)
  FirstStageOptions first_stage_options;  // the index directory and the stage's options
  std::string corpus_path;                // the corpus the index was built from
  std::size_t candidates = 100;           // first-stage hits reranked when a request does not say
};

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0: any free port (see RerankServer::port)
  std::vector<std::string> api_keys;  // empty: no authentication
  std::size_t max_body_bytes = 8u << 20;
  std::size_t max_documents = 1000;
  std::size_t max_document_chars = 100000;
  std::size_t max_query_chars = 10000;
  std::size_t queue_capacity = 256;    // requests waiting for the model; beyond: 429
  std::size_t max_batch_queries = 64;  // requests in one reranker call
  // Documents in one reranker call: requests join a call while it stays within this (one larger
  // request runs alone). Throughput is the model's either way; smaller calls serve requests in
  // arrival order sooner (docs/BENCHMARKS.md, "Server vs peers").
  std::size_t max_batch_documents = 256;
  // Connection threads: httplib gives each connection a thread until it closes, so the pool grows
  // to max_http_threads while connections wait, and clients that go silent are dropped.
  int http_threads = 16;         // kept running
  int max_http_threads = 1024;   // at most, while connections wait (slow clients hold one each)
  int read_timeout_seconds = 5;  // a client silent this long mid-request is dropped
  int keep_alive_seconds = 5;    // an idle connection is closed after this long
  // A request still unanswered after this long gets 503 (and is dropped if its batch has not
  // started); a client that disconnects is dropped the same way.
  double request_timeout_seconds = 60;
  std::optional<SearchOptions> search;  // POST /search when set
};

// A reranker served under a name (the request's "model" field picks it when there are several).
struct ServedModel {
  std::string name;
  std::string path;  // for /info
  std::shared_ptr<Reranker> reranker;
  // The strategies a request may choose instead (its "strategy" field) on the same model; null: none.
  std::shared_ptr<StrategyPool> strategies;
};

class RerankServer {
 public:
  RerankServer(ServeOptions options, std::vector<ServedModel> models);
  ~RerankServer();
  RerankServer(const RerankServer&) = delete;
  RerankServer& operator=(const RerankServer&) = delete;

  // Binds the socket (throws rerank::Error when it cannot); the port actually bound.
  int bind();
  int port() const;
  // Serves until stop(); requests in flight are answered before it returns.
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Relevance in [0, 1] from a strategy's score (Reranker::score_scale): the sigmoid of a logit, a
// probability as it is, (cosine + 1) / 2, or (n - rank) / n for rank-only strategies.
double relevance_of(ScoreScale scale, double score, std::size_t rank, std::size_t n);

}  // namespace rerank
