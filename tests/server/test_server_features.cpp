// The server's work around the model: /metrics counts what it served, requests that time out or whose
// client left are dropped before the model sees them, and a request the model cannot take fails alone.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>

#include "server_fixture.h"

namespace rerank {
namespace {

using namespace rerank::test;

// A line of the text exposition format: a comment, or `name{label="value",...} number`.
// (Checked by hand: GCC 12's <regex> does not build under the sanitizers' -Werror.)
bool well_formed(const std::string& line) {
  if (line.rfind("#", 0) == 0) return true;
  const auto space = line.rfind(' ');
  if (space == std::string::npos) return false;
  const std::string value = line.substr(space + 1);
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0') return false;
  std::size_t i = 0;
  const auto name_char = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  while (i < space && name_char(line[i])) ++i;
  if (i == 0) return false;
  if (i == space) return true;
  if (line[i] != '{' || line[space - 1] != '}') return false;
  for (++i; i < space - 1;) {  // label="value" pairs, comma-separated
    const std::size_t key = i;
    while (name_char(line[i])) ++i;
    if (i == key || line.compare(i, 2, "=\"") != 0) return false;
    i = line.find('"', i + 2);
    if (i == std::string::npos || i >= space) return false;
    ++i;
    if (line[i] == ',') ++i;
  }
  return true;
}

TEST(ServerMetrics, CountRequestsDocumentsAndStatusesInPrometheusFormat) {
  Server s({}, {{"m", "tiny", tiny("pointwise", test::Tiny::Bert), nullptr}});
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(s.post("/v2/rerank", {{"query", "q"}, {"documents", {"a", "b c", "d"}}})->status, 200);
  ASSERT_EQ(s.post("/rerank", {{"query", "q"}, {"texts", json::array()}})->status, 422);
  ASSERT_EQ(s.post("/no/such/route", json::object())->status, 404);
  once(s, R"(rerank_http_requests_total{route="/v2/rerank",status="200"})", 3);
  once(s, R"(rerank_http_requests_total{route="/rerank",status="422"})", 1);
  const std::string text = once(s, R"(rerank_http_requests_total{route="other",status="404"})", 1);
  EXPECT_EQ(sample(text, R"(rerank_http_requests_total{route="/v2/rerank",status="200"})"), 3);
  EXPECT_EQ(sample(text, R"(rerank_http_requests_total{route="/rerank",status="422"})"), 1);
  EXPECT_EQ(sample(text, R"(rerank_http_requests_total{route="other",status="404"})"), 1);
  EXPECT_EQ(sample(text, R"(rerank_http_request_duration_seconds_count{route="/v2/rerank"})"), 3);
  EXPECT_EQ(sample(text, R"(rerank_documents_scored_total{model="m"})"), 9);
  EXPECT_EQ(sample(text, R"(rerank_batch_requests_count{model="m"})"), 3);  // one client: a call each
  EXPECT_EQ(sample(text, R"(rerank_batch_requests_bucket{model="m",le="1"})"), 3);
  EXPECT_EQ(sample(text, R"(rerank_queue_depth{model="m"})"), 0);
  EXPECT_GT(sample(text, R"(rerank_tokens_total{model="m"})"), 9);
  EXPECT_GT(sample(text, "process_resident_memory_bytes"), 1e6);
  // Every line is a comment or `name{labels} value`.
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) EXPECT_TRUE(well_formed(line)) << line;
}

// A reranker whose calls wait until it is opened, recording every query and call size it is given;
// it answers as `inner` does, or with every document scored 0.
class GatedReranker : public Reranker {
 public:
  explicit GatedReranker(std::shared_ptr<Reranker> inner = nullptr) : inner_(std::move(inner)) {}
  std::string name() const override { return "gated"; }
  ScoreScale score_scale() const override { return inner_ ? inner_->score_scale() : ScoreScale::Ordinal; }
  std::vector<RerankResult> rerank(const std::vector<CandidateList>& batch) override {
    std::unique_lock lock(mutex_);
    for (const auto& l : batch) seen_.push_back(l.query.text);
    calls_.push_back(batch.size());
    entered_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    if (inner_) return inner_->rerank(batch);
    std::vector<RerankResult> out(batch.size());
    for (std::size_t q = 0; q < batch.size(); ++q)
      for (const auto& c : batch[q].candidates) out[q].ranking.push_back({c.doc_id, 0.0});
    return out;
  }
  void wait_entered() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return entered_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::vector<std::size_t> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::shared_ptr<Reranker> inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool entered_ = false, open_ = false;
  std::vector<std::string> seen_;
  std::vector<std::size_t> calls_;
};

json one_doc(const std::string& query) { return {{"query", query}, {"documents", {"d"}}}; }

TEST(ServerDeadlines, ATimedOutRequestGets503AndNeverReachesTheModel) {
  auto gated = std::make_shared<GatedReranker>();
  ServeOptions o;
  o.request_timeout_seconds = 0.3;
  Server s(o, {{"m", "gated", gated, nullptr}});
  std::thread first([&] { s.post("/v2/rerank", one_doc("first")); });
  gated->wait_entered();
  const auto late = s.post("/v2/rerank", one_doc("second"));  // queued behind the gated call
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 503);
  EXPECT_EQ(late->get_header_value("Retry-After"), "1");
  EXPECT_THAT(json::parse(late->body)["message"].get<std::string>(),
              testing::HasSubstr("request timeout of 0.3"));
  gated->open();
  first.join();
  EXPECT_EQ(s.post("/v2/rerank", one_doc("third"))->status, 200);
  EXPECT_EQ(gated->seen(), (std::vector<std::string>{"first", "third"}));
  // The first request timed out too, but its batch had started: only the second was dropped.
  EXPECT_EQ(sample(s.metrics(), R"(rerank_requests_abandoned_total{model="m",reason="timeout"})"), 1);
}

