// BEIR-style runs: the results object BEIR's evaluation takes, {"qid": {"docid": score, ...}, ...},
// saved as one JSON document. A JSON object has no order, so each query's documents are listed by
// score, best first, ties by document id (evaluation orders by score anyway).
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/json_line.h"
#include "io/run_formats.h"
#include "rerank/error.h"
#include "rerank/utf8.h"

namespace rerank::io {

bool looks_like_json_run(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  std::size_t i = head.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;  // UTF-8 byte order mark
  while (i < head.size() && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n')) ++i;
  return i < head.size() && head[i] == '{';
}

Run read_json_run(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "cannot open file");
  std::stringstream text;
  text << in.rdbuf();
  const std::string body = text.str();
  if (const auto bad = find_invalid_utf8(body)) {
    const std::size_t line =
        1 + static_cast<std::size_t>(std::count(body.begin(), body.begin() + *bad, '\n'));
    throw InputError(path, line, "invalid UTF-8 at byte " + std::to_string(*bad) + " of the file");
  }
  std::string error;
  std::size_t error_byte;
  const nlohmann::json doc = parse_json_text(body, error, error_byte);
  if (!error.empty()) {
    const std::size_t upto = std::min<std::size_t>(error_byte, body.size());
    const std::size_t line =
        error_byte ? 1 + static_cast<std::size_t>(std::count(body.begin(), body.begin() + upto, '\n')) : 0;
    throw InputError(path, line, "JSON run: " + error);
  }
  if (!doc.is_object())
    throw InputError(path, 0, "a JSON run must be an object {\"query id\": {\"document id\": score}}");
  Run run;
  for (const auto& [qid, docs] : doc.items()) {
    if (qid.empty()) throw InputError(path, 0, "empty query id in JSON run");
    if (!docs.is_object())
      throw InputError(path, 0, "query \"" + qid + "\": expected an object {\"document id\": score}");
    auto& list = run.by_query[qid];
    for (const auto& [docid, score] : docs.items()) {
      if (docid.empty()) throw InputError(path, 0, "query \"" + qid + "\": empty document id");
      if (!score.is_number())
        throw InputError(path, 0, "query \"" + qid + "\", document \"" + docid + "\": score is not a number");
      list.push_back(ScoredDoc{docid, score.get<double>()});
    }
    std::sort(list.begin(), list.end(), [](const ScoredDoc& a, const ScoredDoc& b) {
      return a.score != b.score ? a.score > b.score : a.doc_id < b.doc_id;
    });
  }
  return run;
}

}  // namespace rerank::io
