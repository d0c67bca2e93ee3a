// Relevance judgements: TREC "qid iter docid rel" and BEIR "query-id<TAB>corpus-id<TAB>score" (with
// header). The format is recognised from the first non-blank line.
#include <algorithm>
#include <ostream>

#include "io/fields.h"
#include "io/line_reader.h"
#include "rerank/error.h"
#include "rerank/io.h"

namespace rerank {

namespace {

enum class QrelsFormat { kUnknown, kTrec, kBeir };

bool is_beir_header(const std::string_view* f, std::size_t n) {
  return n == 3 && f[0] == "query-id" && f[1] == "corpus-id" && f[2] == "score";
}

void add_judgement(io::LineReader& reader, Qrels& qrels, std::string_view qid, std::string_view docid,
                   std::string_view grade_text) {
  const auto grade = io::parse_int(grade_text);
  if (!grade || *grade < INT32_MIN || *grade > INT32_MAX)
    reader.fail("relevance \"" + std::string(grade_text) + "\" is not an integer");
  auto& docs = qrels[std::string(qid)];
  const auto [it, inserted] = docs.emplace(std::string(docid), static_cast<int>(*grade));
  // Repeating a judgement is harmless; contradicting one is an error the user must resolve.
  if (!inserted && it->second != *grade)
    reader.fail("conflicting judgements for query \"" + std::string(qid) + "\", document \"" +
                std::string(docid) + "\": " + std::to_string(it->second) + " and " + std::to_string(*grade));
}

std::vector<std::pair<std::string, int>> sorted_docs(const std::unordered_map<std::string, int>& docs) {
  std::vector<std::pair<std::string, int>> v(docs.begin(), docs.end());
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

Qrels read_qrels(const std::string& path) {
  io::LineReader reader(path);
  Qrels qrels;
  QrelsFormat format = QrelsFormat::kUnknown;
  std::string_view line;
  std::string_view f[5];
  while (reader.next(line)) {
    if (io::trim(line).empty()) continue;
    reader.require_utf8(line);
    if (format == QrelsFormat::kUnknown) {
      const std::size_t n = io::split_whitespace(line, f, 5);
      if (is_beir_header(f, n)) {
        format = QrelsFormat::kBeir;
        continue;
      }
      if (n == 4)
        format = QrelsFormat::kTrec;
      else if (n == 3)
        format = QrelsFormat::kBeir;  // BEIR rows without the header line
      else
        reader.fail(
            "expected TREC qrels \"qid iter docid rel\" or BEIR qrels \"query-id<TAB>corpus-id<TAB>score\", "
            "found " +
            std::to_string(n) + " columns");
    }
    if (format == QrelsFormat::kTrec) {
      const std::size_t n = io::split_whitespace(line, f, 5);
      if (n != 4) reader.fail("expected 4 columns \"qid iter docid rel\", found " + std::to_string(n));
      add_judgement(reader, qrels, f[0], f[2], f[3]);
    } else {
      const bool tabs = line.find('\t') != std::string_view::npos;
      const std::size_t n = tabs ? io::split_tabs(line, f, 5) : io::split_whitespace(line, f, 5);
      if (n != 3)
        reader.fail("expected 3 tab-separated columns \"query-id corpus-id score\", found " +
                    std::to_string(n));
      const std::string_view qid = io::trim(f[0]), docid = io::trim(f[1]);
      if (qid.empty()) reader.fail("empty query-id");
      if (docid.empty()) reader.fail("empty corpus-id");
      add_judgement(reader, qrels, qid, docid, io::trim(f[2]));
    }
  }
  return qrels;
}

void write_trec_qrels(std::ostream& out, const Qrels& qrels) {
  for (const auto& [qid, docs] : qrels)
    for (const auto& [docid, grade] : sorted_docs(docs)) out << qid << " 0 " << docid << ' ' << grade << '\n';
}

void write_beir_qrels(std::ostream& out, const Qrels& qrels) {
  out << "query-id\tcorpus-id\tscore\n";
  for (const auto& [qid, docs] : qrels)
    for (const auto& [docid, grade] : sorted_docs(docs)) out << qid << '\t' << docid << '\t' << grade << '\n';
}

}  // namespace rerank
