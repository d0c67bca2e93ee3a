// Candidates JSONL (docs/formats.md): one query with its candidate documents per line,
// {"query_id": .., "query": .., "candidates": [{"id": .., "title": .., "text": .., "score": ..}, ..]}.
#include <ostream>
#include <unordered_map>

#include "io/fields.h"
#include "io/json_line.h"
#include "io/line_reader.h"
#include "rerank/error.h"
#include "rerank/io.h"

namespace rerank {

struct CandidatesReader::Impl {
  explicit Impl(const std::string& path) : reader(path) {}

  bool next(CandidateList& list) {
    std::string_view line;
    do {
      if (!reader.next(line)) return false;
    } while (io::trim(line).empty());
    const auto obj = io::parse_json_object(reader, line);
    list.query.id = io::json_id(reader, obj, "query_id");
    list.query.text = io::json_string(reader, obj, "query", true);
    if (list.query.text.empty()) reader.fail("query \"" + list.query.id + "\" has empty text");
    const auto [first, inserted] = query_lines.emplace(list.query.id, reader.line_number());
    if (!inserted)
      reader.fail("duplicate query_id \"" + list.query.id + "\" (first on line " +
                  std::to_string(first->second) + ")");
    const auto cands = obj.find("candidates");
    if (cands == obj.end()) reader.fail("missing \"candidates\"");
    if (!cands->is_array())
      reader.fail(std::string("\"candidates\" must be an array, not ") + cands->type_name());
    list.candidates.clear();
    list.candidates.reserve(cands->size());
    std::unordered_map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < cands->size(); ++i) {
      const auto& c = (*cands)[i];
      const std::string where = "candidate " + std::to_string(i + 1) + ": ";
      if (!c.is_object()) reader.fail(where + "expected a JSON object, found " + c.type_name());
      Candidate cand;
      cand.doc_id = io::json_id(reader, c, "id", where);
      cand.title = io::json_string(reader, c, "title", false, where);
      cand.text = io::json_string(reader, c, "text", true, where);
      const auto score = c.find("score");
      if (score != c.end() && !score->is_null()) {
        if (!score->is_number()) reader.fail(where + "\"score\" must be a number, not " + score->type_name());
        cand.score = score->get<double>();
      }
      const auto [it, fresh] = seen.emplace(cand.doc_id, i + 1);
      if (!fresh)
        reader.fail(where + "id \"" + cand.doc_id + "\" repeats candidate " + std::to_string(it->second));
      list.candidates.push_back(std::move(cand));
    }
    return true;
  }

  io::LineReader reader;
  std::unordered_map<std::string, std::size_t> query_lines;
};

CandidatesReader::CandidatesReader(const std::string& path) : impl_(std::make_unique<Impl>(path)) {}
CandidatesReader::~CandidatesReader() = default;
bool CandidatesReader::next(CandidateList& list) { return impl_->next(list); }

void write_candidates(std::ostream& out, const CandidateList& list) {
  nlohmann::ordered_json obj;
  obj["query_id"] = list.query.id;
  obj["query"] = list.query.text;
  auto& cands = obj["candidates"] = nlohmann::ordered_json::array();
  for (const auto& c : list.candidates)
    cands.push_back({{"id", c.doc_id}, {"title", c.title}, {"text", c.text}, {"score", c.score}});
  std::string line;
  try {
    line = obj.dump();
  } catch (const nlohmann::json::type_error&) {  // invalid UTF-8 in a field
    throw Error("query \"" + list.query.id + "\": cannot write candidates: text is not valid UTF-8");
  }
  out << line << '\n';
}

}  // namespace rerank
