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

// Our extension of every dialect: {"strategy": "setwise", "strategy_options": {"k": 10, ...}}.
// Values become the strings the command line would give; a value naming a file ("@path") is refused,
// since the server's files are not the client's to read.
void read_strategy(const json& body, RerankRequest& r) {
  r.strategy = text_field(body, "strategy", false);
  const json* v = field(body, "strategy_options");
  if (!v) return;
  if (!v->is_object()) throw RequestError(422, "field 'strategy_options' must be an object");
  if (r.strategy.empty()) throw RequestError(422, "field 'strategy_options' needs field 'strategy'");
  for (const auto& [key, value] : v->items()) {
    std::string text;
    if (value.is_string())
      text = value.get<std::string>();
    else if (value.is_boolean())
      text = value.get<bool>() ? "on" : "off";
    else if (value.is_number())
      text = value.dump();
    else
      throw RequestError(422, "strategy option '" + key + "' must be a string, a number or true/false");
    if (!text.empty() && text[0] == '@')
      throw RequestError(422,
                         "strategy option '" + key + "': values naming files (@...) are not taken over HTTP");
    r.strategy_options[key] = text;
  }
}

// The caller's limits on long documents: TEI's truncate (one window, at the start or, with
// truncation_direction "Left", at the end), Cohere's max_tokens_per_doc and max_chunks_per_doc.
// Without them long documents are cut into windows and scored by their best one (MaxP).
DocumentLimits read_limits(const json& body, Dialect dialect) {
  DocumentLimits limits;
  if (dialect == Dialect::Tei) {
    if (flag_field(body, "truncate", false)) limits.max_chunks = 1;
    const std::string direction = text_field(body, "truncation_direction", false);
    if (direction == "Left" || direction == "left")
      limits.from_end = true;
    else if (!direction.empty() && direction != "Right" && direction != "right")
      throw RequestError(422, "field 'truncation_direction' must be \"Left\" or \"Right\"");
    return limits;
  }
  limits.max_tokens = count_field(body, "max_tokens_per_doc").value_or(0);
  limits.max_chunks = count_field(body, "max_chunks_per_doc").value_or(0);
  return limits;
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

void check_query(const RerankRequest& r, const Limits& limits) {
  if (r.query.empty()) throw RequestError(422, "the query is empty");
  if (r.query.size() > limits.max_query_chars)
    throw RequestError(422, "the query has " + std::to_string(r.query.size()) + " bytes; the limit is " +
                                std::to_string(limits.max_query_chars));
}

void check_limits(const RerankRequest& r, const Limits& limits, const char* documents) {
  check_query(r, limits);
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
  read_strategy(j, r);
  r.limits = read_limits(j, dialect);
  if (dialect == Dialect::Search) {
    if (j.contains("documents") || j.contains("texts"))
      throw RequestError(422, "/search retrieves its documents; send them to /v2/rerank instead");
    r.top_n = count_field(j, "top_n").value_or(10);
    r.candidates = count_field(j, "candidates");
    if (r.candidates && *r.candidates > limits.max_documents)
      throw RequestError(422, "field 'candidates' is " + std::to_string(*r.candidates) + "; the limit is " +
                                  std::to_string(limits.max_documents));
    r.return_documents = flag_field(j, "return_documents", true);
    check_query(r, limits);
    return r;
  }
  if (dialect == Dialect::Tei) {
    // TEI's field is "texts"; Elasticsearch's entity for Hugging Face Inference Endpoints sends the
    // same request as {query, documents}. top_n is not TEI's, but Elasticsearch sends it.
    const bool documents = !field(j, "texts") && field(j, "documents");
    read_documents(j, documents ? "documents" : "texts", false, r);
    r.return_documents = flag_field(j, "return_text", false) || flag_field(j, "return_documents", false);
    r.top_n = count_field(j, "top_n");
    r.raw_scores = flag_field(j, "raw_scores", false);
    check_limits(r, limits, documents ? "documents" : "texts");
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
