#include "server/metrics.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace rerank::server {
namespace {

// Label values escaped as the exposition format requires (backslash, quote, newline).
std::string label(const std::string& name, const std::string& value) {
  std::string out = name + "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out + "\"";
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void sample(std::string& out, const std::string& name, const std::string& labels, double value) {
  out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + number(value) + "\n";
}

// Resident set size from /proc/self/statm (pages), 0 where it cannot be read.
double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  double pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return pages_resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace

void Histogram::observe(double value) {
  std::size_t b = 0;
  while (b < bounds_.size() && value > bounds_[b]) ++b;
  ++counts_[b];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string prefix = labels.empty() ? "" : labels + ",";
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b <= bounds_.size(); ++b) {
    cumulative += counts_[b];
    const std::string le = b < bounds_.size() ? number(bounds_[b]) : "+Inf";
    sample(out, name + "_bucket", prefix + label("le", le), static_cast<double>(cumulative));
  }
  sample(out, name + "_sum", labels, sum_);
  sample(out, name + "_count", labels, static_cast<double>(count_));
}

void Metrics::request_done(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
  if (seconds >= 0)
    latency_
        .try_emplace(route, std::vector<double>{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})
        .first->second.observe(seconds);
}

void Metrics::batch_done(const std::string& model, std::size_t requests, std::size_t documents,
                         std::uint64_t tokens) {
  std::lock_guard lock(mutex_);
  PerModel& m = models_[model];
  m.batch_requests.observe(static_cast<double>(requests));
  m.batch_documents.observe(static_cast<double>(documents));
  m.documents += documents;
  m.tokens += tokens;
  ++m.batches;
}

void Metrics::request_abandoned(const std::string& model, const std::string& why) {
  std::lock_guard lock(mutex_);
  ++models_[model].abandoned[why];
}

std::string Metrics::render(const std::map<std::string, std::size_t>& queue_depth) const {
  std::lock_guard lock(mutex_);
  std::string out;
  header(out, "rerank_http_requests_total", "counter", "HTTP requests answered, by route and status.");
  for (const auto& [key, n] : requests_)
    sample(out, "rerank_http_requests_total",
           label("route", key.first) + "," + label("status", std::to_string(key.second)),
           static_cast<double>(n));
  header(out, "rerank_http_request_duration_seconds", "histogram",
         "Time from a request's arrival (body read) to its response, by route.");
  for (const auto& [route, h] : latency_)
    h.render(out, "rerank_http_request_duration_seconds", label("route", route));
  header(out, "rerank_queue_depth", "gauge", "Requests waiting for the model.");
  for (const auto& [model, depth] : queue_depth)
    sample(out, "rerank_queue_depth", label("model", model), static_cast<double>(depth));
  header(out, "rerank_batch_requests", "histogram", "Requests per reranker call (cross-request batching).");
  for (const auto& [model, m] : models_)
    m.batch_requests.render(out, "rerank_batch_requests", label("model", model));
  header(out, "rerank_batch_documents", "histogram", "Documents per reranker call.");
  for (const auto& [model, m] : models_)
    m.batch_documents.render(out, "rerank_batch_documents", label("model", model));
  header(out, "rerank_documents_scored_total", "counter", "Documents reranked.");
  for (const auto& [model, m] : models_)
    sample(out, "rerank_documents_scored_total", label("model", model), static_cast<double>(m.documents));
  header(out, "rerank_tokens_total", "counter", "Prompt tokens the model read.");
  for (const auto& [model, m] : models_)
    sample(out, "rerank_tokens_total", label("model", model), static_cast<double>(m.tokens));
  header(out, "rerank_requests_abandoned_total", "counter",
         "Requests dropped before the model ran them: the client disconnected or the request timed out.");
  for (const auto& [model, m] : models_)
    for (const auto& [why, n] : m.abandoned)
      sample(out, "rerank_requests_abandoned_total", label("model", model) + "," + label("reason", why),
             static_cast<double>(n));
  header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  sample(out, "process_resident_memory_bytes", "", resident_bytes());
  return out;
}

}  // namespace rerank::server
