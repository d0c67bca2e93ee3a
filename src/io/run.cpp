// Run files: TREC's "qid Q0 docid rank score tag", BEIR-style "query-id<TAB>corpus-id<TAB>score"
// (header optional) and BEIR's JSON results object (run_beir.cpp). The TREC rank column is checked to
// be an integer but otherwise ignored; each query's list keeps the file's order.
#include <ostream>
#include <unordered_map>

#include "io/fields.h"
#include "io/line_reader.h"
#include "io/run_formats.h"
#include "rerank/atomic_file.h"
#include "rerank/error.h"
#include "rerank/io.h"

namespace rerank {

namespace {

struct QueryLines {
  std::vector<ScoredDoc>* docs = nullptr;
  std::vector<std::size_t> lines;  // file line of each entry, for duplicate reports
};

// A document listed twice for a query makes trec_eval refuse the run, so it is an input error here.
// Reports the duplicate that occurs earliest in the file.
void check_duplicates(const std::string& path, const std::unordered_map<std::string, QueryLines>& queries) {
  std::size_t worst_line = 0, first_line = 0;
  std::string message;
  std::unordered_map<std::string_view, std::size_t> seen;
  for (const auto& [qid, q] : queries) {
    seen.clear();
    seen.reserve(q.docs->size());
    for (std::size_t i = 0; i < q.docs->size(); ++i) {
      const auto [it, inserted] = seen.emplace((*q.docs)[i].doc_id, q.lines[i]);
      if (!inserted && (worst_line == 0 || q.lines[i] < worst_line)) {
        worst_line = q.lines[i];
        first_line = it->second;
        message = "document \"" + (*q.docs)[i].doc_id + "\" appears twice for query \"" + qid + "\"";
      }
    }
  }
  if (worst_line)
    throw InputError(path, worst_line, message + " (first on line " + std::to_string(first_line) + ")");
}

bool has_space(std::string_view s) {
  for (char c : s)
    if (io::is_space(c) || c == '\n') return true;
  return false;
}

void check_field(const std::string& value, const char* what) {
  if (value.empty() || has_space(value))
    throw Error(std::string(what) + " \"" + value +
                "\" cannot be written to a TREC run (empty or contains whitespace)");
}

}  // namespace

Run read_run(const std::string& path) {
  if (io::looks_like_json_run(path)) return io::read_json_run(path);
  io::LineReader reader(path);
  std::size_t columns = 0;  // 6 (TREC) or 3 (BEIR TSV), fixed by the first data line
  Run run;
  bool tag_set = false;
  std::unordered_map<std::string, QueryLines> queries;
  QueryLines* current = nullptr;
  std::string current_qid;
  std::string_view line;
  std::string_view f[7];
  while (reader.next(line)) {
    const std::size_t n = io::split_whitespace(line, f, 7);
    if (n == 0) continue;
    reader.require_utf8(line);
    if (columns == 0) {
      if (n == 3 && f[0] == "query-id" && f[1] == "corpus-id" && f[2] == "score") {
        columns = 3;
        continue;
      }
      columns = n == 3 ? 3 : 6;
    }
    if (n != columns)
      reader.fail(columns == 6
                      ? "expected 6 columns \"qid Q0 docid rank score tag\", found " + std::to_string(n)
                      : "expected 3 columns \"query-id corpus-id score\", found " + std::to_string(n));
    std::string_view score_text = f[2];
    if (columns == 6) {
      if (!io::parse_int(f[3])) reader.fail("rank \"" + std::string(f[3]) + "\" is not an integer");
      score_text = f[4];
    }
    const auto score = io::parse_double(score_text);
    if (!score) reader.fail("score \"" + std::string(score_text) + "\" is not a number");
    const std::string_view docid = columns == 6 ? f[2] : f[1];
    if (!current || f[0] != current_qid) {  // runs list a query's documents together: one lookup per query
      current_qid.assign(f[0]);
      current = &queries[current_qid];
      if (!current->docs) current->docs = &run.by_query[current_qid];
    }
    current->docs->push_back(ScoredDoc{std::string(docid), *score});
    current->lines.push_back(reader.line_number());
    if (columns == 6 && !tag_set) {
      run.tag.assign(f[5]);
      tag_set = true;
    }
  }
  check_duplicates(path, queries);
  return run;
}

namespace {

template <typename Sink>
void format_run(const Run& run, Sink&& sink) {
  check_field(run.tag, "run tag");
  std::string buf;
  buf.reserve(1 << 16);
  char num[64];
  for (const auto& [qid, docs] : run.by_query) {
    check_field(qid, "query id");
    for (std::size_t i = 0; i < docs.size(); ++i) {
      check_field(docs[i].doc_id, "document id");
      buf.append(qid).append(" Q0 ").append(docs[i].doc_id).push_back(' ');
      buf.append(std::to_string(i + 1)).push_back(' ');
      buf.append(num, io::format_double(docs[i].score, num, sizeof num)).push_back(' ');
      buf.append(run.tag).push_back('\n');
      if (buf.size() >= (1 << 16) - 512) {
        sink(buf);
        buf.clear();
      }
    }
  }
  if (!buf.empty()) sink(buf);
}

}  // namespace

void write_run(std::ostream& out, const Run& run) {
  format_run(run, [&](const std::string& chunk) {
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  });
}

void write_run(const std::string& path, const Run& run) {
  io::AtomicFile file(path);
  format_run(run, [&](const std::string& chunk) { file.write(chunk); });
  file.commit();
}

}  // namespace rerank
