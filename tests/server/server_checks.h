// Checks the bad-input tests share: each dialect's error body, and that the server still answers a
// normal request with the library's scores after a hostile one.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "live_server.h"

namespace rerank::test {

// Checks the error body's shape for the route's dialect and status (TEI {error, error_type}; Cohere
// {message, error: {message, type, code}}) and returns its message ("" when the shape is wrong).
inline std::string error_message(const std::string& path, int status, const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  EXPECT_TRUE(j.is_object()) << path << ": " << body;
  if (!j.is_object()) return "";
  if (path.rfind("/v1/", 0) != 0 && path.rfind("/v2/", 0) != 0) {
    const char* type = status == 429 ? "overloaded" : status >= 500 ? "backend" : "validation";
    EXPECT_EQ(j.size(), 2u) << body;
    EXPECT_EQ(j.value("error_type", ""), type) << body;
    return j.value("error", "");
  }
  const char* type = status == 401   ? "authentication_error"
                     : status == 429 ? "rate_limit_error"
                     : status >= 500 ? "server_error"
                                     : "invalid_request_error";
  EXPECT_EQ(j.size(), 2u) << body;
  const auto& error = j.value("error", nlohmann::json::object());
  EXPECT_EQ(error.value("type", ""), type) << body;
  EXPECT_EQ(error.value("code", 0), status) << body;
  EXPECT_EQ(error.value("message", ""), j.value("message", "?")) << body;
  return j.value("message", "");
}

inline const std::vector<std::string>& normal_texts() {
  static const std::vector<std::string> texts = {"mars is red because of iron oxide", "bananas are yellow",
                                                 "the red planet", "rust is iron oxide"};
  return texts;
}

// A normal TEI request (for `model` when several are served) gets 200 and, document by document, the
// library's own scores.
inline void expect_serving(const LiveServer& server, const httplib::Headers& headers = {},
                           const std::string& model = "") {
  static const std::vector<double> expected = library_scores("why is mars red", normal_texts());
  nlohmann::json body = {{"query", "why is mars red"}, {"texts", normal_texts()}, {"raw_scores", true}};
  if (!model.empty()) body["model"] = model;
  auto c = server.client();
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(10, 0);
  const auto res = c.Post("/rerank", headers, body.dump(), "application/json");
  ASSERT_TRUE(res) << "the server no longer answers: " << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  const auto out = nlohmann::json::parse(res->body);
  ASSERT_EQ(out.size(), expected.size());
  for (const auto& r : out) EXPECT_EQ(r["score"].get<double>(), expected[r["index"].get<std::size_t>()]);
}

}  // namespace rerank::test
