// Documents: BEIR corpus.jsonl ({"_id","title","text"}) or TREC <DOC><DOCNO>id</DOCNO> .. </DOC>,
// streamed one document at a time.
#include <optional>

#include "io/fields.h"
#include "io/json_line.h"
#include "io/line_reader.h"
#include "io/sgml_blocks.h"
#include "rerank/error.h"
#include "rerank/io.h"

namespace rerank {

namespace {
constexpr std::size_t kMaxTrecDocBytes = std::size_t{64} << 20;
enum class CorpusFormat { kUnknown, kJsonl, kTrec };
}  // namespace

struct CorpusReader::Impl {
  explicit Impl(const std::string& path)
      : reader(path), blocks(reader, "<DOC>", "</DOC>", kMaxTrecDocBytes) {}

  // Next document and the line it starts on.
  bool next(Document& doc, std::size_t& line_no) {
    std::string_view line;
    if (format == CorpusFormat::kUnknown) {
      for (;;) {
        if (!reader.next(line)) return false;
        const std::string_view t = io::trim(line);
        if (t.empty()) continue;
        if (t.front() == '{') {
          format = CorpusFormat::kJsonl;
          return parse_json(line, doc, line_no);
        }
        if (io::starts_with_nocase(t, "<DOC>")) {
          format = CorpusFormat::kTrec;
          reader.require_utf8(line);
          blocks.push_back(line);
          break;
        }
        reader.require_utf8(line);
        reader.fail("expected a BEIR corpus line ({\"_id\": ..}) or a TREC <DOC>, found \"" +
                    std::string(t.substr(0, 40)) + "\"");
      }
    }
    if (format == CorpusFormat::kJsonl) {
      while (reader.next(line))
        if (!io::trim(line).empty()) return parse_json(line, doc, line_no);
      return false;
    }
    if (!blocks.next(body)) return false;
    line_no = blocks.block_line();
    parse_trec(doc, line_no);
    return true;
  }

  bool parse_json(std::string_view line, Document& doc, std::size_t& line_no) {
    const auto obj = io::parse_json_object(reader, line);
    doc.doc_id = io::json_id(reader, obj, "_id");
    doc.title = io::json_string(reader, obj, "title", false);
    doc.text = io::json_string(reader, obj, "text", true);
    line_no = reader.line_number();
    return true;
  }

  void parse_trec(Document& doc, std::size_t line_no) {
    const auto docno = io::take_element(body, "DOCNO");
    if (!docno) throw InputError(reader.path(), line_no, "<DOC> has no <DOCNO>..</DOCNO>");
    doc.doc_id = io::collapse_whitespace(*docno);
    if (doc.doc_id.empty()) throw InputError(reader.path(), line_no, "<DOCNO> is empty");
    if (doc.doc_id.find(' ') != std::string::npos)
      throw InputError(reader.path(), line_no, "<DOCNO> \"" + doc.doc_id + "\" is not a single token");
    if (io::find_nocase(body, "<DOCNO>") != std::string::npos)
      throw InputError(reader.path(), line_no, "document \"" + doc.doc_id + "\" has a second <DOCNO>");
    const auto title = io::take_element(body, "TITLE");
    doc.title = title ? io::collapse_whitespace(io::strip_tags(*title)) : std::string();
    doc.text = io::collapse_whitespace(io::strip_tags(body));
  }

  io::LineReader reader;
  io::SgmlBlockReader blocks;
  CorpusFormat format = CorpusFormat::kUnknown;
  std::string body;
};

CorpusReader::CorpusReader(const std::string& path) : impl_(std::make_unique<Impl>(path)) {}
CorpusReader::~CorpusReader() = default;

bool CorpusReader::next(Document& doc) {
  std::size_t line = 0;
  return impl_->next(doc, line);
}
const std::string& CorpusReader::path() const { return impl_->reader.path(); }
std::uint64_t CorpusReader::bytes_read() const { return impl_->reader.bytes_read(); }
std::uint64_t CorpusReader::bytes_total() const { return impl_->reader.bytes_total(); }

std::unordered_map<std::string, Document> read_documents(const std::string& path,
                                                         const std::unordered_set<std::string>& wanted) {
  CorpusReader::Impl reader(path);
  std::unordered_map<std::string, Document> found;
  std::unordered_map<std::string, std::size_t> first_line;
  Document doc;
  std::size_t line = 0;
  while (reader.next(doc, line)) {
    if (!wanted.count(doc.doc_id)) continue;
    const auto [it, inserted] = first_line.emplace(doc.doc_id, line);
    if (!inserted)
      throw InputError(
          path, line,
          "duplicate document id \"" + doc.doc_id + "\" (first on line " + std::to_string(it->second) + ")");
    std::string id = doc.doc_id;
    found.emplace(std::move(id), std::move(doc));
    doc = Document();
  }
  return found;
}

}  // namespace rerank
