// What GET /metrics reports, in Prometheus' text exposition format (version 0.0.4): requests by
// route and status, request latency, queue depth, batch sizes, tokens and documents scored per
// model, and the process' resident memory. Every method is thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace rerank::server {

// A cumulative histogram with fixed upper bounds (the last, +Inf, is implicit).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void observe(double value);
  // Prometheus lines `name_bucket{labels,le="..."}`, `name_sum{labels}`, `name_count{labels}`.
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

class Metrics {
 public:
  // One answered request: `route` is a known route or "other" (hostile paths must not make series).
  void request_done(const std::string& route, int status, double seconds);
  // One reranker call of `model`: how many requests and documents it took, tokens it read.
  void batch_done(const std::string& model, std::size_t requests, std::size_t documents,
                  std::uint64_t tokens);
  // A request dropped before its batch ran: its client left, or it timed out.
  void request_abandoned(const std::string& model, const std::string& why);

  // The exposition text; `queue_depth` gives each model's waiting requests at this moment.
  std::string render(const std::map<std::string, std::size_t>& queue_depth) const;

 private:
  struct PerModel {
    Histogram batch_requests{{1, 2, 4, 8, 16, 32, 64, 128}};
    Histogram batch_documents{{1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000}};
    std::uint64_t documents = 0, tokens = 0, batches = 0;
    std::map<std::string, std::uint64_t> abandoned;  // by reason
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;  // (route, status)
  std::map<std::string, Histogram> latency_;                       // by route
  std::map<std::string, PerModel> models_;
};

}  // namespace rerank::server
