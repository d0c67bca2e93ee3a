// The HTTP side of `rerank serve`, on cpp-httplib (Debian's libcpp-httplib-dev; see
// docs/ARCHITECTURE.md for the choice): routes, authentication, limits and error bodies; the work
// goes through one Batcher per model.
#include "rerank/server.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "rerank/version.h"
#include "server/batcher.h"
#include "server/dialects.h"
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

struct Model {
  std::string name, path;
  std::unique_ptr<Reranker> reranker;
  std::unique_ptr<server::Batcher> batcher;
};

Dialect dialect_of(const std::string& path) {
  if (path.rfind("/v1/", 0) == 0) return Dialect::CohereV1;
  if (path.rfind("/v2/", 0) == 0) return Dialect::CohereV2;
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

const char* const kTooLarge = "the request body is larger than the limit";

void send_error(httplib::Response& res, Dialect dialect, int status, const std::string& message) {
  res.status = status;
  if (status == 429) res.set_header("Retry-After", "1");
  res.set_content(server::render_error(dialect, status, message), "application/json");
}

// For a refusal before httplib reads the body (the key check): left unread on a kept-alive
// connection, the body would be taken for the next request (a 414 answered to the client's next
// request). httplib ends a connection when a response body fails to write, so a provider writes the
// body whole and then reports failure.
void send_error_and_close(httplib::Response& res, Dialect dialect, int status, const std::string& message) {
  auto body = std::make_shared<const std::string>(server::render_error(dialect, status, message));
  res.status = status;
  res.set_header("Connection", "close");
  res.set_content_provider(body->size(), "application/json",
                           [body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                             sink.write(body->data() + offset, length);
                             return false;
                           });
}

}  // namespace

struct RerankServer::Impl {
  ServeOptions options;
  std::vector<Model> models;
  httplib::Server http;
  std::atomic<std::uint64_t> next_id{0};
  std::uint64_t id_salt = std::random_device{}();
  int bound_port = -1;

  bool authorized(const httplib::Request& req) const {
    if (options.api_keys.empty()) return true;
    const std::string header = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (header.rfind(prefix, 0) != 0) return false;
    const std::string key = header.substr(prefix.size());
    bool ok = false;
    for (const auto& k : options.api_keys) ok |= same_key(key, k);
    return ok;
  }

  Model& model_for(const std::string& name) {
    if (models.size() == 1) return models.front();
    for (auto& m : models)
      if (m.name == name) return m;
    std::string known;
    for (const auto& m : models) known += (known.empty() ? "" : ", ") + m.name;
    throw RequestError(404, "no model '" + name + "' (served: " + known + ")");
  }

  std::string rerank(Dialect dialect, const std::string& body) {
    const server::Limits limits{options.max_documents, options.max_document_chars, options.max_query_chars};
    const server::RerankRequest request = server::parse_request(dialect, body, limits);
    Model& model = model_for(request.model);
    CandidateList list;
    list.query = {"q", request.query};
    for (std::size_t i = 0; i < request.texts.size(); ++i)
      list.candidates.push_back({std::to_string(i), "", request.texts[i], 0.0});
    const RerankResult result = model.batcher->submit(std::move(list)).get();
    const ScoreScale scale = model.reranker->score_scale();
    std::vector<server::ScoredIndex> scored;
    for (std::size_t rank = 0; rank < result.ranking.size(); ++rank) {
      const auto& d = result.ranking[rank];
      scored.push_back({std::stoul(d.doc_id), relevance_of(scale, d.score, rank, result.ranking.size()), d.score});
    }
    char id[40];
    std::snprintf(id, sizeof id, "%016llx-%08llx", static_cast<unsigned long long>(id_salt),
                  static_cast<unsigned long long>(next_id++));
    return server::render_response(request, std::move(scored), id, model.name, result.cost.prompt_tokens);
  }

  // The body read here rather than by httplib, which caps a Content-Length body at max_body_bytes
  // but would gather a chunked one without limit. False (with the error sent) when it cannot be read.
  bool read_body(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read,
                 std::string& body) const {
    if (req.is_multipart_form_data()) {  // httplib reads those only into form fields
      send_error_and_close(res, dialect_of(req.path), 400,
                           "the request body must be JSON, not multipart/form-data");
      return false;
    }
    bool too_large = false;
    const bool whole = read([&](const char* data, std::size_t size) {
      too_large = body.size() + size > options.max_body_bytes;
      if (!too_large) body.append(data, size);
      return !too_large;
    });
    if (whole) return true;
    too_large |= res.status == 413;  // httplib's own check of Content-Length
    // The rest of the body is unread: the connection cannot carry another request.
    send_error_and_close(res, dialect_of(req.path), too_large ? 413 : 400,
                         too_large ? kTooLarge : "the request body could not be read");
    return false;
  }

  void handle_rerank(const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& read) {
    const Dialect dialect = dialect_of(req.path);
    std::string body;
    if (!read_body(req, res, read, body)) return;
    try {
      res.set_content(rerank(dialect, body), "application/json");
    } catch (const RequestError& e) {
      send_error(res, dialect, e.status(), e.what());
    } catch (const std::exception& e) {
      send_error(res, dialect, 500, std::string("reranking failed: ") + e.what());
    }
  }

  std::string info() const {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : models)
      list.push_back({{"name", m.name}, {"path", m.path}, {"strategy", m.reranker->name()}});
    return nlohmann::json{{"version", RERANK_VERSION_STRING},
                          {"models", list},
                          {"limits",
                           {{"max_body_bytes", options.max_body_bytes},
                            {"max_documents", options.max_documents},
                            {"max_document_chars", options.max_document_chars},
                            {"max_query_chars", options.max_query_chars},
                            {"queue_capacity", options.queue_capacity}}}}
        .dump();
  }

  void routes() {
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/health" || authorized(req)) return httplib::Server::HandlerResponse::Unhandled;
      send_error_and_close(res, dialect_of(req.path), 401,
                           "missing or wrong API key (Authorization: Bearer KEY)");
      return httplib::Server::HandlerResponse::Handled;
    });
    for (const char* path : {"/rerank", "/v1/rerank", "/v2/rerank"})
      http.Post(path, [this](const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& read) { handle_rerank(req, res, read); });
    http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"status\":\"ok\"}", "application/json");
    });
    http.Get("/info", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(info(), "application/json");
    });
    // Statuses httplib sets itself (404 unknown route, 413 body too large, 400 bad request line) get
    // the dialect's error body too.
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty() || res.has_header("Content-Type")) return;  // ours already
      const std::string message = res.status == 404   ? "no route " + req.method + " " + req.path
                                  : res.status == 413 ? kTooLarge
                                  : res.status == 414 ? "the request line is too long"
                                  : res.status >= 500 ? "the server failed to handle the request"
                                                      : "malformed HTTP request";
      send_error(res, dialect_of(req.path), res.status, message);
    });
  }
};

RerankServer::RerankServer(ServeOptions options, std::vector<ServedModel> models) : impl_(std::make_unique<Impl>()) {
  if (models.empty()) throw Error("rerank serve needs a model");
  impl_->options = std::move(options);
  for (auto& m : models) {
    Model model{m.name, m.path, std::move(m.reranker), nullptr};
    model.batcher = std::make_unique<server::Batcher>(*model.reranker, impl_->options.queue_capacity,
                                                      impl_->options.max_batch_queries);
    impl_->models.push_back(std::move(model));
  }
  impl_->http.set_payload_max_length(impl_->options.max_body_bytes);
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
