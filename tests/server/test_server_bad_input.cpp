// Bad input against the running server, well-formed HTTP: malformed JSON and invalid UTF-8 (400),
// keys (401), routes and models (404), sizes (413), mistyped fields and limits (422), each with its
// dialect's error body naming the problem; after every case a normal request still gets the library's
// scores. Unusual but valid texts (empty, NUL, emoji, right-to-left, 1 MB, 10,000 documents) are scored.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include "server_checks.h"

namespace rerank::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Matcher;
using ::testing::StartsWith;

const char* const kRoutes[] = {"/rerank", "/v1/rerank", "/v2/rerank"};

// A body with {query, texts|documents} for the route, plus the raw JSON members in `extra`.
std::string body_for(const std::string& path, const std::string& query_json, const std::string& docs_json,
                     const std::string& extra = "") {
  const char* docs = path == "/rerank" ? "texts" : "documents";
  return "{\"query\": " + query_json + ", \"" + docs + "\": " + docs_json + (extra.empty() ? "" : ", ") +
         extra + "}";
}

void expect_error(const LiveServer& server, const std::string& path, const std::string& body, int status,
                  const Matcher<std::string>& message, const httplib::Headers& headers = {}) {
  SCOPED_TRACE(path + " " + body.substr(0, 120) + (headers.empty() ? "" : " " + headers.begin()->second));
  const auto res = server.client().Post(path, headers, body, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, status) << res->body;
  EXPECT_THAT(error_message(path, status, res->body), message);
}

TEST(ServerBadInput, MalformedJsonAndInvalidUtf8Are400) {
  LiveServer server({});
  const std::vector<std::string> malformed = {
      "",
      "{",
      "{\"query\": \"q\", \"texts\": [\"a\"]",
      "{\"query\": \"q\"} trailing",
      "{'query': 'q'}",
      "{\"query\": \"\xff\"}",                   // not UTF-8 at all
      "{\"query\": \"\xc3\x28\"}",               // a lead byte without its continuation
      "{\"query\": \"\xc0\xaf\"}",               // overlong encoding of '/'
      "{\"query\": \"\xed\xa0\x80\"}",           // a surrogate encoded as UTF-8
      "{\"query\": \"q\xe2\x82\"}",              // truncated sequence at the end of a string
      "{\"q\xff\": 1}",                          // in a key
      "{\"query\": \"\\ud800\"}",                // lone high surrogate escape
      "{\"query\": \"\\udc00\\ud800\"}",         // reversed pair
      "{\"query\": \"\\ud800\\u0041\"}",         // high surrogate then not a low one
      "{\"query\": \"\\x41\"}",                  // not a JSON escape
      std::string("{\"query\": \"a\0b\"}", 16),  // raw control characters must be escaped
      "{\"query\": \"a\nb\"}",
      "{\"query\": \"q\", \"top_n\": 1e400}",  // beyond a double
  };
  for (const char* path : kRoutes) {
    for (const auto& body : malformed) expect_error(server, path, body, 400, StartsWith("malformed JSON: "));
    for (const std::string body : {"[{\"query\": \"q\"}]", "\"q\"", "null", "42", "true"})
      expect_error(server, path, body, 400, "the request body must be a JSON object");
  }
  // A form is not JSON (httplib would parse it into form fields).
  const auto form =
      server.client().Post("/v2/rerank", httplib::MultipartFormDataItems{{"query", "q", "", ""}});
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 400);
  EXPECT_EQ(error_message("/v2/rerank", 400, form->body),
            "the request body must be JSON, not multipart/form-data");
  // Invalid UTF-8 in a field the server otherwise ignores is still invalid JSON.
  expect_error(server, "/v1/rerank", body_for("/v1/rerank", "\"q\"", "[\"a\"]", "\"x\": \"\xfe\""), 400,
               HasSubstr("invalid"));
  expect_serving(server);
}

