// bench_serve_load: an HTTP load generator for any POST JSON API (rerank serve, llama-server's
// /v1/rerank, Infinity's /rerank, nginx in front of them). N client threads, each with one
// keep-alive connection, post bodies (cycled, so requests differ) for D seconds or a request count,
// and it reports requests, errors by kind, requests/s, documents/s, latency percentiles, optionally
// the server's RSS before and after, and one JSON line (the last line of stdout).
// Exit status: 0 no errors, 1 some request failed, 2 bad options or input.
// See docs/BENCHMARKS.md ("Serving under load").
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Options {
  std::string url = "http://127.0.0.1:8080", path = "/v1/rerank";
  std::vector<std::string> body_files, headers, pids;
  std::string bodies_file, api_key, json_out, label;
  int clients = 64;
  double duration_s = 10, timeout_s = 120;
  long requests = 0;          // > 0: stop after this many requests instead of after duration_s
  long docs_per_request = 0;  // 0: counted from each body's documents/texts array
};

struct Body {
  std::string text;
  long documents;
};

struct Outcome {  // one finished request
  double end_s;   // completion time since the start
  double latency_ms;
  std::string error;  // empty: a 2xx response
  long documents;
};

const char* kUsage =
    "usage: bench_serve_load [--url http://HOST:PORT] [--path /v1/rerank] (--body FILE... | --bodies "
    "FILE.jsonl)\n"
    "         [--clients 64] [--duration 10 | --requests N] [--docs-per-request N] [--header 'K: V']...\n"
    "         [--api-key KEY] [--pid PID]... [--timeout 120] [--label TEXT] [--json-out FILE]\n"
    "  --body FILE      a JSON request body (repeatable; bodies are cycled across requests)\n"
    "  --bodies FILE    JSON Lines, one request body per line (cycled)\n"
    "  --docs-per-request N   documents per request (default: length of the body's documents or texts)\n"
    "  --api-key KEY    sends Authorization: Bearer KEY\n"
    "  --pid PID        server process whose VmRSS/VmHWM is read before and after (repeatable)\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "bench_serve_load: " << message << "\n" << kUsage;
  std::exit(2);
}

double to_number(const std::string& flag, const std::string& value) {
  try {
    std::size_t used = 0;
    const double v = std::stod(value, &used);
    if (used == value.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  usage_error(flag + " expects a non-negative number, got '" + value + "'");
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (i + 1 >= argc) usage_error("unknown option or missing value: " + flag);
    const std::string v = argv[++i];
    if (flag == "--url")
      o.url = v;
    else if (flag == "--path")
      o.path = v;
    else if (flag == "--body")
      o.body_files.push_back(v);
    else if (flag == "--bodies")
      o.bodies_file = v;
    else if (flag == "--header")
      o.headers.push_back(v);
    else if (flag == "--api-key")
      o.api_key = v;
    else if (flag == "--pid")
      o.pids.push_back(v);
    else if (flag == "--json-out")
      o.json_out = v;
    else if (flag == "--label")
      o.label = v;
    else if (flag == "--clients")
      o.clients = static_cast<int>(to_number(flag, v));
    else if (flag == "--duration")
      o.duration_s = to_number(flag, v);
    else if (flag == "--requests")
      o.requests = static_cast<long>(to_number(flag, v));
    else if (flag == "--docs-per-request")
      o.docs_per_request = static_cast<long>(to_number(flag, v));
    else if (flag == "--timeout")
      o.timeout_s = to_number(flag, v);
    else
      usage_error("unknown option " + flag);
  }
  if (o.clients < 1) usage_error("--clients must be at least 1");
  if (o.body_files.empty() == o.bodies_file.empty()) usage_error("give --body FILE(s) or --bodies FILE");
  if (o.requests == 0 && o.duration_s <= 0) usage_error("give --duration > 0 or --requests > 0");
  if (o.path.empty() || o.path[0] != '/') usage_error("--path must start with /, got '" + o.path + "'");
  return o;
}

Body make_body(const std::string& text, const std::string& where, long docs_per_request) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw std::runtime_error(where + ": not JSON (" + e.what() + ")");
  }
  long docs = docs_per_request;
  if (docs == 0 && j.is_object()) {
    for (const char* key : {"documents", "texts"})
      if (j.contains(key) && j[key].is_array()) docs = static_cast<long>(j[key].size());
  }
  if (docs == 0) throw std::runtime_error(where + ": no documents or texts array; give --docs-per-request N");
  return {text, docs};
}

