// The analyzer must produce Lucene's terms exactly; expected outputs are what Lucene 9's
// StandardTokenizer / EnglishAnalyzer chain gives for these inputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "index/analysis_internal.h"
#include "rerank/analyzer.h"

using rerank::analyze_english;
using rerank::porter_stem;
using rerank::standard_tokenize;
using testing::ElementsAre;
using testing::IsEmpty;

TEST(StandardTokenizer, HyphensSplitWords) {
  EXPECT_THAT(standard_tokenize("state-of-the-art wi-fi"),
              ElementsAre("state", "of", "the", "art", "wi", "fi"));
}

TEST(StandardTokenizer, ApostrophesStayInsideWords) {
  EXPECT_THAT(standard_tokenize("don't O'Neil's 'quoted'"), ElementsAre("don't", "O'Neil's", "quoted"));
}

TEST(StandardTokenizer, NumbersWithDotsAndCommasStayWhole) {
  EXPECT_THAT(standard_tokenize("pi is 3.14, 1,000.5 items, version 2.0.1."),
              ElementsAre("pi", "is", "3.14", "1,000.5", "items", "version", "2.0.1"));
}

TEST(StandardTokenizer, AbbreviationsKeepInnerDots) {
  EXPECT_THAT(standard_tokenize("the U.S.A. and e.g. this"),
              ElementsAre("the", "U.S.A", "and", "e.g", "this"));
}

TEST(StandardTokenizer, EmailAndUrlSplitAtPunctuation) {
  EXPECT_THAT(standard_tokenize("mail john.smith@example.com now"),
              ElementsAre("mail", "john.smith", "example.com", "now"));
  EXPECT_THAT(standard_tokenize("see http://www.example.com/a_b?q=1"),
              ElementsAre("see", "http", "www.example.com", "a_b", "q", "1"));
}

TEST(StandardTokenizer, PunctuationAndSymbolsAreDropped) {
  EXPECT_THAT(standard_tokenize("C++ costs $100 -- ___ !"), ElementsAre("C", "costs", "100"));
  EXPECT_THAT(standard_tokenize("  ... ??? "), IsEmpty());
}

TEST(StandardTokenizer, NonLatinAlphabets) {
  EXPECT_THAT(standard_tokenize("Привет, мир! Γειά σου"), ElementsAre("Привет", "мир", "Γειά", "σου"));
  EXPECT_THAT(standard_tokenize("café naïve ÜBER"), ElementsAre("café", "naïve", "ÜBER"));
  EXPECT_THAT(standard_tokenize("한국어 텍스트"), ElementsAre("한국어", "텍스트"));
}

TEST(StandardTokenizer, EachIdeographAndHiraganaIsAToken) {
  // ICU would segment these with a dictionary ("中华人民共和国" as one word); Lucene does not.
  EXPECT_THAT(standard_tokenize("中华人民"), ElementsAre("中", "华", "人", "民"));
  EXPECT_THAT(standard_tokenize("ひらがな"), ElementsAre("ひ", "ら", "が", "な"));
}

TEST(StandardTokenizer, KatakanaRunIsOneToken) {
  EXPECT_THAT(standard_tokenize("カタカナ漢字"), ElementsAre("カタカナ", "漢", "字"));
}

TEST(StandardTokenizer, ThaiRunIsOneToken) {
  EXPECT_THAT(standard_tokenize("abc สวัสดีครับ"), ElementsAre("abc", "สวัสดีครับ"));
}

TEST(StandardTokenizer, LongTokensAreChoppedAt255) {
  const std::string word(600, 'a');
  const auto tokens = standard_tokenize(word);
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0].size(), 255u);
  EXPECT_EQ(tokens[1].size(), 255u);
  EXPECT_EQ(tokens[2].size(), 90u);
}

TEST(EnglishAnalyzer, PossessiveLowercaseStopwordsAndStemming) {
  EXPECT_THAT(analyze_english("The Dog's BONES are in John’s houses"),
              ElementsAre("dog", "bone", "john", "hous"));
}

TEST(EnglishAnalyzer, StopWordsAreLucenesEnglishSet) {
  EXPECT_EQ(rerank::english_stop_words().size(), 33u);
  EXPECT_THAT(
      analyze_english("a an and are as at be but by for if in into is it no not of on or such that the "
                      "their then there these they this to was will with"),
      IsEmpty());
  // Words Lucene's list does not have are kept (other lists drop them).
  EXPECT_THAT(analyze_english("he she which"), ElementsAre("he", "she", "which"));
}

TEST(EnglishAnalyzer, PossessiveIsStrippedBeforeLowercasing) {
  EXPECT_THAT(analyze_english("JOHN'S O'NEIL'S"), ElementsAre("john", "o'neil"));
}

