// Writers for documents and queries (rerank/io_writers.h).
#include <nlohmann/json.hpp>
#include <ostream>

#include "io/sgml_blocks.h"
#include "rerank/error.h"
#include "rerank/io_writers.h"

namespace rerank {

namespace {

std::string dump_line(const nlohmann::ordered_json& obj, const std::string& what) {
  try {
    return obj.dump();
  } catch (const nlohmann::json::type_error&) {
    throw Error(what + ": cannot write JSON: text is not valid UTF-8");
  }
}

bool has_whitespace(const std::string& s) { return s.find_first_of(" \t\r\n\v\f") != std::string::npos; }

// TREC files separate fields by whitespace and tags, so ids must be single tokens and texts must not
// contain anything the reader would take for markup: any tag in a document (the document reader
// strips <NAME> and </NAME>), any "<" then a letter or "/" in a topic (where a field ends there).
void check_trec_fields(const std::string& kind, const std::string& id,
                       std::initializer_list<const std::string*> texts, bool (*is_markup)(std::string_view)) {
  if (id.empty() || has_whitespace(id) || id.find('<') != std::string::npos)
    throw Error(kind + " id \"" + id +
                "\" cannot be written in TREC format (empty, or has whitespace or '<')");
  for (const std::string* t : texts)
    if (is_markup(*t))
      throw Error(kind + " \"" + id +
                  "\" cannot be written in TREC format: its text contains markup-like \"<\"");
}

}  // namespace

void write_beir_document(std::ostream& out, const Document& doc) {
  nlohmann::ordered_json obj;
  obj["_id"] = doc.doc_id;
  obj["title"] = doc.title;
  obj["text"] = doc.text;
  out << dump_line(obj, "document \"" + doc.doc_id + "\"") << '\n';
}

void write_trec_document(std::ostream& out, const Document& doc) {
  check_trec_fields("document", doc.doc_id, {&doc.title, &doc.text}, io::has_tag);
  out << "<DOC>\n<DOCNO>" << doc.doc_id << "</DOCNO>\n";
  if (!doc.title.empty()) out << "<TITLE>" << doc.title << "</TITLE>\n";
  if (!doc.text.empty()) out << doc.text << '\n';
  out << "</DOC>\n";
}

void write_beir_query(std::ostream& out, const Query& query) {
  nlohmann::ordered_json obj;
  obj["_id"] = query.id;
  obj["text"] = query.text;
  out << dump_line(obj, "query \"" + query.id + "\"") << '\n';
}

void write_trec_topic(std::ostream& out, const Query& query) {
  check_trec_fields("query", query.id, {&query.text}, io::has_markup);
  out << "<top>\n<num> Number: " << query.id << "\n<title> " << query.text << "\n</top>\n\n";
}

void write_tsv_query(std::ostream& out, const Query& query) {
  if (query.id.empty() || query.id.find_first_of("\t\r\n") != std::string::npos)
    throw Error("query id \"" + query.id + "\" cannot be written to TSV (empty, or has a tab or line break)");
  std::string text = query.text;
  for (char& c : text)
    if (c == '\t' || c == '\r' || c == '\n') c = ' ';
  out << query.id << '\t' << text << '\n';
}

}  // namespace rerank
