// Clients that break HTTP rather than JSON, over raw sockets: garbage request lines, huge heads, heads
// or bodies that never end, bodies cut short, chunked bodies beyond the limit, pipelined requests,
// connections that send one byte a second or nothing. Each gets its status (or its connection closed
// within the timeouts) and the server keeps serving everyone else.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "raw_http.h"
#include "server_checks.h"

namespace rerank::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Short timeouts so that dropped clients are dropped quickly.
ServeOptions quick_options() {
  ServeOptions o;
  o.read_timeout_seconds = 1;
  o.keep_alive_seconds = 1;
  o.max_body_bytes = 4096;
  return o;
}

std::string post_request(const std::string& path, const std::string& body,
                         const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const std::string kBody =
    json{{"query", "why is mars red"}, {"texts", normal_texts()}, {"raw_scores", true}}.dump();

// The response is TEI's answer to kBody: the library's scores.
void expect_scores(const std::optional<RawResponse>& res) {
  static const auto expected = library_scores("why is mars red", normal_texts());
  ASSERT_TRUE(res) << "no response";
  ASSERT_EQ(res->status, 200) << res->body;
  const auto out = json::parse(res->body);
  ASSERT_EQ(out.size(), expected.size());
  for (const auto& r : out) EXPECT_EQ(r["score"].get<double>(), expected[r["index"].get<std::size_t>()]);
}

TEST(ServerHostileClients, BrokenRequestLinesAndHeadsAre400Or414) {
  LiveServer server(quick_options());
  const std::vector<std::string> broken = {
      "GARBAGE\r\n\r\n",
      "GET\r\n\r\n",
      "BREW /rerank HTTP/1.1\r\n\r\n",
      "POST /rerank HTTP/7.0\r\n\r\n",
      std::string("\x00\x01\xff\xfe /rerank HTTP/1.1\r\n\r\n", 25),
      "POST /rerank HTTP/1.1\r\nX-Huge: " + std::string(10000, 'h') + "\r\n\r\n",
  };
  for (const auto& request : broken) {
    SCOPED_TRACE(request.substr(0, 40));
    RawClient c(server.port());
    ASSERT_TRUE(c.send(request));
    const auto res = c.read_response(5s);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_EQ(error_message("/", 400, res->body), "malformed HTTP request");
  }
  RawClient c(server.port());
  ASSERT_TRUE(c.send("GET /" + std::string(10000, 'u') + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto res = c.read_response(5s);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 414);
  EXPECT_EQ(error_message("/", 414, res->body), "the request line is too long");
  expect_serving(server);
}

TEST(ServerHostileClients, UnfinishedRequestsAreDroppedAfterTheReadTimeout) {
  LiveServer server(quick_options());
  RawClient silent(server.port()), headless(server.port()), short_body(server.port());
  ASSERT_TRUE(headless.send("POST /rerank HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"));
  ASSERT_TRUE(short_body.send(post_request("/rerank", kBody).substr(0, 150)));
  for (auto* c : {&silent, &headless, &short_body}) EXPECT_TRUE(c->closed_within(4s)) << c->received();
  // A client that ends its stream mid-body gets no answer (httplib writes nothing to a peer that has
  // shut down), just the end of the connection.
  RawClient cut(server.port());
  ASSERT_TRUE(cut.send(post_request("/rerank", kBody).substr(0, 150)));
  cut.shutdown_write();
  EXPECT_TRUE(cut.closed_within(4s));
  EXPECT_EQ(cut.received(), "");
  // A connection closed mid-body, then a normal request.
  {
    RawClient gone(server.port());
    ASSERT_TRUE(gone.send(post_request("/rerank", kBody).substr(0, 150)));
  }
  expect_serving(server);
}

TEST(ServerHostileClients, ChunkedAndGzippedBodiesCountTowardTheLimit) {
  LiveServer server(quick_options());
  auto chunked = [](const std::string& body, std::size_t chunk) {
    std::string out = "POST /rerank HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t i = 0; i < body.size(); i += chunk) {
      const std::string part = body.substr(i, chunk);
      char size[20];
      std::snprintf(size, sizeof size, "%zx\r\n", part.size());
      out += size + part + "\r\n";
    }
    return out + "0\r\n\r\n";
  };
  RawClient small(server.port());
  ASSERT_TRUE(small.send(chunked(kBody, 50)));
  expect_scores(small.read_response(10s));
  const std::string big = json{{"query", "q"}, {"texts", {std::string(8000, 'x')}}}.dump();
  RawClient large(server.port());
  large.send(chunked(big, 1000));
  const auto res = large.read_response(5s);
  ASSERT_TRUE(res) << large.received();
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(error_message("/rerank", 413, res->body), "the request body is larger than the limit");
  // Gzip (httplib's client compresses with set_compress): the limit is on the inflated body, so 3 MB
  // of JSON that is about 3 KB on the wire, under the limit of 4096 bytes, is refused before it is
  // all in memory (httplib alone would inflate it whole: a gzip bomb).
  auto gzip = server.client();
  gzip.set_compress(true);
  const auto small_gz = gzip.Post("/rerank", kBody, "application/json");
  ASSERT_TRUE(small_gz);
  expect_scores(RawResponse{small_gz->status, {}, small_gz->body});
  const std::string bomb = json{{"query", "q"}, {"texts", {std::string(3u << 20, ' ')}}}.dump();
  const auto refused = gzip.Post("/rerank", bomb, "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 413);
  EXPECT_EQ(error_message("/rerank", 413, refused->body), "the request body is larger than the limit");
  expect_serving(server);
}

// No response may ever answer another request than the one it is for.
TEST(ServerHostileClients, NoConnectionGetsAnotherRequestsAnswer) {
  ServeOptions options = quick_options();
  options.api_keys = {"secret"};
  LiveServer server(options);
  const std::string key = "Authorization: Bearer secret\r\n";
  const std::string big = json{{"query", "q"}, {"texts", {std::string(3000, 'x')}}}.dump();
  {  // Kept alive: an error, then a normal request on the same connection.
    RawClient c(server.port());
    ASSERT_TRUE(c.send(post_request("/rerank", "{\"query\": 1}", key)));
    const auto res = c.read_response(5s);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 422);
    ASSERT_TRUE(c.send(post_request("/rerank", kBody, key)));
    expect_scores(c.read_response(10s));
  }
  // Refused before its body is read (a wrong key, a body over the limit): the answer, then the
  // connection closes, so the unread body is never taken for a request.
  for (const auto& [request, status] :
       {std::pair{post_request("/rerank", big, "Authorization: Bearer no\r\n"), 401},
        std::pair{post_request("/rerank", big + big, key), 413}}) {
    RawClient c(server.port());
    ASSERT_TRUE(c.send(request));
    const auto res = c.read_response(5s);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status);
    EXPECT_EQ(res->headers.at("connection"), "close");
    EXPECT_TRUE(c.closed_within(2s)) << c.received();
  }
  // Pipelined: httplib 0.11 answers the first request and drops what it had buffered after it; the
  // second gets its own answer or none, never another's.
  RawClient c(server.port());
  const std::string other = json{{"query", "yellow"}, {"texts", normal_texts()}, {"raw_scores", true}}.dump();
  ASSERT_TRUE(c.send(post_request("/rerank", kBody, key) + post_request("/rerank", other, key)));
  expect_scores(c.read_response(10s));
  if (const auto second = c.read_response(3s)) {
    const auto expected = library_scores("yellow", normal_texts());
    ASSERT_EQ(second->status, 200);
    for (const auto& r : json::parse(second->body))
      EXPECT_EQ(r["score"].get<double>(), expected[r["index"].get<std::size_t>()]);
  } else {
    EXPECT_TRUE(c.closed_within(1s));
  }
  expect_serving(server, {{"Authorization", "Bearer secret"}});
}