TEST(PorterStemmer, FollowsLuceneNotThePaper) {
  // Lucene's PorterStemmer is Porter's C version: BLI->BLE and LOGI->LOG, unlike libstemmer's "porter".
  EXPECT_EQ(porter_stem("possibly"), "possibl");
  EXPECT_EQ(porter_stem("biology"), "biologi");  // LOGI->LOG needs m > 0 of "bio": no change
  EXPECT_EQ(porter_stem("archaeology"), "archaeolog");
  EXPECT_EQ(porter_stem("conformably"), "conform");
}

TEST(PorterStemmer, ClassicExamples) {
  const std::pair<const char*, const char*> cases[] = {
      {"caresses", "caress"},  {"ponies", "poni"},   {"ties", "ti"},           {"cats", "cat"},
      {"agreed", "agre"},      {"feed", "feed"},     {"hopping", "hop"},       {"sized", "size"},
      {"happy", "happi"},      {"sky", "sky"},       {"relational", "relat"},  {"generalizations", "gener"},
      {"hopeful", "hope"},     {"goodness", "good"}, {"adjustment", "adjust"}, {"adoption", "adopt"},
      {"controll", "control"}, {"roll", "roll"},     {"effective", "effect"},  {"bowdlerize", "bowdler"},
  };
  for (const auto& [word, stem] : cases) EXPECT_EQ(porter_stem(word), stem) << word;
}

TEST(PorterStemmer, ShortWordsAreUnchanged) {
  EXPECT_EQ(porter_stem("is"), "is");
  EXPECT_EQ(porter_stem("ps"), "ps");
  EXPECT_EQ(porter_stem("as"), "as");
  EXPECT_EQ(porter_stem("ies"), "i");
}

// Expectations from Lucene's own TestStandardAnalyzer (what StandardTokenizer emits).
TEST(StandardTokenizer, LuceneConformanceScripts) {
  EXPECT_THAT(standard_tokenize("การที่ได้ต้องแสดงว่างานดี. แล้วเธอจะไปไหน? ๑๒๓๔"),
              ElementsAre("การที่ได้ต้องแสดงว่างานดี", "แล้วเธอจะไปไหน", "๑๒๓๔"));
  EXPECT_THAT(standard_tokenize("ສາທາລະນະລັດ ປະຊາທິປະໄຕ ປະຊາຊົນລາວ"),
              ElementsAre("ສາທາລະນະລັດ", "ປະຊາທິປະໄຕ", "ປະຊາຊົນລາວ"));
  EXPECT_THAT(standard_tokenize("我是中国人。 １２３４ Ｔｅｓｔｓ "),
              ElementsAre("我", "是", "中", "国", "人", "１２３４", "Ｔｅｓｔｓ"));
  EXPECT_THAT(standard_tokenize("𩬅艱鍟䇹愯瀛"), ElementsAre("𩬅", "艱", "鍟", "䇹", "愯", "瀛"));
  EXPECT_THAT(standard_tokenize("仮名遣い カタカナ"), ElementsAre("仮", "名", "遣", "い", "カタカナ"));
  EXPECT_THAT(standard_tokenize("ざ ザ 壹゙ 아゙"), ElementsAre("ざ", "ザ", "壹゙", "아゙"));
  EXPECT_THAT(standard_tokenize("안녕하세요 한글입니다"), ElementsAre("안녕하세요", "한글입니다"));
  EXPECT_THAT(standard_tokenize("moͤchte"), ElementsAre("moͤchte"));
  EXPECT_THAT(standard_tokenize("ویکی پدیای ۲۵ دانشنامهٔ"), ElementsAre("ویکی", "پدیای", "۲۵", "دانشنامهٔ"));
}

TEST(StandardTokenizer, LuceneConformanceMidPunctuation) {
  EXPECT_THAT(standard_tokenize("B2B 2B ac/dc O'Reilly's 216.239.63.104 R2D2"),
              ElementsAre("B2B", "2B", "ac", "dc", "O'Reilly's", "216.239.63.104", "R2D2"));
  // ICU's root rules split at ':', UAX#29 and Lucene do not (between letters).
  EXPECT_THAT(standard_tokenize("A:B A::B 1.2 A.B 1..2 A..B 1,2 1,,2 A.:B A:.B 1,.2 1.,2"),
              ElementsAre("A:B", "A", "B", "1.2", "A.B", "1", "2", "A", "B", "1,2", "1", "2", "A", "B", "A",
                          "B", "1", "2", "1", "2"));
  EXPECT_THAT(standard_tokenize("A:B_A:B A:B_A::B 1.2_1..2 C_A.:B 3_1,.2"),
              ElementsAre("A:B_A:B", "A:B_A", "B", "1.2_1", "2", "C_A", "B", "3_1", "2"));
}

