// TREC's SGML-like files (documents in <DOC>..</DOC>, topics in <top>..</top>): finding the blocks
// and the tagged fields inside them. Tags are matched case-insensitively and may share lines with
// text or with other blocks ("<DOC><DOCNO>1</DOCNO> text </DOC>" on one line is fine).
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "io/line_reader.h"

namespace rerank::io {

class SgmlBlockReader {
 public:
  // open/close are the block tags, e.g. "<DOC>" and "</DOC>". A block larger than max_block bytes is
  // reported (almost always a missing close tag) instead of reading the rest of the file into memory.
  SgmlBlockReader(LineReader& reader, std::string open, std::string close, std::size_t max_block);

  // Text to parse before the next line of the file (the line a caller read to detect the format).
  // Checked as every line read is: the first line, read by the caller to recognise the format,
  // escaped the UTF-8 check (found by fuzz_queries).
  void push_back(std::string_view text) {
    reader_.require_utf8(text);
    rest_.assign(text);
  }

  // The next block's content between the tags (lines joined with '\n'), or false at the end.
  bool next(std::string& body);
  // Line on which the last block returned opened.
  std::size_t block_line() const { return block_line_; }

 private:
  bool fill_rest();

  LineReader& reader_;
  std::string open_, close_;
  std::size_t max_block_;
  std::string rest_;  // unparsed part of the current line
  std::size_t block_line_ = 0;
};

// Position of `needle` in `haystack` ignoring ASCII case, or npos.
std::size_t find_nocase(std::string_view haystack, std::string_view needle, std::size_t from = 0);
bool starts_with_nocase(std::string_view text, std::string_view prefix);

// The text after <name> up to the next tag ("<" followed by a letter or "/"), or nullopt without <name>.
// `name` is given without brackets, e.g. "DOCNO".
std::optional<std::string> tagged_field(std::string_view body, std::string_view name);
// Removes <name>...</name> (the whole element) from `body`, returning its content, or nullopt.
std::optional<std::string> take_element(std::string& body, std::string_view name);
// Replaces every remaining <TAG> or </TAG> (letters, digits, '_' and '-' in the name) by a space.
std::string strip_tags(std::string_view text);
// Whitespace runs (including newlines) become one space; no leading or trailing space.
std::string collapse_whitespace(std::string_view text);
// True when `text` holds '<' followed by a letter or '/', where the topics reader ends a field.
bool has_markup(std::string_view text);
// True when `text` holds a tag that strip_tags would remove (<NAME> or </NAME>), which the TREC
// document reader would not read back as text.
bool has_tag(std::string_view text);

}  // namespace rerank::io
