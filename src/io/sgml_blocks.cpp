#include "io/sgml_blocks.h"

#include <cctype>

#include "io/fields.h"
#include "rerank/error.h"

namespace rerank::io {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_tag_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

// Built with append: GCC 12 at -O3 warns falsely (-Wrestrict) about "<" + std::string(..) + ">".
std::string make_tag(std::string_view name, bool closing) {
  std::string tag;
  tag.reserve(name.size() + 3);
  tag.push_back('<');
  if (closing) tag.push_back('/');
  tag.append(name);
  tag.push_back('>');
  return tag;
}

std::string snippet(std::string_view text) {
  text = trim(text);
  return std::string(text.substr(0, 40)) + (text.size() > 40 ? "..." : "");
}

}  // namespace

std::size_t find_nocase(std::string_view haystack, std::string_view needle, std::size_t from) {
  if (needle.empty()) return from <= haystack.size() ? from : std::string_view::npos;
  const char first_lo = lower(needle[0]);
  const char first_up = static_cast<char>(std::toupper(static_cast<unsigned char>(needle[0])));
  for (std::size_t i = from; i + needle.size() <= haystack.size(); ++i) {
    if (haystack[i] != first_lo && haystack[i] != first_up) continue;
    std::size_t k = 1;
    while (k < needle.size() && lower(haystack[i + k]) == lower(needle[k])) ++k;
    if (k == needle.size()) return i;
  }
  return std::string_view::npos;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && find_nocase(text.substr(0, prefix.size()), prefix) == 0;
}

SgmlBlockReader::SgmlBlockReader(LineReader& reader, std::string open, std::string close,
                                 std::size_t max_block)
    : reader_(reader), open_(std::move(open)), close_(std::move(close)), max_block_(max_block) {}

bool SgmlBlockReader::fill_rest() {
  std::string_view line;
  if (!reader_.next(line)) return false;
  reader_.require_utf8(line);
  rest_.assign(line);
  return true;
}

bool SgmlBlockReader::next(std::string& body) {
  body.clear();
  // Outside a block only blank space may appear.
  for (;;) {
    const std::string_view t = trim(rest_);
    if (!t.empty()) {
      if (!starts_with_nocase(t, open_)) reader_.fail("expected " + open_ + ", found \"" + snippet(t) + "\"");
      rest_.erase(0, static_cast<std::size_t>(t.data() - rest_.data()) + open_.size());
      break;
    }
    if (!fill_rest()) return false;
  }
  block_line_ = reader_.line_number();
  for (;;) {
    const std::size_t close = find_nocase(rest_, close_);
    const std::size_t reopen = find_nocase(rest_, open_);
    if (reopen != std::string::npos && (close == std::string::npos || reopen < close))
      reader_.fail(open_ + " opened on line " + std::to_string(block_line_) + " is not closed by " + close_ +
                   " before the next " + open_);
    if (close != std::string::npos) {
      body.append(rest_, 0, close);
      rest_.erase(0, close + close_.size());
      return true;
    }
    body.append(rest_).push_back('\n');
    if (body.size() > max_block_)
      throw InputError(
          reader_.path(), block_line_,
          open_ + " is not closed by " + close_ + " within " + std::to_string(max_block_) + " bytes");
    if (!fill_rest()) throw InputError(reader_.path(), block_line_, open_ + " is never closed by " + close_);
  }
}

std::optional<std::string> tagged_field(std::string_view body, std::string_view name) {
  const std::string open = make_tag(name, false);
  const std::size_t at = find_nocase(body, open);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t end = at + open.size();
  const std::size_t start = end;
  for (; end < body.size(); ++end)
    if (body[end] == '<' && end + 1 < body.size() && (is_alpha(body[end + 1]) || body[end + 1] == '/')) break;
  return std::string(body.substr(start, end - start));
}

std::optional<std::string> take_element(std::string& body, std::string_view name) {
  const std::string open = make_tag(name, false), close = make_tag(name, true);
  const std::size_t at = find_nocase(body, open);
  if (at == std::string::npos) return std::nullopt;
  const std::size_t content = at + open.size();
  const std::size_t end = find_nocase(body, close, content);
  if (end == std::string::npos) return std::nullopt;
  std::string value = body.substr(content, end - content);
  body.erase(at, end + close.size() - at);
  body.insert(at, 1, ' ');
  return value;
}

std::string strip_tags(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<') {
      std::size_t j = i + 1;
      if (j < text.size() && text[j] == '/') ++j;
      const std::size_t name = j;
      while (j < text.size() && is_tag_char(text[j])) ++j;
      if (j > name && j < text.size() && text[j] == '>' && is_alpha(text[name])) {
        out.push_back(' ');
        i = j;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (is_space(c) || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

bool has_tag(std::string_view text) {
  return text.find('<') != std::string_view::npos && strip_tags(text) != text;
}

bool has_markup(std::string_view text) {
  for (std::size_t i = 0; i + 1 < text.size(); ++i)
    if (text[i] == '<' && (is_alpha(text[i + 1]) || text[i + 1] == '/')) return true;
  return false;
}

}  // namespace rerank::io
