// The HTTP side of `rerank serve`, on cpp-httplib (Debian's libcpp-httplib-dev; see
// docs/ARCHITECTURE.md for the choice): routes, authentication, limits, error bodies and metrics; the
// work goes through one Batcher per model.
#include "rerank/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "rerank/version.h"
#include "server/connection.h"
#include "server/metrics.h"
#include "server/request_body.h"
#include "server/search.h"
#include "server/served_model.h"
#include "server/thread_pool.h"

namespace rerank {

double relevance_of(ScoreScale scale, double score, std::size_t rank, std::size_t n) {
  switch (scale) {
    case ScoreScale::Logit:
      return 1.0 / (1.0 + std::exp(-score));
    case ScoreScale::Probability:
      return std::clamp(score, 0.0, 1.0);
    case ScoreScale::Cosine:
      return std::clamp((score + 1.0) / 2.0, 0.0, 1.0);
    case ScoreScale::Ordinal:
      break;
  }
  return n ? static_cast<double>(n - rank) / static_cast<double>(n) : 0.0;
}

namespace {

using server::Dialect;
using server::RequestError;
using Clock = std::chrono::steady_clock;

const std::set<std::string> kRoutes = {"/rerank", "/v1/rerank", "/v2/rerank", "/search",
                                       "/health", "/info",      "/metrics"};

// When the request being handled on this thread arrived (its body read): the handler runs on the
// thread that read it, and the logger after the response on the same thread.
thread_local Clock::time_point request_start{};

Dialect dialect_of(const std::string& path) {
  if (path.rfind("/v1/", 0) == 0) return Dialect::CohereV1;
  if (path.rfind("/v2/", 0) == 0) return Dialect::CohereV2;
  if (path == "/search") return Dialect::Search;
  return Dialect::Tei;
}

// Equal keys in time that does not depend on where they differ.
bool same_key(const std::string& given, const std::string& key) {
  if (key.empty()) return false;
  unsigned char diff = given.size() == key.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ key[i % key.size()]);
  return diff == 0;
}

void send_error(httplib::Response& res, Dialect dialect, int status, const std::string& message) {
  res.status = status;
  if (status == 429 || status == 503) res.set_header("Retry-After", "1");
  res.set_content(server::render_error(dialect, status, message), "application/json");
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

struct RerankServer::Impl {
  ServeOptions options;
  server::Metrics metrics;
  std::vector<std::unique_ptr<server::ServedModelState>> models;
  std::unique_ptr<server::SearchService> search;
  httplib::Server http;
  std::atomic<std::uint64_t> next_id{0};
  std::uint64_t id_salt = std::random_device{}();
  int bound_port = -1;
  int listen_socket = -1;  // see the constructor

  server::Limits limits() const {
    return {options.max_documents, options.max_document_chars, options.max_query_chars};
  }

  std::string new_id() {
    char id[40];
    std::snprintf(id, sizeof id, "%016llx-%08llx", static_cast<unsigned long long>(id_salt),
                  static_cast<unsigned long long>(next_id++));
    return id;
  }

  bool authorized(const httplib::Request& req) const {
    if (options.api_keys.empty()) return true;
    const std::string header = req.get_header_value("Authorization");
    // The scheme is case-insensitive (RFC 9110 11.1): Elasticsearch's Cohere schema sends "bearer".
    const std::string prefix = "bearer ";
    if (header.size() < prefix.size() ||
        !std::equal(prefix.begin(), prefix.end(), header.begin(),
                    [](char p, char h) { return p == std::tolower(static_cast<unsigned char>(h)); }))
      return false;
    const std::string key = header.substr(prefix.size());
    bool ok = false;
    for (const auto& k : options.api_keys) ok |= same_key(key, k);
    return ok;
  }

  server::ServedModelState& model_for(const std::string& name) {
    if (models.size() == 1) return *models.front();
    for (auto& m : models)
      if (m->name() == name) return *m;
    std::string known;
    for (const auto& m : models) known += (known.empty() ? "" : ", ") + m->name();
    throw RequestError(404, "no model '" + name + "' (served: " + known + ")");
  }

  // What answers a request: its model, the strategy it chose (null: the served one) and its scale.
  struct Choice {
    server::ServedModelState& model;
    std::shared_ptr<Reranker> strategy;
    ScoreScale scale;
  };
  Choice choose(const server::RerankRequest& request) {
    server::ServedModelState& model = model_for(request.model);
    std::shared_ptr<Reranker> strategy = model.strategy_for(request);
    const ScoreScale scale = (strategy ? *strategy : model.served()).score_scale();
    return {model, std::move(strategy), scale};
  }

  // Queues the list and waits for its result, giving up (and dropping the request if its batch has
  // not started) when the client disconnects or the timeout passes.
  RerankResult rerank_list(server::ServedModelState& model, CandidateList list,
                           std::shared_ptr<Reranker> strategy, const httplib::Request& req) {
    server::Ticket ticket = model.batcher().submit(std::move(list), std::move(strategy));
    const auto deadline = request_start + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(options.request_timeout_seconds));
    std::unique_ptr<server::ClientConnection> connection;  // found only for requests that wait
    while (ticket.result.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
      if (!connection)
        connection =
            std::make_unique<server::ClientConnection>(req.remote_addr, req.remote_port, req.local_port);
      if (connection->gone()) {
        ticket.abandoned->store(server::Abandoned::Disconnected);
        throw RequestError(499, "the client disconnected");
      }
      if (Clock::now() >= deadline) {
        ticket.abandoned->store(server::Abandoned::TimedOut);
        throw RequestError(503, "no answer within the request timeout of " +
                                    std::to_string(options.request_timeout_seconds) + " s; try again");
      }
    }
    return ticket.result.get();
  }

  std::string rerank(Dialect dialect, const httplib::Request& req, const std::string& body) {
    const server::RerankRequest request = server::parse_request(dialect, body, limits());
    auto [model, strategy, scale] = choose(request);
    CandidateList list;
    list.query = {"q", request.query};
    list.limits = request.limits;
    for (std::size_t i = 0; i < request.texts.size(); ++i)
      list.candidates.push_back({std::to_string(i), "", request.texts[i], 0.0});
    const RerankResult result = rerank_list(model, std::move(list), std::move(strategy), req);
    std::vector<server::ScoredIndex> scored;
    for (std::size_t rank = 0; rank < result.ranking.size(); ++rank) {
      const auto& d = result.ranking[rank];
      scored.push_back(
          {std::stoul(d.doc_id), relevance_of(scale, d.score, rank, result.ranking.size()), d.score});
    }
    return server::render_response(request, std::move(scored), new_id(), model.name(),
                                   result.cost.prompt_tokens);
  }

  std::string search_route(const httplib::Request& req, const std::string& body) {
    if (!search) throw RequestError(404, "this server has no index: start it with --index and --corpus");
    const server::RerankRequest request = server::parse_request(Dialect::Search, body, limits());
    auto [model, strategy, scale] = choose(request);
    const auto start = Clock::now();
    CandidateList list =
        search->retrieve(request.query, request.candidates.value_or(search->default_candidates()));
    list.limits = request.limits;
    const double first_stage_seconds = seconds_since(start);
    const auto rerank_start = Clock::now();
    RerankResult result;
    if (!list.candidates.empty()) result = rerank_list(model, list, std::move(strategy), req);
    return server::render_search(request, *search, list, result, scale, new_id(), model.name(),
                                 first_stage_seconds, seconds_since(rerank_start));
  }

  // Reads the body (server/request_body.h) and answers with work(body) or the error it throws.
  template <class Work>
  void answer(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read,
              Work work) {
    const Dialect dialect = dialect_of(req.path);
    std::string body;
    if (!server::read_body(req, res, read, dialect, options.max_body_bytes, body)) return;
    try {
      res.set_content(work(body), "application/json");
    } catch (const RequestError& e) {
      send_error(res, dialect, e.status(), e.what());
    } catch (const InvalidInput& e) {
      send_error(res, dialect, 422, e.what());
    } catch (const std::exception& e) {
      send_error(res, dialect, 500, std::string("reranking failed: ") + e.what());
    }
  }

  std::string info() const;
  void routes();
};

std::string RerankServer::Impl::info() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : models)
    list.push_back({{"name", m->name()},
                    {"path", m->path()},
                    {"strategy", m->served().name()},
                    {"strategies_per_request", m->choosable_strategies()}});
  nlohmann::json out{{"version", RERANK_VERSION_STRING},
                     {"models", list},
                     {"limits",
                      {{"max_body_bytes", options.max_body_bytes},
                       {"max_documents", options.max_documents},
                       {"max_document_chars", options.max_document_chars},
                       {"max_query_chars", options.max_query_chars},
                       {"queue_capacity", options.queue_capacity},
                       {"max_batch_requests", options.max_batch_queries},
                       {"max_batch_documents", options.max_batch_documents},
                       {"request_timeout_seconds", options.request_timeout_seconds}}}};
  if (search)
    out["search"] = {{"first_stage", search->first_stage()},
                     {"documents", search->documents()},
                     {"candidates", search->default_candidates()}};
  return out.dump();
}

