// What the server tests share: the tiny BERT cross-encoder, a server running on a free loopback port
// for the life of an object, and the library's own scores to compare the server's against.
#pragma once
#include <httplib.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rerank/server.h"
#include "tiny_models.h"

namespace rerank::test {

inline std::unique_ptr<Reranker> tiny_reranker() {
  RerankerOptions o;
  o.model_path = tiny_model(Tiny::Bert);
  o.threads = 1;
  return make_reranker("pointwise", o);
}

inline std::vector<ServedModel> tiny_models_named(const std::vector<std::string>& names) {
  std::vector<ServedModel> models;
  for (const auto& n : names) models.push_back({n, tiny_model(Tiny::Bert), tiny_reranker()});
  return models;
}

class LiveServer {
 public:
  explicit LiveServer(ServeOptions options, std::vector<std::string> names = {"default"})
      : LiveServer(std::move(options), tiny_models_named(names)) {}
  LiveServer(ServeOptions options, std::vector<ServedModel> models) {
    options.port = 0;
    server_ = std::make_unique<RerankServer>(options, std::move(models));
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~LiveServer() {
    server_->stop();
    thread_.join();
  }
  LiveServer(const LiveServer&) = delete;
  LiveServer& operator=(const LiveServer&) = delete;

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }
  int port() const { return port_; }

 private:
  std::unique_ptr<RerankServer> server_;
  int port_ = 0;
  std::thread thread_;
};

// The library's raw scores for the query and texts, by document index.
inline std::vector<double> library_scores(const std::string& query, const std::vector<std::string>& texts) {
  CandidateList list{{"q", query}, {}};
  for (std::size_t i = 0; i < texts.size(); ++i)
    list.candidates.push_back({std::to_string(i), "", texts[i], 0});
  const auto result = tiny_reranker()->rerank({list})[0];
  std::vector<double> scores(texts.size());
  for (const auto& d : result.ranking) scores[std::stoul(d.doc_id)] = d.score;
  return scores;
}

}  // namespace rerank::test
