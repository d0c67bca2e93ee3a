// UTF-16 building blocks of the analyzer. Lucene works on Java chars (UTF-16 units), and its
// length rules (max token length, the stemmer's minimum length) count those units, so the chain
// runs in UTF-16 and converts to UTF-8 only at the end.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace rerank::analysis {

// StandardTokenizer over UTF-8 text, tokens in UTF-16.
void tokenize_utf16(std::string_view utf8, std::vector<std::u16string>& tokens);

// Lucene's PorterStemmer on a lowercase UTF-16 word, in place.
void porter_stem_utf16(std::u16string& word);

std::string to_utf8(const std::u16string& s);

}  // namespace rerank::analysis
