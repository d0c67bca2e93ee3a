// Input that is odd but valid gets scores, the same the library gives for it: an empty document, NUL
// bytes, emoji, right-to-left text, a 1 MB document, 10,000 documents in one request. JSON nested
// deeper than 64 levels is a 400 (it crashed the server), and a full queue answers 429 with
// Retry-After, then recovers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "server_checks.h"

namespace rerank::test {
namespace {

using nlohmann::json;

// Posts TEI {query, texts, raw_scores} and returns the raw scores by document index.
std::vector<double> served_scores(const LiveServer& server, const std::string& query,
                                  const std::vector<std::string>& texts) {
  const json body = {{"query", query}, {"texts", texts}, {"raw_scores", true}};
  const auto res = server.client().Post("/rerank", body.dump(), "application/json");
  EXPECT_TRUE(res);
  if (!res) return {};
  EXPECT_EQ(res->status, 200) << res->body.substr(0, 300);
  std::vector<double> scores(texts.size(), std::nan(""));
  for (const auto& r : json::parse(res->body))
    scores.at(r["index"].get<std::size_t>()) = r["score"].get<double>();
  return scores;
}

TEST(ServerEdgeInput, OddTextsAreScoredAsTheLibraryScoresThem) {
  LiveServer server({});
  const std::vector<std::string> texts = {
      "",                                        // an empty document is a legitimate (poor) match
      std::string("nul\0inside", 10),            // sent as \u0000
      "emoji \xf0\x9f\x98\x80\xf0\x9f\x9a\x80",  // U+1F600 U+1F680
      "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 "
      "\xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9\x85",  // Arabic
      "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d",                          // Hebrew
      "e\xcc\x81 \xe2\x80\x8b \xe2\x80\xae",  // combining accent, zero-width space, RTL override
      " \t\n ",
  };
  const auto expected = library_scores("red planet \xf0\x9f\x94\xb4", texts);
  const auto scores = served_scores(server, "red planet \xf0\x9f\x94\xb4", texts);
  ASSERT_EQ(scores.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    EXPECT_TRUE(std::isfinite(scores[i])) << i;
    EXPECT_EQ(scores[i], expected[i]) << i;
  }
  // A surrogate pair in escapes is one valid character: the same as its UTF-8.
  const auto res = server.client().Post(
      "/rerank",
      R"({"query": "red planet \ud83d\udd34", "texts": ["emoji \ud83d\ude00\ud83d\ude80"], "raw_scores": true})",
      "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)[0]["score"].get<double>(), expected[2]);
  expect_serving(server);
}

TEST(ServerEdgeInput, OneMegabyteDocumentIsChunkedAndScored) {
  ServeOptions options;
  options.max_document_chars = 2u << 20;
  LiveServer server(options);
  std::string big;
  for (int i = 0; big.size() < (1u << 20); ++i)
    big += "planet " + std::to_string(i % 97) + " is red with iron oxide. ";
  const std::vector<std::string> texts = {big, "bananas are yellow"};
  // The library scores the same texts on another thread meanwhile (each takes seconds).
  auto expected_later =
      std::async(std::launch::async, [&] { return library_scores("why is mars red", texts); });
  const auto scores = served_scores(server, "why is mars red", texts);
  const auto expected = expected_later.get();
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_EQ(scores[0], expected[0]);
  EXPECT_EQ(scores[1], expected[1]);
  expect_serving(server);
}

TEST(ServerEdgeInput, TenThousandDocumentsScoreAsInSmallerRequests) {
  ServeOptions options;
  options.max_documents = 10000;
  LiveServer server(options);
  std::vector<std::string> texts;
  for (int i = 0; i < 10000; ++i)
    texts.push_back("document " + std::to_string(i) + " about topic " + std::to_string(i % 13));
  const auto all = served_scores(server, "topic 7", texts);
  ASSERT_EQ(all.size(), texts.size());
  // Two smaller requests from either end (all 10,000 again would double the test's time).
  for (const std::size_t start : {std::size_t{0}, std::size_t{9500}}) {
    const std::vector<std::string> part(texts.begin() + start, texts.begin() + start + 500);
    const auto scores = served_scores(server, "topic 7", part);
    ASSERT_EQ(scores.size(), part.size());
    for (std::size_t i = 0; i < part.size(); ++i) ASSERT_EQ(scores[i], all[start + i]) << start + i;
  }
  expect_serving(server);
}

TEST(ServerEdgeInput, DeeplyNestedJsonIs400) {
  LiveServer server({});
  // 100,000 levels in a Cohere v1 document object crashed the server (recursive serialization).
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string message = "the request body is nested deeper than 64 levels";
  for (const std::string path : {"/rerank", "/v1/rerank", "/v2/rerank"}) {
    const char* docs = path == "/rerank" ? "texts" : "documents";
    const auto res = server.client().Post(
        path, "{\"query\": \"q\", \"" + std::string(docs) + "\": [\"a\"], \"ignored\": " + deep + "}",
        "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body.substr(0, 300);
    EXPECT_EQ(error_message(path, 400, res->body), message);
  }
  const auto res = server.client().Post(
      "/v1/rerank", "{\"query\": \"q\", \"documents\": [{\"text\": \"a\", \"meta\": " + deep + "}]}",
      "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body.substr(0, 300);
  EXPECT_EQ(error_message("/v1/rerank", 400, res->body), message);
  // 64 levels are fine: the body is level 1, documents 2, a document 3, its meta 4 and more.
  const std::string ok = std::string(60, '[') + std::string(60, ']');
  const auto fine =
      server.client().Post("/v1/rerank",
                           "{\"query\": \"q\", \"documents\": [{\"text\": \"a\", \"meta\": " + ok +
                               "}], \"return_documents\": true}",
                           "application/json");
  ASSERT_TRUE(fine);
  ASSERT_EQ(fine->status, 200) << fine->body.substr(0, 300);
  EXPECT_EQ(json::parse(fine->body)["results"][0]["document"]["meta"], json::parse(ok));
  expect_serving(server);
}

// The tiny reranker behind a gate the test opens: while it is shut, the batcher's worker holds one
// request and the queue fills up.
class GatedReranker : public Reranker {
 public:
  struct Gate {
    std::mutex mutex;
    std::condition_variable changed;
    bool open = false;
    int entered = 0;
  };
  explicit GatedReranker(std::shared_ptr<Gate> gate) : gate_(std::move(gate)), inner_(tiny_reranker()) {}
  std::string name() const override { return inner_->name(); }
  ScoreScale score_scale() const override { return inner_->score_scale(); }
  std::vector<RerankResult> rerank(const std::vector<CandidateList>& batch) override {
    std::unique_lock lock(gate_->mutex);
    ++gate_->entered;
    gate_->changed.notify_all();
    gate_->changed.wait(lock, [this] { return gate_->open; });
    lock.unlock();
    return inner_->rerank(batch);
  }

 private:
  std::shared_ptr<Gate> gate_;
  std::unique_ptr<Reranker> inner_;
};

// Opens the gate when the test ends, even on a failed assertion, so the server can stop.
struct OpenOnExit {
  std::shared_ptr<GatedReranker::Gate> gate;
  void open() {
    std::lock_guard lock(gate->mutex);
    gate->open = true;
    gate->changed.notify_all();
  }
  ~OpenOnExit() { open(); }
};

TEST(ServerEdgeInput, FullQueueIs429WithRetryAfterThenRecovers) {
  auto gate = std::make_shared<GatedReranker::Gate>();
  ServeOptions options;
  options.queue_capacity = 1;
  options.max_batch_queries = 1;
  std::vector<ServedModel> models;
  models.push_back({"gated", "", std::make_unique<GatedReranker>(gate), nullptr});
  LiveServer server(options, std::move(models));
  const json body = {{"query", "why is mars red"}, {"documents", normal_texts()}};
  struct Reply {
    int status = 0;  // 0: no answer
    std::string body, retry_after;
  };
  std::vector<Reply> results(3);
  std::mutex done_mutex;
  std::condition_variable done;
  int finished = 0;
  std::jthread first, second, third;  // joined after the gate opens, before the server stops
  OpenOnExit opener{gate};
  // One request in the reranker, then two more: one waits in the queue, the other is turned away.
  auto send = [&](int i) {
    const auto res = server.client().Post("/v1/rerank", body.dump(), "application/json");
    std::lock_guard lock(done_mutex);
    if (res) results[i] = {res->status, res->body, res->get_header_value("Retry-After")};
    ++finished;
    done.notify_all();
  };
  first = std::jthread(send, 0);
  {
    std::unique_lock lock(gate->mutex);
    ASSERT_TRUE(gate->changed.wait_for(lock, std::chrono::seconds(10), [&] { return gate->entered == 1; }));
  }
  second = std::jthread(send, 1);
  third = std::jthread(send, 2);
  {
    std::unique_lock lock(done_mutex);
    const bool one_back = done.wait_for(lock, std::chrono::seconds(10), [&] { return finished == 1; });
    EXPECT_TRUE(one_back);
  }
  opener.open();
  for (auto* t : {&first, &second, &third}) t->join();
  int busy = 0, ok = 0;
  const auto expected = library_scores("why is mars red", normal_texts());
  for (const auto& res : results) {
    if (res.status == 429) {
      ++busy;
      EXPECT_EQ(res.retry_after, "1");
      EXPECT_EQ(error_message("/v1/rerank", 429, res.body), "the server is busy: 1 requests are waiting");
      continue;
    }
    ++ok;
    ASSERT_EQ(res.status, 200) << res.body;
    const json out = json::parse(res.body);
    for (const auto& r : out["results"])
      EXPECT_EQ(r["relevance_score"].get<double>(),
                relevance_of(ScoreScale::Logit, expected[r["index"]], 0, 1));
  }
  EXPECT_EQ(busy, 1);
  EXPECT_EQ(ok, 2);
  expect_serving(server);
}

}  // namespace
}  // namespace rerank::test