void RerankServer::Impl::routes() {
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    request_start = Clock::now();
    if (req.path == "/health" || authorized(req)) return httplib::Server::HandlerResponse::Unhandled;
    server::send_error_and_close(res, dialect_of(req.path), 401,
                                 "missing or wrong API key (Authorization: Bearer KEY)");
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    // Statuses httplib answers itself (400, 413) come without a start time: counted, not timed.
    const double seconds = request_start == Clock::time_point{} ? -1 : seconds_since(request_start);
    request_start = Clock::time_point{};
    metrics.request_done(kRoutes.count(req.path) ? req.path : "other", res.status, seconds);
  });
  using httplib::ContentReader, httplib::Request, httplib::Response;
  for (const char* path : {"/rerank", "/v1/rerank", "/v2/rerank"})
    http.Post(path, [this](const Request& req, Response& res, const ContentReader& read) {
      answer(req, res, read,
             [&](const std::string& body) { return rerank(dialect_of(req.path), req, body); });
    });
  http.Post("/search", [this](const Request& req, Response& res, const ContentReader& read) {
    answer(req, res, read, [&](const std::string& body) { return search_route(req, body); });
  });
  http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
  http.Get("/info", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(info(), "application/json");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::map<std::string, std::size_t> depth;
    for (const auto& m : models) depth[m->name()] = m->batcher().queued();
    res.set_content(metrics.render(depth), "text/plain; version=0.0.4; charset=utf-8");
  });
  // Statuses httplib sets itself (404 unknown route, 413 body too large, 400 bad request line) get
  // the dialect's error body too.
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.has_header("Content-Type")) return;  // ours already
    const std::string message = res.status == 404   ? "no route " + req.method + " " + req.path
                                : res.status == 413 ? server::kBodyTooLarge
                                : res.status == 414 ? "the request line is too long"
                                : res.status >= 500 ? "the server failed to handle the request"
                                                    : "malformed HTTP request";
    send_error(res, dialect_of(req.path), res.status, message);
  });
}

