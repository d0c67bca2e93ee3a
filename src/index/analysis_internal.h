// UTF-16 building blocks of the analyzer. Lucene works on Java chars (UTF-16 units), and its
// length rules (max token length, the stemmer's minimum length) count those units, so the chain
// runs in UTF-16 and converts to UTF-8 only at the end.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rerank::analysis {

// StandardTokenizer over UTF-8 text, tokens in UTF-16.
void tokenize_utf16(std::string_view utf8, std::vector<std::u16string>& tokens);

// Lucene's PorterStemmer on a lowercase UTF-16 word, in place.
void porter_stem_utf16(std::u16string& word);

std::string to_utf8(const std::u16string& s);

// Where a text may be cut without changing its tokens: after ASCII whitespace and before an ASCII
// letter or digit, a word boundary under every UAX#29 rule (none looks across that pair). Returns
// the first such cut at or after begin + piece_bytes, or text.size() when there is none.
std::size_t next_piece_end(std::string_view text, std::size_t begin, std::size_t piece_bytes);

// analyze_english over pieces of about piece_bytes (see next_piece_end), calling visit(term) for each
// term in order; memory is bounded by one piece's tokens, not the whole text's.
inline constexpr std::size_t kAnalysisPieceBytes = std::size_t{1} << 16;
void for_each_english_term(std::string_view text, std::size_t piece_bytes,
                           const std::function<void(std::string&&)>& visit);

}  // namespace rerank::analysis