// Sends a request on a raw socket and closes it without reading the answer.
void send_and_hang_up(int port, const std::string& body) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request =
      "POST /v2/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // it is queued by now
  close(fd);
}

TEST(ServerDeadlines, ARequestWhoseClientLeftIsDroppedBeforeTheModel) {
  auto gated = std::make_shared<GatedReranker>();
  Server s({}, {{"m", "gated", gated, nullptr}});
  std::thread first([&] { s.post("/v2/rerank", one_doc("first")); });
  gated->wait_entered();
  send_and_hang_up(s.port(), one_doc("gone").dump());
  // The handler notices within its 20 ms poll and answers 499 (nobody reads it).
  const std::string gave_up = R"(rerank_http_requests_total{route="/v2/rerank",status="499"})";
  for (int i = 0; i < 250 && sample(s.metrics(), gave_up) != 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(sample(s.metrics(), gave_up), 1);
  gated->open();
  first.join();
  EXPECT_EQ(s.post("/v2/rerank", one_doc("after"))->status, 200);
  EXPECT_EQ(gated->seen(), (std::vector<std::string>{"first", "after"}));
  EXPECT_EQ(sample(s.metrics(), R"(rerank_requests_abandoned_total{model="m",reason="disconnected"})"), 1);
}

TEST(ServerBatching, ACallTakesRequestsInArrivalOrderWithinItsDocumentBudget) {
  auto gated = std::make_shared<GatedReranker>();
  ServeOptions o;
  o.max_batch_documents = 250;
  Server s(o, {{"m", "gated", gated, nullptr}});
  std::thread first([&] { s.post("/v2/rerank", one_doc("first")); });
  gated->wait_entered();
  std::vector<std::thread> queued;
  for (const std::string q : {"a", "b", "c"}) {
    queued.emplace_back([&s, q] {
      s.post("/v2/rerank", {{"query", q}, {"documents", std::vector<std::string>(100, "d")}});
    });
    // Each waits in the queue before the next is sent, so arrival order is a, b, c.
    const std::string depth = "rerank_queue_depth{model=\"m\"} " + std::to_string(queued.size());
    while (s.metrics().find(depth) == std::string::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  gated->open();
  first.join();
  for (auto& t : queued) t.join();
  EXPECT_EQ(gated->seen(), (std::vector<std::string>{"first", "a", "b", "c"}));
  EXPECT_EQ(gated->calls(), (std::vector<std::size_t>{1, 2, 1}));  // 200 documents, then the third
}

TEST(ServerBatching, ARequestTheModelCannotTakeFailsAloneNotItsBatchMates) {
  // max_length 24 leaves no room for a document after a long query: the library throws InvalidInput.
  auto gated = std::make_shared<GatedReranker>(tiny("pointwise", test::Tiny::Bert, {{"max_length", "24"}}));
  Server s({}, {{"m", "gated", gated, nullptr}});
  std::thread first([&] { s.post("/v2/rerank", one_doc("first")); });
  gated->wait_entered();
  int too_long_status = 0, fine_status = 0;
  std::string too_long_body, fine_body;
  std::string long_query;
  for (int i = 0; i < 40; ++i) long_query += "word ";
  std::thread a([&] {
    auto r = s.post("/v2/rerank", one_doc(long_query));
    too_long_status = r->status, too_long_body = r->body;
  });
  std::thread b([&] {
    auto r = s.post("/v2/rerank", one_doc("short"));
    fine_status = r->status, fine_body = r->body;
  });
  while (s.metrics().find("rerank_queue_depth{model=\"m\"} 2") == std::string::npos)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  gated->open();
  first.join(), a.join(), b.join();
  EXPECT_EQ(gated->calls(), (std::vector<std::size_t>{1, 2, 1, 1}));  // the pair failed, then each alone
  ASSERT_EQ(too_long_status, 422);
  EXPECT_THAT(json::parse(too_long_body)["message"].get<std::string>(),
              testing::HasSubstr("leaving no room for a document within max_length 24"));
  ASSERT_EQ(fine_status, 200);
  auto alone = tiny("pointwise", test::Tiny::Bert, {{"max_length", "24"}});
  const double logit =
      alone->rerank({CandidateList{{"q", "short"}, {{"0", "", "d", 0}}}})[0].ranking[0].score;
  EXPECT_DOUBLE_EQ(json::parse(fine_body)["results"][0]["relevance_score"].get<double>(),
                   1 / (1 + std::exp(-logit)));
}

}  // namespace
}  // namespace rerank
