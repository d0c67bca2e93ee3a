// The server on loopback, called over HTTP: each dialect's response with the library's scores,
// authentication, limits and error bodies, concurrent clients, several models.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "live_server.h"

namespace rerank {
namespace {

using nlohmann::json;

using test::LiveServer;

const std::vector<std::string> kTexts = {"mars is red because of iron oxide", "bananas are yellow",
                                         "the red planet", "rust is iron oxide"};

// The library's own scores for the same inputs, by document index.
std::vector<double> library_scores(const std::string& query) { return test::library_scores(query, kTexts); }

json post(httplib::Client c, const std::string& path, const json& body, int expected_status) {
  const auto res = c.Post(path, body.dump(), "application/json");
  EXPECT_TRUE(res) << path;
  if (!res) return {};
  EXPECT_EQ(res->status, expected_status) << res->body;
  return json::parse(res->body);
}

TEST(Server, TeiScoresAreTheLibrarysThroughASigmoid) {
  LiveServer server({});
  const auto expected = library_scores("why is mars red");
  const json out = post(server.client(), "/rerank", {{"query", "why is mars red"}, {"texts", kTexts}}, 200);
  ASSERT_TRUE(out.is_array());
  ASSERT_EQ(out.size(), kTexts.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::size_t index = out[i]["index"];
    EXPECT_EQ(out[i]["score"].get<double>(), 1.0 / (1.0 + std::exp(-expected[index])));
    if (i) {
      EXPECT_GE(out[i - 1]["score"].get<double>(), out[i]["score"].get<double>());
    }
    EXPECT_FALSE(out[i].contains("text"));
  }
  const json raw = post(
      server.client(), "/rerank",
      {{"query", "why is mars red"}, {"texts", kTexts}, {"raw_scores", true}, {"return_text", true}}, 200);
  for (const auto& r : raw) {
    EXPECT_EQ(r["score"].get<double>(), expected[r["index"].get<std::size_t>()]);
    EXPECT_EQ(r["text"], kTexts[r["index"].get<std::size_t>()]);
  }
}

TEST(Server, CohereV1AndV2Shapes) {
  LiveServer server({});
  const auto expected = library_scores("red planet");
  const json v1 = post(server.client(), "/v1/rerank",
                       {{"model", "any"},
                        {"query", "red planet"},
                        {"documents", kTexts},
                        {"top_n", 2},
                        {"return_documents", true}},
                       200);
  ASSERT_EQ(v1["results"].size(), 2u);
  EXPECT_EQ(v1["meta"]["api_version"]["version"], "1");
  for (const auto& r : v1["results"]) {
    const std::size_t i = r["index"];
    EXPECT_EQ(r["relevance_score"].get<double>(), 1.0 / (1.0 + std::exp(-expected[i])));
    EXPECT_EQ(r["document"]["text"], kTexts[i]);
  }
  const json v2 = post(server.client(), "/v2/rerank",
                       {{"model", "x"}, {"query", "red planet"}, {"documents", kTexts}}, 200);
  ASSERT_EQ(v2["results"].size(), kTexts.size());
  EXPECT_EQ(v2["results"][0]["index"], v1["results"][0]["index"]);
  EXPECT_FALSE(v2["results"][0].contains("document"));
  EXPECT_FALSE(v2["id"].get<std::string>().empty());
  EXPECT_NE(v2["id"], v1["id"]);
}

TEST(Server, KeysLimitsAndBadRequestsGetTheirStatusAndBody) {
  ServeOptions options;
  options.api_keys = {"secret-1", "secret-2"};
  options.max_body_bytes = 4096;
  LiveServer server(options);
  auto c = server.client();
  const std::string body = json{{"query", "q"}, {"documents", {"a"}}}.dump();
  auto res = c.Post("/v1/rerank", body, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["error"]["type"], "authentication_error");
  res = c.Post("/v1/rerank", {{"Authorization", "Bearer secret-3"}}, body, "application/json");
  EXPECT_EQ(res->status, 401);
  const httplib::Headers key = {{"Authorization", "Bearer secret-2"}};
  res = c.Post("/v1/rerank", key, body, "application/json");
  EXPECT_EQ(res->status, 200) << res->body;
  // The scheme is case-insensitive (Elasticsearch's Cohere schema sends "bearer"); others are refused.
  const std::pair<const char*, int> schemes[] = {{"bearer secret-2", 200}, {"Basic secret-2", 401}};
  for (const auto& [header, status] : schemes)
    EXPECT_EQ(c.Post("/v1/rerank", {{"Authorization", header}}, body, "application/json")->status, status);
  EXPECT_EQ(c.Get("/health")->status, 200);  // no key needed
  res = c.Post("/rerank", key, std::string(5000, ' '), "application/json");
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(json::parse(res->body)["error_type"], "validation");
  res = c.Post("/rerank", key, "{\"query\": \"\xc3\x28\", \"texts\": [\"a\"]}", "application/json");
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(json::parse(res->body)["error"].get<std::string>(), ::testing::StartsWith("malformed JSON"));
  res = c.Post("/rerank", key, "{\"query\": \"q\", \"texts\": [1]}", "application/json");
  EXPECT_EQ(res->status, 422);
  EXPECT_EQ(json::parse(res->body)["error"], "document 0 must be a string");
  res = c.Get("/nope", key);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(json::parse(res->body)["error"], "no route GET /nope");
  json many = {{"query", "q"}, {"texts", std::vector<std::string>(10000, "x")}};
  ServeOptions big = options;
  big.max_body_bytes = 1 << 20;
  LiveServer roomy(big);
  auto r2 = roomy.client().Post("/rerank", key, many.dump(), "application/json");
  EXPECT_EQ(r2->status, 422);
  EXPECT_EQ(json::parse(r2->body)["error"], "10000 documents; the limit is 1000");
  // Still serving after all of that.
  EXPECT_EQ(c.Post("/v2/rerank", key, body, "application/json")->status, 200);
}

TEST(Server, ConcurrentClientsGetTheScoresTheyWouldGetAlone) {
  LiveServer server({});
  const json alone = post(server.client(), "/rerank", {{"query", "iron oxide"}, {"texts", kTexts}}, 200);
  std::vector<json> answers(8);
  std::vector<std::thread> clients;
  for (std::size_t t = 0; t < answers.size(); ++t)
    clients.emplace_back([&, t] {
      answers[t] = post(server.client(), "/rerank",
                        {{"query", t % 2 ? "iron oxide" : "yellow"}, {"texts", kTexts}}, 200);
    });
  for (auto& c : clients) c.join();
  for (std::size_t t = 1; t < answers.size(); t += 2) EXPECT_EQ(answers[t], alone);
}

TEST(Server, SeveralModelsAreChosenByName) {
  LiveServer server({}, std::vector<std::string>{"small", "other"});
  post(server.client(), "/v2/rerank", {{"model", "other"}, {"query", "q"}, {"documents", {"a"}}}, 200);
  const json missing =
      post(server.client(), "/v2/rerank", {{"model", "big"}, {"query", "q"}, {"documents", {"a"}}}, 404);
  EXPECT_EQ(missing["message"], "no model 'big' (served: small, other)");
  const json info = json::parse(server.client().Get("/info")->body);
  EXPECT_EQ(info["models"].size(), 2u);
  EXPECT_EQ(info["limits"]["max_documents"], 1000);
}

TEST(Server, RelevanceScales) {
  EXPECT_DOUBLE_EQ(relevance_of(ScoreScale::Logit, 0.0, 0, 1), 0.5);
  EXPECT_DOUBLE_EQ(relevance_of(ScoreScale::Probability, 0.25, 0, 1), 0.25);
  EXPECT_DOUBLE_EQ(relevance_of(ScoreScale::Cosine, 0.5, 0, 1), 0.75);
  EXPECT_DOUBLE_EQ(relevance_of(ScoreScale::Ordinal, 7.0, 1, 4), 0.75);
}

}  // namespace
}  // namespace rerank