// Connections that hold a server thread without finishing a request.
TEST(ServerHostileClients, SlowClientsDoNotStarveOthers) {
  ServeOptions options = quick_options();
  // Longer than the slow clients' pauses, so they keep their threads: with a fixed pool of 16 threads
  // (max_http_threads = 16), the normal request below waited until its client gave up.
  options.read_timeout_seconds = 3;
  options.keep_alive_seconds = 3;
  ASSERT_GT(20, options.http_threads);
  LiveServer server(options);
  const std::string request = post_request("/rerank", kBody);
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(std::make_unique<RawClient>(server.port()));
    slow.back()->send(request.substr(0, 1));  // within the keep-alive wait
  }
  std::vector<std::unique_ptr<RawClient>> silent;
  for (int i = 0; i < 10; ++i) silent.push_back(std::make_unique<RawClient>(server.port()));
  std::atomic<bool> stop{false};
  std::thread dripper([&] {
    for (std::size_t byte = 1; !stop && byte < request.size(); ++byte) {
      for (auto& c : slow) c->send(request.substr(byte, 1));
      for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(100ms);
    }
  });
  std::this_thread::sleep_for(1500ms);  // every slow client has sent a byte or two
  const auto start = std::chrono::steady_clock::now();
  expect_serving(server);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 3.0) << "a normal request waited behind slow clients";
  stop = true;
  dripper.join();
}

}  // namespace
}  // namespace rerank::test
