// The filter chain after the tokenizer: possessive -> lowercase -> stop words -> Porter.
#include <unicode/uchar.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/analysis_internal.h"
#include "rerank/analyzer.h"

namespace rerank {
namespace {

// EnglishPossessiveFilter: a trailing 's, ’s or ＇s (either case of s) is removed.
void strip_possessive(std::u16string& t) {
  const std::size_t n = t.size();
  if (n < 2) return;
  const char16_t apostrophe = t[n - 2];
  const char16_t s = t[n - 1];
  if ((apostrophe == u'\'' || apostrophe == u'\u2019' || apostrophe == u'\uFF07') && (s == u's' || s == u'S'))
    t.resize(n - 2);
}

// LowerCaseFilter: Character.toLowerCase on every code point (simple case mapping).
void lowercase(std::u16string& t) {
  std::u16string out;
  out.reserve(t.size());
  for (std::size_t i = 0; i < t.size();) {
    UChar32 c;
    U16_NEXT(t.data(), i, t.size(), c);
    c = u_tolower(c);
    if (c <= 0xFFFF) {
      out.push_back(static_cast<char16_t>(c));
    } else {
      out.push_back(static_cast<char16_t>(U16_LEAD(c)));
      out.push_back(static_cast<char16_t>(U16_TRAIL(c)));
    }
  }
  t.swap(out);
}

bool is_stop_word_utf16(const std::u16string& t) {
  if (t.size() > 5) return false;  // the longest stop words ("their", "there", "these") have 5 letters
  static const std::vector<std::u16string> words = [] {
    std::vector<std::u16string> w;
    for (const auto& s : english_stop_words()) w.emplace_back(s.begin(), s.end());
    return w;
  }();
  return std::find(words.begin(), words.end(), t) != words.end();
}

}  // namespace

const std::vector<std::string>& english_stop_words() {
  static const std::vector<std::string> words = {
      "a",   "an",    "and",  "are",   "as",    "at",   "be",   "but", "by",  "for",  "if",
      "in",  "into",  "is",   "it",    "no",    "not",  "of",   "on",  "or",  "such", "that",
      "the", "their", "then", "there", "these", "they", "this", "to",  "was", "will", "with"};
  return words;
}

bool is_english_stop_word(std::string_view w) {
  const auto& words = english_stop_words();
  return std::find(words.begin(), words.end(), w) != words.end();
}

std::string porter_stem(std::string_view word) {
  std::u16string w;
  w.reserve(word.size());
  for (std::size_t i = 0; i < word.size();) {
    UChar32 c;
    U8_NEXT(reinterpret_cast<const uint8_t*>(word.data()), i, word.size(), c);
    if (c < 0) c = 0xFFFD;
    if (c <= 0xFFFF) {
      w.push_back(static_cast<char16_t>(c));
    } else {
      w.push_back(static_cast<char16_t>(U16_LEAD(c)));
      w.push_back(static_cast<char16_t>(U16_TRAIL(c)));
    }
  }
  analysis::porter_stem_utf16(w);
  return analysis::to_utf8(w);
}

namespace analysis {

std::size_t next_piece_end(std::string_view text, std::size_t begin, std::size_t piece_bytes) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  const auto is_alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (text.size() - begin <= piece_bytes) return text.size();
  for (std::size_t i = std::max<std::size_t>(begin + piece_bytes, 1); i < text.size(); ++i)
    if (is_alnum(text[i]) && is_space(text[i - 1])) return i;
  return text.size();
}

void for_each_english_term(std::string_view text, std::size_t piece_bytes,
                           const std::function<void(std::string&&)>& visit) {
  thread_local std::vector<std::u16string> tokens;
  for (std::size_t begin = 0; begin < text.size();) {
    const std::size_t end = next_piece_end(text, begin, piece_bytes);
    tokens.clear();
    tokenize_utf16(text.substr(begin, end - begin), tokens);
    for (auto& t : tokens) {
      strip_possessive(t);
      lowercase(t);
      if (t.empty() || is_stop_word_utf16(t)) continue;
      porter_stem_utf16(t);
      visit(to_utf8(t));
    }
    begin = end;
  }
}

}  // namespace analysis

std::vector<std::string> analyze_english(std::string_view text) {
  std::vector<std::string> out;
  analysis::for_each_english_term(text, analysis::kAnalysisPieceBytes,
                                  [&](std::string&& term) { out.push_back(std::move(term)); });
  return out;
}

std::vector<std::pair<std::string, std::uint32_t>> english_term_counts(std::string_view text) {
  std::unordered_map<std::string, std::uint32_t> counts;
  analysis::for_each_english_term(text, analysis::kAnalysisPieceBytes, [&](std::string&& term) {
    std::uint32_t& n = counts[std::move(term)];
    if (n < UINT32_MAX) ++n;
  });
  std::vector<std::pair<std::string, std::uint32_t>> out(std::make_move_iterator(counts.begin()),
                                                         std::make_move_iterator(counts.end()));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace rerank