TEST(StandardTokenizer, LuceneConformanceEmoji) {
  EXPECT_THAT(standard_tokenize("💩 💩💩"), ElementsAre("💩", "💩", "💩"));
  EXPECT_THAT(standard_tokenize("poo💩poo"), ElementsAre("poo", "💩", "poo"));
  EXPECT_THAT(standard_tokenize("💩中國💩"), ElementsAre("💩", "中", "國", "💩"));
  EXPECT_THAT(standard_tokenize("🇺🇸🇺🇸"), ElementsAre("🇺🇸", "🇺🇸"));
  EXPECT_THAT(standard_tokenize("#️⃣ 3️⃣"), ElementsAre("#️⃣", "3️⃣"));
  EXPECT_THAT(
      standard_tokenize("\xF0\x9F\x91\xA9\xE2\x80\x8D\xE2\x9D\xA4\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x91\xA9"),
      ElementsAre("\xF0\x9F\x91\xA9\xE2\x80\x8D\xE2\x9D\xA4\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x91\xA9"));
}

TEST(StandardTokenizer, LuceneConformanceMaxTokenLength) {
  const std::string b255(255, 'b');
  EXPECT_THAT(standard_tokenize("x " + b255 + " " + b255 + "b"), ElementsAre("x", b255, b255, "b"));
}

// Long texts are analysed in pieces cut after ASCII whitespace and before an ASCII letter or digit;
// the terms must be those of the whole text whatever the piece size, across scripts, emoji, keycaps,
// mid-word punctuation and long tokens.
TEST(EnglishAnalyzer, PiecesGiveTheTermsOfTheWholeText) {
  std::string text;
  for (const char* part : {"การที่ได้ต้องแสดงว่างานดี. แล้วเธอจะไปไหน? ๑๒๓๔", "我是中国人。 １２３４ Ｔｅｓｔｓ ",
                           "仮名遣い カタカナ 1st", "ざ ザ 壹゙ 아゙ moͤchte\tویکی پدیای ۲۵ دانشنامهٔ",
                           "B2B 2B ac/dc O'Reilly's 216.239.63.104 R2D2\r\n",
                           "A:B A::B 1.2 A.B 1..2 A..B 1,2 1,,2 A.:B A:.B 1,.2 1.,2 A:B_A:B 3_1,.2",
                           "💩 💩💩 poo💩poo 🇺🇸🇺🇸 #️⃣ 3️⃣ 4\xE2\x83\xA3",
                           "The runner's dogs  were   RUNNING \n\n 42 times x\xCC\x81 y"}) {
    text += part;
    text += ' ';
  }
  text += std::string(300, 'b') + " c" + std::string(600, 'd') + " end";
  std::vector<std::string> whole;
  rerank::analysis::for_each_english_term(text, text.size(), [&](std::string&& t) { whole.push_back(t); });
  ASSERT_GT(whole.size(), 60u);
  EXPECT_EQ(whole, analyze_english(text));
  for (std::size_t piece : {1, 2, 3, 5, 8, 13, 64, 256}) {
    std::vector<std::string> pieces;
    rerank::analysis::for_each_english_term(text, piece, [&](std::string&& t) { pieces.push_back(t); });
    EXPECT_EQ(pieces, whole) << "piece size " << piece;
  }
}

TEST(EnglishAnalyzer, TermCountsAreTheSortedDistinctTerms) {
  EXPECT_THAT(rerank::english_term_counts("Dogs run; the dog RAN, dogs' runs 7 7"),
              ElementsAre(std::pair<std::string, std::uint32_t>{"7", 2},
                          std::pair<std::string, std::uint32_t>{"dog", 3},
                          std::pair<std::string, std::uint32_t>{"ran", 1},
                          std::pair<std::string, std::uint32_t>{"run", 2}));
  EXPECT_THAT(rerank::english_term_counts(" the a an "), IsEmpty());
}

TEST(EnglishAnalyzer, PieceEndsOnlyBetweenWhitespaceAndAsciiAlphanumeric) {
  using rerank::analysis::next_piece_end;
  EXPECT_EQ(next_piece_end("abc def", 0, 100), 7u);  // shorter than a piece: all of it
  EXPECT_EQ(next_piece_end("abc def ghi", 0, 2), 4u);
  EXPECT_EQ(next_piece_end("abc  ,def ghi", 0, 2), 10u);            // not before ',' nor between spaces
  EXPECT_EQ(next_piece_end("abc \xC3\xA9t\xC3\xA9 x", 0, 2), 10u);  // not before é
  EXPECT_EQ(next_piece_end("abcdefghij", 0, 2), 10u);               // no cut: the whole text
  EXPECT_EQ(next_piece_end("ab cd ef gh", 3, 2), 6u);
}
