// The dialects as pure functions: each API's request fields, its response shape, and its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/dialects.h"

namespace rerank::server {
namespace {

using nlohmann::json;

int status_of(Dialect d, const std::string& body, Limits limits = {}) {
  try {
    parse_request(d, body, limits);
  } catch (const RequestError& e) {
    return e.status();
  }
  return 200;
}

std::string message_of(Dialect d, const std::string& body, Limits limits = {}) {
  try {
    parse_request(d, body, limits);
  } catch (const RequestError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Dialects, TeiRequestAndBareArrayResponse) {
  const auto r =
      parse_request(Dialect::Tei, R"({"query": "q", "texts": ["a", "bb"], "return_text": true})", {});
  EXPECT_EQ(r.texts, (std::vector<std::string>{"a", "bb"}));
  EXPECT_TRUE(r.return_documents);
  EXPECT_FALSE(r.raw_scores);
  const json out = json::parse(render_response(r, {{0, 0.25, -1.1}, {1, 0.75, 1.1}}, "id", "m", 7));
  EXPECT_EQ(out,
            json::parse(
                R"([{"index": 1, "score": 0.75, "text": "bb"}, {"index": 0, "score": 0.25, "text": "a"}])"));
  auto raw = parse_request(Dialect::Tei, R"({"query": "q", "texts": ["a", "bb"], "raw_scores": true})", {});
  EXPECT_EQ(json::parse(render_response(raw, {{0, 0.25, -1.1}, {1, 0.75, 1.1}}, "id", "m", 7))[0]["score"],
            1.1);
}

// Elasticsearch's request entity for Hugging Face Inference Endpoints: {query, documents}, top_n.
TEST(Dialects, TeiRouteTakesDocumentsAndTopNAsElasticsearchSendsThem) {
  const auto r =
      parse_request(Dialect::Tei, R"({"query": "q", "documents": ["a", "bb", "c"], "top_n": 2})", {});
  EXPECT_EQ(r.texts, (std::vector<std::string>{"a", "bb", "c"}));
  const json out =
      json::parse(render_response(r, {{0, 0.25, -1.1}, {1, 0.75, 1.1}, {2, 0.5, 0}}, "id", "m", 7));
  EXPECT_EQ(out, json::parse(R"([{"index": 1, "score": 0.75}, {"index": 2, "score": 0.5}])"));
  EXPECT_EQ(message_of(Dialect::Tei, R"({"query": "q", "documents": []})"), "'documents' is empty");
  EXPECT_EQ(message_of(Dialect::Tei, R"({"query": "q"})"), "missing field 'texts'");
}

TEST(Dialects, CohereV1DocumentsAsStringsOrObjectsWithRankFields) {
  const auto r = parse_request(Dialect::CohereV1,
                               R"({"model": "m", "query": "q", "top_n": 1, "return_documents": true,
                                   "rank_fields": ["title", "body"],
                                   "documents": [{"title": "T", "body": "B", "id": 3}, "plain"]})",
                               {});
  EXPECT_EQ(r.texts, (std::vector<std::string>{"title: T\nbody: B", "plain"}));
  const json out = json::parse(render_response(r, {{0, 0.2, 0}, {1, 0.9, 0}}, "abc", "m", 12));
  EXPECT_EQ(out["id"], "abc");
  EXPECT_EQ(out["results"],
            json::parse(R"([{"index": 1, "relevance_score": 0.9, "document": {"text": "plain"}}])"));
  EXPECT_EQ(out["meta"]["api_version"]["version"], "1");
  EXPECT_EQ(out["meta"]["billed_units"]["search_units"], 1);
  EXPECT_EQ(out["usage"]["total_tokens"], 12);
}

TEST(Dialects, CohereV2TakesStringsOnlyAndReturnsNoDocuments) {
  const auto r =
      parse_request(Dialect::CohereV2, R"({"model": "m", "query": "q", "documents": ["a", "b", "c"]})", {});
  const json out = json::parse(render_response(r, {{0, 0.1, 0}, {1, 0.3, 0}, {2, 0.2, 0}}, "x", "m", 0));
  EXPECT_EQ(out["results"],
            json::parse(R"([{"index": 1, "relevance_score": 0.3}, {"index": 2, "relevance_score": 0.2},
                            {"index": 0, "relevance_score": 0.1}])"));
  EXPECT_EQ(out["meta"]["api_version"]["version"], "2");
  EXPECT_EQ(status_of(Dialect::CohereV2, R"({"query": "q", "documents": [{"text": "a"}]})"), 422);
}

TEST(Dialects, BadRequestsGetTheirStatusAndAClearMessage) {
  EXPECT_EQ(status_of(Dialect::Tei, "{not json"), 400);
  EXPECT_EQ(status_of(Dialect::Tei, "[1, 2]"), 400);
  EXPECT_EQ(status_of(Dialect::Tei, "{\"query\": \"\xff\xfe\", \"texts\": [\"a\"]}"), 400);  // invalid UTF-8
  EXPECT_EQ(message_of(Dialect::Tei, R"({"texts": ["a"]})"), "missing field 'query'");
  EXPECT_EQ(message_of(Dialect::Tei, R"({"query": 5, "texts": ["a"]})"), "field 'query' must be a string");
  EXPECT_EQ(message_of(Dialect::Tei, R"({"query": "q", "texts": "a"})"), "field 'texts' must be a list");
  EXPECT_EQ(message_of(Dialect::Tei, R"({"query": "q", "texts": []})"), "'texts' is empty");
  EXPECT_EQ(message_of(Dialect::Tei, R"({"query": "", "texts": ["a"]})"), "the query is empty");
  EXPECT_EQ(message_of(Dialect::CohereV1, R"({"query": "q", "documents": ["a"], "top_n": 0})"),
            "field 'top_n' must be a positive integer");
  EXPECT_EQ(message_of(Dialect::CohereV1, R"({"query": "q", "documents": [{"title": "x"}]})"),
            "document 0 has no string field 'text' (or give rank_fields)");
  Limits small;
  small.max_documents = 2;
  small.max_document_chars = 3;
  EXPECT_EQ(message_of(Dialect::Tei, R"({"query": "q", "texts": ["a", "b", "c"]})", small),
            "3 documents; the limit is 2");
  EXPECT_EQ(message_of(Dialect::Tei, R"({"query": "q", "texts": ["abcd"]})", small),
            "document 0 has 4 bytes; the limit is 3");
}

TEST(Dialects, ErrorBodies) {
  EXPECT_EQ(json::parse(render_error(Dialect::Tei, 422, "bad")),
            json::parse(R"({"error": "bad", "error_type": "validation"})"));
  EXPECT_EQ(json::parse(render_error(Dialect::Tei, 429, "busy"))["error_type"], "overloaded");
  const json cohere = json::parse(render_error(Dialect::CohereV1, 401, "no key"));
  EXPECT_EQ(cohere["message"], "no key");
  EXPECT_EQ(cohere["error"]["type"], "authentication_error");
  EXPECT_EQ(cohere["error"]["code"], 401);
}

}  // namespace
}  // namespace rerank::server
