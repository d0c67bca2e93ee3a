// Text analysis identical to Anserini's default English analyzer (DefaultEnglishAnalyzer):
// Lucene StandardTokenizer -> EnglishPossessiveFilter -> LowerCaseFilter -> StopFilter(Lucene's
// English stop set) -> PorterStemFilter. Index terms and query terms both go through it, so a
// change here changes every score: docs/first-stage.md describes what is matched and what is not.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rerank {

// Lucene's StandardTokenizer: Unicode (UAX#29) word segmentation; each Han ideograph and each
// Hiragana character is its own token, runs of Thai/Lao/Khmer/Myanmar (complex context) and of
// Katakana are one token each, punctuation-only segments are dropped, and tokens longer than 255
// UTF-16 units are chopped into pieces of 255. Input must be valid UTF-8; tokens are UTF-8.
std::vector<std::string> standard_tokenize(std::string_view text);

// Lucene's PorterStemmer (the reference C implementation of Porter's algorithm, including its
// departures from the 1980 paper: BLI->BLE, LOGI->LOG). Words of fewer than three UTF-16 units are
// returned unchanged. Input and output are UTF-8; non-ASCII characters count as consonants.
std::string porter_stem(std::string_view word);

// Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET (33 words).
bool is_english_stop_word(std::string_view lowercase_word);
const std::vector<std::string>& english_stop_words();

// The full chain. Thread-safe (each thread gets its own ICU break iterator). Long texts are analysed
// in pieces cut where the tokens cannot change, so memory beyond the result stays bounded.
std::vector<std::string> analyze_english(std::string_view text);

// The chain's distinct terms with their frequencies, sorted by term: what indexing and query
// weighting need, in memory proportional to the distinct terms rather than the text's length.
std::vector<std::pair<std::string, std::uint32_t>> english_term_counts(std::string_view text);

// Name recorded in an index so a searcher never mixes analyzers.
inline constexpr const char* kEnglishAnalyzerName = "lucene-english-porter/1";

}  // namespace rerank