// Each route's mistyped fields, with the message that names the field.
const std::vector<std::tuple<std::string, std::string, std::string>> kMistyped = {
    {"/rerank", "{\"texts\": [\"a\"]}", "missing field 'query'"},
    {"/rerank", body_for("/rerank", "5", "[\"a\"]"), "field 'query' must be a string"},
    {"/rerank", body_for("/rerank", "[\"q\"]", "[\"a\"]"), "field 'query' must be a string"},
    {"/rerank", "{\"query\": \"q\"}", "missing field 'texts'"},
    {"/rerank", body_for("/rerank", "\"q\"", "{\"a\": 1}"), "field 'texts' must be a list"},
    {"/rerank", body_for("/rerank", "\"q\"", "\"a\""), "field 'texts' must be a list"},
    {"/rerank", body_for("/rerank", "\"q\"", "[\"a\", 2]"), "document 1 must be a string"},
    {"/rerank", body_for("/rerank", "\"q\"", "[{\"text\": \"a\"}]"), "document 0 must be a string"},
    {"/rerank", body_for("/rerank", "\"q\"", "[\"a\"]", "\"return_text\": \"yes\""),
     "field 'return_text' must be true or false"},
    {"/rerank", body_for("/rerank", "\"q\"", "[\"a\"]", "\"raw_scores\": 1"),
     "field 'raw_scores' must be true or false"},
    {"/rerank", body_for("/rerank", "\"q\"", "[\"a\"]", "\"model\": 3"), "field 'model' must be a string"},
    {"/rerank", body_for("/rerank", "\"\"", "[\"a\"]"), "the query is empty"},
    {"/rerank", body_for("/rerank", "\"q\"", "[]"), "'texts' is empty"},
    {"/v1/rerank", body_for("/v1/rerank", "{}", "[\"a\"]"), "field 'query' must be a string"},
    {"/v1/rerank", "{\"query\": \"q\"}", "missing field 'documents'"},
    {"/v1/rerank", body_for("/v1/rerank", "\"q\"", "{\"text\": \"a\"}"), "field 'documents' must be a list"},
    {"/v1/rerank", body_for("/v1/rerank", "\"q\"", "[1]"), "document 0 must be a string or an object"},
    {"/v1/rerank", body_for("/v1/rerank", "\"q\"", "[\"a\", {\"title\": \"t\"}]"),
     "document 1 has no string field 'text' (or give rank_fields)"},
    {"/v1/rerank", body_for("/v1/rerank", "\"q\"", "[{\"text\": 5}]"),
     "document 0 has no string field 'text' (or give rank_fields)"},
    {"/v1/rerank", body_for("/v1/rerank", "\"q\"", "[\"a\"]", "\"rank_fields\": \"title\""),
     "field 'rank_fields' must be a list of strings"},
    {"/v1/rerank", body_for("/v1/rerank", "\"q\"", "[\"a\"]", "\"rank_fields\": [\"title\", 1]"),
     "field 'rank_fields' must be a list of strings"},
    {"/v1/rerank", body_for("/v1/rerank", "\"q\"", "[\"a\"]", "\"return_documents\": \"true\""),
     "field 'return_documents' must be true or false"},
    {"/v1/rerank", body_for("/v1/rerank", "\"q\"", "[]"), "'documents' is empty"},
    {"/v1/rerank", body_for("/v1/rerank", "\"\"", "[\"a\"]"), "the query is empty"},
    {"/v2/rerank", body_for("/v2/rerank", "\"q\"", "[{\"text\": \"a\"}]"), "document 0 must be a string"},
    {"/v2/rerank", body_for("/v2/rerank", "\"q\"", "[\"a\"]", "\"model\": [\"m\"]"),
     "field 'model' must be a string"},
    {"/v2/rerank", body_for("/v2/rerank", "\"q\"", "null"), "missing field 'documents'"},
    {"/v2/rerank", body_for("/v2/rerank", "\"q\"", "[]"), "'documents' is empty"},
};

TEST(ServerBadInput, MistypedFieldsAre422NamingTheField) {
  LiveServer server({});
  for (const auto& [path, body, message] : kMistyped) expect_error(server, path, body, 422, message);
  for (const char* path : {"/v1/rerank", "/v2/rerank"})
    for (const char* top_n : {"-1", "0", "1.5", "\"2\"", "true", "[1]", "1e300", "18446744073709551615"})
      expect_error(server, path, body_for(path, "\"q\"", "[\"a\"]", std::string("\"top_n\": ") + top_n), 422,
                   "field 'top_n' must be a positive integer");
  expect_serving(server);
}