std::vector<Body> read_bodies(const Options& o) {
  std::vector<Body> bodies;
  for (const auto& file : o.body_files) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read " + file);
    std::stringstream ss;
    ss << in.rdbuf();
    bodies.push_back(make_body(ss.str(), file, o.docs_per_request));
  }
  if (!o.bodies_file.empty()) {
    std::ifstream in(o.bodies_file);
    if (!in) throw std::runtime_error("cannot read " + o.bodies_file);
    int line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      bodies.push_back(make_body(line, o.bodies_file + ":" + std::to_string(line_no), o.docs_per_request));
    }
    if (bodies.empty()) throw std::runtime_error(o.bodies_file + ": no bodies in it");
  }
  return bodies;
}

httplib::Headers make_headers(const Options& o) {
  httplib::Headers h;
  for (const auto& line : o.headers) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0)
      throw std::runtime_error("--header expects 'Name: value', got '" + line + "'");
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    h.emplace(line.substr(0, colon), value);
  }
  if (!o.api_key.empty()) h.emplace("Authorization", "Bearer " + o.api_key);
  return h;
}

// VmRSS and VmHWM (peak) of a process, in KiB, from /proc/PID/status.
json memory_of(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  if (!in) return {{"pid", pid}, {"error", "no such process"}};
  json m = {{"pid", pid}};
  for (std::string line; std::getline(in, line);) {
    for (const char* key : {"VmRSS", "VmHWM"})
      if (line.rfind(std::string(key) + ":", 0) == 0)
        m[std::string(key) + "_kib"] = std::stol(line.substr(6));
  }
  return m;
}

json memory_of_all(const Options& o) {
  json all = json::array();
  for (const auto& pid : o.pids) all.push_back(memory_of(pid));
  return all;
}

struct Shared {
  const Options& options;
  const std::vector<Body>& bodies;
  const httplib::Headers& headers;
  Clock::time_point start, deadline;
  std::atomic<long> issued{0};
};

