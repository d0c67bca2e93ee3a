// Queries: BEIR queries.jsonl ({"_id","text"}), TREC topics (<top><num><title>..</top>, the title
// is the query) or "qid<TAB>text" lines. The format is recognised from the first non-blank line.
#include <unordered_map>

#include "io/fields.h"
#include "io/json_line.h"
#include "io/line_reader.h"
#include "io/sgml_blocks.h"
#include "rerank/error.h"
#include "rerank/io.h"

namespace rerank {

namespace {

constexpr std::size_t kMaxTopicBytes = std::size_t{1} << 20;

class QueryList {
 public:
  explicit QueryList(const std::string& path) : path_(path) {}

  void add(Query q, std::size_t line) {
    if (q.text.empty()) throw InputError(path_, line, "query \"" + q.id + "\" has empty text");
    const auto [it, inserted] = first_line_.emplace(q.id, line);
    if (!inserted)
      throw InputError(
          path_, line,
          "duplicate query id \"" + q.id + "\" (first on line " + std::to_string(it->second) + ")");
    queries_.push_back(std::move(q));
  }
  std::vector<Query> take() { return std::move(queries_); }

 private:
  const std::string& path_;
  std::vector<Query> queries_;
  std::unordered_map<std::string, std::size_t> first_line_;
};

void read_jsonl(io::LineReader& reader, std::string_view line, QueryList& out) {
  do {
    if (io::trim(line).empty()) continue;
    const auto obj = io::parse_json_object(reader, line);
    Query q;
    q.id = io::json_id(reader, obj, "_id");
    q.text = io::json_string(reader, obj, "text", true);
    out.add(std::move(q), reader.line_number());
  } while (reader.next(line));
}

void read_tsv(io::LineReader& reader, std::string_view line, QueryList& out) {
  do {
    if (io::trim(line).empty()) continue;
    reader.require_utf8(line);
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos) reader.fail("expected \"qid<TAB>text\", found no tab");
    Query q;
    q.id.assign(io::trim(line.substr(0, tab)));
    if (q.id.empty()) reader.fail("empty query id");
    q.text.assign(io::trim(line.substr(tab + 1)));
    out.add(std::move(q), reader.line_number());
  } while (reader.next(line));
}

// Strips a label such as "Number:" or "Topic:" that classic TREC topics put before the value.
std::string without_label(std::string value, std::string_view label) {
  const std::string_view t = io::trim(value);
  if (io::starts_with_nocase(t, label)) return io::collapse_whitespace(t.substr(label.size()));
  return io::collapse_whitespace(t);
}

void read_topics(io::LineReader& reader, std::string_view line, QueryList& out) {
  io::SgmlBlockReader blocks(reader, "<top>", "</top>", kMaxTopicBytes);
  blocks.push_back(line);
  std::string body;
  while (blocks.next(body)) {
    const std::size_t at = blocks.block_line();
    const auto num = io::tagged_field(body, "num");
    if (!num) throw InputError(reader.path(), at, "<top> has no <num>");
    Query q;
    q.id = without_label(*num, "Number:");
    if (q.id.empty()) throw InputError(reader.path(), at, "<num> is empty");
    if (q.id.find(' ') != std::string::npos)
      throw InputError(reader.path(), at, "<num> \"" + q.id + "\" is not a single token");
    const auto title = io::tagged_field(body, "title");
    if (!title) throw InputError(reader.path(), at, "topic \"" + q.id + "\" has no <title>");
    q.text = without_label(*title, "Topic:");
    out.add(std::move(q), at);
  }
}

}  // namespace

std::vector<Query> read_queries(const std::string& path) {
  io::LineReader reader(path);
  QueryList queries(path);
  std::string_view line;
  while (reader.next(line)) {
    const std::string_view t = io::trim(line);
    if (t.empty()) continue;
    if (t.front() == '{')
      read_jsonl(reader, line, queries);
    else if (io::starts_with_nocase(t, "<top>"))
      read_topics(reader, line, queries);
    else
      read_tsv(reader, line, queries);
    break;
  }
  return queries.take();
}

}  // namespace rerank