TEST(ServerBadInput, LimitsAre413And422WithTheNumbers) {
  ServeOptions options;
  options.max_body_bytes = 2000;
  options.max_documents = 4;  // room for expect_serving's request
  options.max_document_chars = 40;
  options.max_query_chars = 16;
  LiveServer server(options);
  for (const char* path : kRoutes) {
    expect_error(server, path, body_for(path, "\"q\"", "[\"a\",\"b\",\"c\",\"d\",\"e\"]"), 422,
                 "5 documents; the limit is 4");
    expect_error(server, path, body_for(path, "\"q\"", "[\"a\", \"" + std::string(41, 'x') + "\"]"), 422,
                 "document 1 has 41 bytes; the limit is 40");
    // Limits count bytes: 8 two-byte characters and a 'q' are 17 bytes, over a limit of 16.
    const std::string e_acute = "\xc3\xa9";
    std::string query;
    for (int i = 0; i < 8; ++i) query += e_acute;
    expect_error(server, path, body_for(path, "\"" + query + "q\"", "[\"a\"]"), 422,
                 "the query has 17 bytes; the limit is 16");
    expect_error(server, path, body_for(path, "\"q\"", "[\"" + std::string(2000, 'x') + "\"]"), 413,
                 "the request body is larger than the limit");
    // Exactly at every limit is fine.
    const auto res = server.client().Post(
        path, body_for(path, "\"" + query + "\"", "[\"a\", \"b\", \"c\", \"" + std::string(40, 'x') + "\"]"),
        "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
  }
  expect_serving(server);
}

TEST(ServerBadInput, TenThousandDocumentsAreOverTheDefaultLimit) {
  LiveServer server({});
  const json many = std::vector<std::string>(10000, "x");
  for (const char* path : kRoutes)
    expect_error(server, path, body_for(path, "\"q\"", many.dump()), 422,
                 "10000 documents; the limit is 1000");
  expect_serving(server);
}

TEST(ServerBadInput, KeysAre401AndRoutesOrModels404) {
  ServeOptions options;
  options.api_keys = {"secret-1", "secret-2"};
  LiveServer server(options, std::vector<std::string>{"small", "other"});
  const std::string message = "missing or wrong API key (Authorization: Bearer KEY)";
  for (const char* path : kRoutes) {
    const std::string body = body_for(path, "\"q\"", "[\"a\"]");
    expect_error(server, path, body, 401, message);
    for (const char* header : {"Bearer secret-3", "Bearer secret-", "Bearer secret-10", "Bearer  secret-1",
                               "Bearer ", "secret-1", "Basic c2VjcmV0LTE6", "Bearer:secret-1"})
      expect_error(server, path, body, 401, message, {{"Authorization", header}});
  }
  const httplib::Headers key = {{"Authorization", "Bearer secret-2"}};
  EXPECT_EQ(server.client().Get("/info")->status, 401);
  EXPECT_EQ(server.client().Get("/health")->status, 200);
  // Unknown routes and methods, each in the dialect its path implies.
  for (const char* path : {"/nope", "/v1/nope", "/v2/rerank/extra", "/rerank/"})
    expect_error(server, path, "{}", 404, std::string("no route POST ") + path, key);
  auto res = server.client().Get("/rerank", key);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(error_message("/rerank", 404, res->body), "no route GET /rerank");
  res = server.client().Delete("/v1/rerank", key);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(error_message("/v1/rerank", 404, res->body), "no route DELETE /v1/rerank");
  for (const char* path : kRoutes)
    expect_error(server, path, body_for(path, "\"q\"", "[\"a\"]", "\"model\": \"big\""), 404,
                 "no model 'big' (served: small, other)", key);
  expect_serving(server, key, "other");
}

}  // namespace
}  // namespace rerank::test
