// The server's request parsers, one per dialect (TEI, Cohere v1 and v2 with Jina's shape, /search):
// arbitrary bodies must parse or throw RequestError with a 4xx status; a body that parses must
// respect the limits, and its rendered response (scores made up here) and error bodies must be
// valid JSON. Control byte: the dialect.
#include <nlohmann/json.hpp>

#include "fuzz_input.h"
#include "rerank/utf8.h"
#include "server/dialects.h"

namespace {
using rerank::server::Dialect;

void check(Dialect dialect, const std::string& body) {
  rerank::server::Limits limits;
  limits.max_documents = 50;
  limits.max_document_chars = 2000;
  limits.max_query_chars = 500;
  try {
    const rerank::server::RerankRequest request = rerank::server::parse_request(dialect, body, limits);
    if (request.texts.size() > limits.max_documents || !rerank::is_valid_utf8(request.query)) std::abort();
    std::vector<rerank::server::ScoredIndex> results;
    for (std::size_t i = 0; i < request.texts.size(); ++i)
      results.push_back({i, 1.0 / static_cast<double>(i + 1), static_cast<double>(i)});
    const std::string response = rerank::server::render_response(request, results, "id", "model", 3);
    if (!nlohmann::json::accept(response)) std::abort();
  } catch (const rerank::server::RequestError& e) {
    if (e.status() < 400 || e.status() > 499) std::abort();
    if (!nlohmann::json::accept(rerank::server::render_error(dialect, e.status(), e.what()))) std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const rerank::fuzz::Control input = rerank::fuzz::split_control(data, size);
  const std::uint8_t control = input.byte;
  const std::string_view payload = input.payload;
  const Dialect dialects[] = {Dialect::Tei, Dialect::CohereV1, Dialect::CohereV2, Dialect::Search};
  const std::string body(payload);
  rerank::fuzz::expect_clean_outcome([&] { check(dialects[control % 4], body); });
  return 0;
}