RerankServer::RerankServer(ServeOptions options, std::vector<ServedModel> models)
    : impl_(std::make_unique<Impl>()) {
  if (models.empty()) throw Error("rerank serve needs a model");
  if (!(options.request_timeout_seconds > 0)) throw Error("the request timeout must be positive");
  impl_->options = std::move(options);
  if (impl_->options.search) impl_->search = std::make_unique<server::SearchService>(*impl_->options.search);
  for (auto& m : models)
    impl_->models.push_back(
        std::make_unique<server::ServedModelState>(std::move(m), impl_->options, impl_->metrics));
  impl_->http.set_payload_max_length(impl_->options.max_body_bytes);
  // httplib writes a response's headers and body separately: without TCP_NODELAY the body waits for
  // the client's delayed ACK (40 ms) on every request of a kept-alive connection but its first.
  impl_->http.set_tcp_nodelay(true);
  // httplib listens with a backlog of 5, compiled into Debian's library: bursts of reconnecting
  // clients overflow it, and the kernel's dropped handshakes delay requests by seconds or fail them
  // (bench/serve_load.sh). bind() widens it on the listening socket kept here.
  impl_->http.set_socket_options([impl = impl_.get()](socket_t sock) {
    httplib::default_socket_options(sock);
    impl->listen_socket = sock;
  });
  const auto& o = impl_->options;
  const auto keep = static_cast<std::size_t>(std::max(1, o.http_threads));
  const auto most = static_cast<std::size_t>(std::max(o.http_threads, o.max_http_threads));
  impl_->http.new_task_queue = [keep, most] { return new server::GrowingThreadPool(keep, most); };
  impl_->http.set_read_timeout(std::max(1, o.read_timeout_seconds), 0);
  impl_->http.set_keep_alive_timeout(std::max(1, o.keep_alive_seconds));
  impl_->routes();
}

RerankServer::~RerankServer() = default;

int RerankServer::bind() {
  const auto& o = impl_->options;
  int port = o.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(o.host.c_str());
  } else if (!impl_->http.bind_to_port(o.host.c_str(), port)) {
    port = -1;
  }
  if (port < 0) throw Error("cannot listen on " + o.host + ":" + std::to_string(o.port));
  if (impl_->listen_socket >= 0) ::listen(impl_->listen_socket, SOMAXCONN);  // a second listen() resizes
  impl_->bound_port = port;
  return port;
}

int RerankServer::port() const { return impl_->bound_port; }

void RerankServer::run() {
  if (impl_->bound_port < 0) bind();
  impl_->http.listen_after_bind();
}

void RerankServer::stop() { impl_->http.stop(); }

}  // namespace rerank