// One client: its own connection, kept alive, until the deadline or the request budget is spent.
void client_loop(Shared& s, std::vector<Outcome>& out) {
  httplib::Client client(s.options.url);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // headers and body go out as two writes: no Nagle delay between them
  const auto timeout = std::chrono::duration<double>(s.options.timeout_s);
  client.set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  client.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  client.set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  for (;;) {
    const long n = s.issued.fetch_add(1);
    if (s.options.requests > 0 ? n >= s.options.requests : Clock::now() >= s.deadline) return;
    const Body& body = s.bodies[static_cast<std::size_t>(n) % s.bodies.size()];
    const auto t0 = Clock::now();
    auto res = client.Post(s.options.path, s.headers, body.text, "application/json");
    const auto t1 = Clock::now();
    Outcome o{std::chrono::duration<double>(t1 - s.start).count(),
              std::chrono::duration<double, std::milli>(t1 - t0).count(), "", body.documents};
    if (!res) {
      o.error = "transport " + httplib::to_string(res.error());
      // A server that is down refuses at once: pausing keeps a dead upstream from being spun on.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (res && (res->status < 200 || res->status > 299)) o.error = "status " + std::to_string(res->status);
    out.push_back(std::move(o));
  }
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

json summarize(const Options& o, const std::vector<Outcome>& all, double elapsed_s) {
  std::vector<double> latencies;
  std::map<std::string, long> errors;
  long documents = 0, failed = 0;
  double first_error = -1, last_error = -1;
  const auto seconds = static_cast<std::size_t>(elapsed_s) + 1;
  json timeline = json::array();  // per second of completion: [ok, errors]
  for (std::size_t i = 0; i < seconds; ++i) timeline.push_back({0, 0});
  for (const auto& r : all) {
    auto& slot = timeline[std::min(static_cast<std::size_t>(r.end_s), seconds - 1)];
    if (r.error.empty()) {
      latencies.push_back(r.latency_ms);
      documents += r.documents;
      slot[0] = slot[0].get<long>() + 1;
      continue;
    }
    ++failed;
    ++errors[r.error];
    slot[1] = slot[1].get<long>() + 1;
    first_error = first_error < 0 ? r.end_s : std::min(first_error, r.end_s);
    last_error = std::max(last_error, r.end_s);
  }
  std::sort(latencies.begin(), latencies.end());
  const auto ok = static_cast<long>(latencies.size());
  json j = {{"label", o.label},
            {"url", o.url + o.path},
            {"clients", o.clients},
            {"elapsed_s", elapsed_s},
            {"requests", static_cast<long>(all.size())},
            {"ok", ok},
            {"errors", failed},
            {"errors_by_kind", errors},
            {"first_error_s", first_error},
            {"last_error_s", last_error},
            {"requests_per_s", static_cast<double>(ok) / elapsed_s},
            {"documents_per_s", static_cast<double>(documents) / elapsed_s},
            {"latency_ms",
             {{"p50", percentile(latencies, 50)},
              {"p95", percentile(latencies, 95)},
              {"p99", percentile(latencies, 99)},
              {"max", latencies.empty() ? 0.0 : latencies.back()}}},
            {"timeline", timeline}};
  return j;
}

void print_human(const json& j) {
  const auto label = j["label"].get<std::string>();
  std::printf("%s %s: %d clients, %.1f s\n", label.empty() ? "load" : label.c_str(),
              j["url"].get<std::string>().c_str(), j["clients"].get<int>(), j["elapsed_s"].get<double>());
  std::printf("  requests %ld, ok %ld, errors %ld", j["requests"].get<long>(), j["ok"].get<long>(),
              j["errors"].get<long>());
  for (const auto& [kind, n] : j["errors_by_kind"].items())
    std::printf(" [%s: %ld]", kind.c_str(), n.get<long>());
  const auto& l = j["latency_ms"];
  std::printf("\n  %.1f requests/s, %.1f documents/s\n", j["requests_per_s"].get<double>(),
              j["documents_per_s"].get<double>());
  std::printf("  latency ms: p50 %.1f  p95 %.1f  p99 %.1f  max %.1f\n", l["p50"].get<double>(),
              l["p95"].get<double>(), l["p99"].get<double>(), l["max"].get<double>());
  for (std::size_t i = 0; i < j["memory_before"].size(); ++i) {
    const auto &b = j["memory_before"][i], &a = j["memory_after"][i];
    std::printf("  pid %s: VmRSS %ld -> %ld KiB, VmHWM %ld -> %ld KiB\n", b["pid"].get<std::string>().c_str(),
                b.value("VmRSS_kib", -1L), a.value("VmRSS_kib", -1L), b.value("VmHWM_kib", -1L),
                a.value("VmHWM_kib", -1L));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_args(argc, argv);
  std::vector<Body> bodies;
  httplib::Headers headers;
  try {
    bodies = read_bodies(o);
    headers = make_headers(o);
  } catch (const std::exception& e) {
    std::cerr << "bench_serve_load: " << e.what() << "\n";
    return 2;
  }
  json memory_before = memory_of_all(o);
  Shared shared{o, bodies, headers, Clock::now(), {}, {}};
  shared.deadline =
      shared.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
  std::vector<std::vector<Outcome>> per_client(static_cast<std::size_t>(o.clients));
  std::vector<std::thread> threads;
  for (auto& out : per_client) threads.emplace_back([&shared, &out] { client_loop(shared, out); });
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - shared.start).count();
  std::vector<Outcome> all;
  for (auto& v : per_client) all.insert(all.end(), v.begin(), v.end());
  json j = summarize(o, all, elapsed);
  j["memory_before"] = std::move(memory_before);
  j["memory_after"] = memory_of_all(o);
  print_human(j);
  std::cout << j.dump() << std::endl;
  if (!o.json_out.empty()) std::ofstream(o.json_out) << j.dump() << "\n";
  return j["errors"].get<long>() == 0 ? 0 : 1;
}
