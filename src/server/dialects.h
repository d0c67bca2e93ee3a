// The rerank APIs clients already speak, as pure functions from request bodies to a common request
// and from scores back to each dialect's response and error shapes:
//   TEI        POST /rerank     {query, texts, raw_scores, return_text, truncate, truncation_direction}
//                               -> [{index, score, text?}] sorted by score
//   Cohere v1  POST /v1/rerank  {model, query, documents (strings or objects + rank_fields), top_n,
//                               return_documents, max_chunks_per_doc} -> {id, results:[{index,
//                               relevance_score, document?}], meta}; Jina/vLLM clients read the same
//                               response (document:{text}, usage:{total_tokens}, model)
//   Cohere v2  POST /v2/rerank  {model, query, documents (strings), top_n, max_tokens_per_doc}
//                               -> {id, results:[{index, relevance_score}], meta}
#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rerank/error.h"
#include "rerank/types.h"

namespace rerank::server {

// Search: our POST /search (server/search.h); its errors take Cohere's shape.
enum class Dialect { Tei, CohereV1, CohereV2, Search };

// Limits every request is checked against (413/422 beyond them).
struct Limits {
  std::size_t max_documents = 1000;
  std::size_t max_document_chars = 100000;
  std::size_t max_query_chars = 10000;
};

// A request the server cannot take: its HTTP status and a message for the client.
class RequestError : public Error {
 public:
  RequestError(int status, const std::string& message) : Error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct RerankRequest {
  Dialect dialect = Dialect::Tei;
  std::string model;  // "" when the body names none
  std::string query;
  std::vector<std::string> texts;    // what the model reads of each document, in request order
  std::vector<std::string> objects;  // Cohere v1 object documents as sent (JSON); "" for a string document
  std::optional<std::size_t> top_n;
  bool return_documents = false;  // TEI's return_text
  bool raw_scores = false;        // TEI: the model's raw score instead of [0, 1]
  std::string strategy;           // "": the model's served strategy
  std::map<std::string, std::string> strategy_options;
  DocumentLimits limits;                  // the request's truncation options
  std::optional<std::size_t> candidates;  // Search: first-stage hits to rerank (default: the server's)
};

// Parses and checks a body. Throws RequestError: 400 for malformed JSON or invalid UTF-8, 422 for
// missing or mistyped fields and documents beyond the limits.
RerankRequest parse_request(Dialect dialect, const std::string& body, const Limits& limits);

struct ScoredIndex {
  std::size_t index = 0;  // into the request's documents
  double relevance = 0;   // in [0, 1]
  double raw = 0;         // the model's own score
};

// The response body: `results` best first (already cut to top_n by the caller or not: it is cut here).
std::string render_response(const RerankRequest& request, std::vector<ScoredIndex> results,
                            const std::string& id, const std::string& model_name, std::size_t total_tokens);

// Each dialect's error body: TEI {error, error_type}, Cohere {message} (v1 adds OpenAI-style
// {error:{message, type, code}} for OpenAI-compatible clients).
std::string render_error(Dialect dialect, int status, const std::string& message);

}  // namespace rerank::server
