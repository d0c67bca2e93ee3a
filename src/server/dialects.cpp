#include "server/dialects.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace rerank::server {
namespace {

using nlohmann::json;

// Messages may quote the client's bytes (a parse error's "last read"), which need not be UTF-8.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Deeper JSON is refused: serializing it again (a Cohere v1 document kept as sent) recurses once a
// level, and 100,000 levels overflowed a server thread's stack.
constexpr int kMaxDepth = 64;

json parse_body(const std::string& body) {
  const auto check_depth = [](int depth, json::parse_event_t, json&) {
    if (depth > kMaxDepth)
      throw RequestError(400,
                         "the request body is nested deeper than " + std::to_string(kMaxDepth) + " levels");
    return true;
  };
  try {
    json j = json::parse(body, check_depth);
    if (!j.is_object()) throw RequestError(400, "the request body must be a JSON object");
    return j;
  } catch (const json::parse_error& e) {
    // nlohmann's lexer also rejects ill-formed UTF-8 inside strings.
    throw RequestError(400, std::string("malformed JSON: ") + e.what());
  } catch (const json::out_of_range& e) {
    // A number beyond a double (1e400) anywhere in the body.
    throw RequestError(400, std::string("malformed JSON: ") + e.what());
  }
}

const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

std::string text_field(const json& body, const char* name, bool required) {
  const json* v = field(body, name);
  if (!v) {
    if (required) throw RequestError(422, std::string("missing field '") + name + "'");
    return "";
  }
  if (!v->is_string()) throw RequestError(422, std::string("field '") + name + "' must be a string");
  return v->get<std::string>();
}

bool flag_field(const json& body, const char* name, bool fallback) {
  const json* v = field(body, name);
  if (!v) return fallback;
  if (!v->is_boolean()) throw RequestError(422, std::string("field '") + name + "' must be true or false");
  return v->get<bool>();
}

std::optional<std::size_t> count_field(const json& body, const char* name) {
  const json* v = field(body, name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer() || v->get<long long>() < 1)
    throw RequestError(422, std::string("field '") + name + "' must be a positive integer");
  return static_cast<std::size_t>(v->get<long long>());
}

// A Cohere v1 document object: the rank_fields as "field: value" lines, or its "text".
std::string object_text(const json& doc, const std::vector<std::string>& rank_fields, std::size_t i) {
  if (rank_fields.empty()) {
    auto it = doc.find("text");
    if (it == doc.end() || !it->is_string())
      throw RequestError(
          422, "document " + std::to_string(i) + " has no string field 'text' (or give rank_fields)");
    return it->get<std::string>();
  }
  std::string out;
  for (const auto& f : rank_fields) {
    auto it = doc.find(f);
    if (it == doc.end()) continue;
    if (!out.empty()) out += "\n";
    out += f + ": " + (it->is_string() ? it->get<std::string>() : it->dump());
  }
  return out;
}

std::vector<std::string> rank_fields_of(const json& body) {
  std::vector<std::string> fields;
  if (const json* v = field(body, "rank_fields")) {
    if (!v->is_array()) throw RequestError(422, "field 'rank_fields' must be a list of strings");
    for (const auto& f : *v) {
      if (!f.is_string()) throw RequestError(422, "field 'rank_fields' must be a list of strings");
      fields.push_back(f.get<std::string>());
    }
  }
  return fields;
}

void read_documents(const json& body, const char* name, bool objects_allowed, RerankRequest& r) {
  const json* docs = field(body, name);
  if (!docs) throw RequestError(422, std::string("missing field '") + name + "'");
  if (!docs->is_array()) throw RequestError(422, std::string("field '") + name + "' must be a list");
  const auto rank_fields = rank_fields_of(body);
  std::size_t i = 0;
  for (const auto& d : *docs) {
    if (d.is_string()) {
      r.texts.push_back(d.get<std::string>());
      r.objects.emplace_back();
    } else if (d.is_object() && objects_allowed) {
      r.texts.push_back(object_text(d, rank_fields, i));
      r.objects.push_back(d.dump());
    } else {
      throw RequestError(422, "document " + std::to_string(i) + " must be a string" +
                                  (objects_allowed ? " or an object" : ""));
    }
    ++i;
  }
}

void check_limits(const RerankRequest& r, const Limits& limits, const char* documents) {
  if (r.query.empty()) throw RequestError(422, "the query is empty");
  if (r.query.size() > limits.max_query_chars)
    throw RequestError(422, "the query has " + std::to_string(r.query.size()) + " bytes; the limit is " +
                                std::to_string(limits.max_query_chars));
  if (r.texts.empty()) throw RequestError(422, std::string("'") + documents + "' is empty");
  if (r.texts.size() > limits.max_documents)
    throw RequestError(422, std::to_string(r.texts.size()) + " documents; the limit is " +
                                std::to_string(limits.max_documents));
  for (std::size_t i = 0; i < r.texts.size(); ++i)
    if (r.texts[i].size() > limits.max_document_chars)
      throw RequestError(422, "document " + std::to_string(i) + " has " + std::to_string(r.texts[i].size()) +
                                  " bytes; the limit is " + std::to_string(limits.max_document_chars));
}

}  // namespace

