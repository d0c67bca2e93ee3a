// A server on a free loopback port for the tests of tests/server, with the tiny models, and reading
// its /metrics.
#pragma once
#include <httplib.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "rerank/server.h"
#include "tiny_models.h"

namespace rerank::test {

using nlohmann::json;

inline std::unique_ptr<Reranker> tiny(const std::string& strategy, test::Tiny which,
                                      std::map<std::string, std::string> p = {}) {
  RerankerOptions o;
  o.model_path = test::tiny_model(which);
  o.threads = 1;
  o.params = std::move(p);
  return make_reranker(strategy, o);
}

class Server {
 public:
  Server(ServeOptions options, std::vector<ServedModel> models) {
    options.port = 0;
    server_ = std::make_unique<RerankServer>(options, std::move(models));
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~Server() {
    server_->stop();
    thread_.join();
  }
  int port() const { return port_; }
  httplib::Result post(const std::string& path, const json& body) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c.Post(path.c_str(), body.dump(), "application/json");
  }
  std::string metrics() const {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get("/metrics");
    return r ? r->body : "";
  }

 private:
  std::unique_ptr<RerankServer> server_;
  int port_ = 0;
  std::thread thread_;
};

// The value of one sample line of a Prometheus exposition, or -1 when absent.
inline double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

// The exposition once `series` reads `value`: a request is counted just after its response is
// written, so a client may ask before the count of its own last request is in.
inline std::string once(const Server& s, const std::string& series, double value) {
  std::string text = s.metrics();
  for (int i = 0; i < 100 && sample(text, series) != value; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    text = s.metrics();
  }
  return text;
}

}  // namespace rerank::test