RerankRequest parse_request(Dialect dialect, const std::string& body, const Limits& limits) {
  const json j = parse_body(body);
  RerankRequest r;
  r.dialect = dialect;
  r.query = text_field(j, "query", true);
  r.model = text_field(j, "model", false);
  if (dialect == Dialect::Tei) {
    read_documents(j, "texts", false, r);
    r.return_documents = flag_field(j, "return_text", false);
    r.raw_scores = flag_field(j, "raw_scores", false);
    check_limits(r, limits, "texts");
    return r;
  }
  read_documents(j, "documents", dialect == Dialect::CohereV1, r);
  r.top_n = count_field(j, "top_n");
  r.return_documents = flag_field(j, "return_documents", false);
  check_limits(r, limits, "documents");
  return r;
}

std::string render_response(const RerankRequest& request, std::vector<ScoredIndex> results,
                            const std::string& id, const std::string& model_name, std::size_t total_tokens) {
  std::stable_sort(results.begin(), results.end(),
                   [](const ScoredIndex& a, const ScoredIndex& b) { return a.relevance > b.relevance; });
  if (request.top_n && *request.top_n < results.size()) results.resize(*request.top_n);
  if (request.dialect == Dialect::Tei) {
    json out = json::array();
    for (const auto& r : results) {
      json item{{"index", r.index}, {"score", request.raw_scores ? r.raw : r.relevance}};
      if (request.return_documents) item["text"] = request.texts[r.index];
      out.push_back(std::move(item));
    }
    return out.dump();
  }
  json list = json::array();
  for (const auto& r : results) {
    json item{{"index", r.index}, {"relevance_score", r.relevance}};
    if (request.return_documents) {
      const std::string& object = request.objects[r.index];
      item["document"] = object.empty() ? json{{"text", request.texts[r.index]}} : json::parse(object);
    }
    list.push_back(std::move(item));
  }
  const char* version = request.dialect == Dialect::CohereV1 ? "1" : "2";
  return json{{"id", id},
              {"model", model_name},
              {"results", std::move(list)},
              {"meta", {{"api_version", {{"version", version}}}, {"billed_units", {{"search_units", 1}}}}},
              {"usage", {{"total_tokens", total_tokens}}}}
      .dump();
}

std::string render_error(Dialect dialect, int status, const std::string& message) {
  if (dialect == Dialect::Tei) {
    const char* type = status == 429   ? "overloaded"
                       : status == 503 ? "unhealthy"
                       : status >= 500 ? "backend"
                                       : "validation";
    return dump(json{{"error", message}, {"error_type", type}});
  }
  const char* type = status == 401   ? "authentication_error"
                     : status == 429 ? "rate_limit_error"
                     : status >= 500 ? "server_error"
                                     : "invalid_request_error";
  return dump(
      json{{"message", message}, {"error", {{"message", message}, {"type", type}, {"code", status}}}});
}

}  // namespace rerank::server
