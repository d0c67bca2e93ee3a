// Lucene's StandardTokenizer on top of ICU's word BreakIterator.
//
// ICU implements the same UAX#29 word rules as Lucene's JFlex grammar for alphabetic and numeric
// text, but differs where Lucene is deliberately simple:
//  - ICU segments Chinese/Japanese with a dictionary; Lucene emits every Han ideograph and every
//    Hiragana character as its own token, and a run of Katakana as one token.
//  - ICU segments Thai, Lao, Khmer and Myanmar with dictionaries; Lucene emits a whole run of these
//    "complex context" characters (Line_Break=SA) as one token.
// So those scripts are cut out of the text here and handled directly, and only the remaining runs
// go through ICU. ICU also marks a run of connector punctuation ("___") as a word; Lucene needs a
// letter or digit in a token, so such segments are dropped.
#include <unicode/brkiter.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>

#include <memory>
#include <string>
#include <vector>

#include "index/analysis_internal.h"
#include "rerank/analyzer.h"
#include "rerank/error.h"

namespace rerank::analysis {
namespace {

constexpr int32_t kMaxTokenLength = 255;  // StandardAnalyzer.DEFAULT_MAX_TOKEN_LENGTH

enum class CharClass { kOther, kHan, kHiragana, kKatakana, kComplexContext };

CharClass classify(UChar32 c) {
  if (c < 0x0E00) return CharClass::kOther;  // fast path: no CJK or complex-context script below Thai
  if (u_getIntPropertyValue(c, UCHAR_LINE_BREAK) == U_LB_COMPLEX_CONTEXT) return CharClass::kComplexContext;
  UErrorCode status = U_ZERO_ERROR;
  const UScriptCode script = uscript_getScript(c, &status);
  if (script == USCRIPT_HAN) return CharClass::kHan;
  if (script == USCRIPT_HIRAGANA) return CharClass::kHiragana;
  if (u_getIntPropertyValue(c, UCHAR_WORD_BREAK) == U_WB_KATAKANA) return CharClass::kKatakana;
  return CharClass::kOther;
}

// Extend, Format and ZWJ characters stay attached to the character before them (WB4).
bool is_extend_or_format(UChar32 c) {
  const int32_t wb = u_getIntPropertyValue(c, UCHAR_WORD_BREAK);
  return wb == U_WB_EXTEND || wb == U_WB_FORMAT || wb == U_WB_ZWJ;
}

// A token needs a letter, a digit or a pictographic character; ICU also gives "word" status to
// runs of connector punctuation, which Lucene drops.
bool has_word_character(const icu::UnicodeString& s, int32_t begin, int32_t end) {
  for (int32_t i = begin; i < end;) {
    const UChar32 c = s.char32At(i);
    const int32_t wb = u_getIntPropertyValue(c, UCHAR_WORD_BREAK);
    if (wb == U_WB_ALETTER || wb == U_WB_HEBREW_LETTER || wb == U_WB_NUMERIC || wb == U_WB_KATAKANA ||
        u_isalnum(c))
      return true;
    i += U16_LENGTH(c);
  }
  return false;
}

bool is_emoji_segment(const icu::UnicodeString& s, int32_t begin, int32_t end) {
  if (begin >= end) return false;
  const UChar32 c = s.char32At(begin);
  if (u_hasBinaryProperty(c, UCHAR_EMOJI_PRESENTATION)) return true;
  // Keycaps: "#", "*" or a digit, optionally U+FE0F, then U+20E3.
  // The search stays within the segment: searching to the end of the text made tokenizing quadratic
  // in the length of a document with many digits.
  if ((c == '#' || c == '*' || (c >= '0' && c <= '9')) &&
      s.indexOf(static_cast<char16_t>(0x20E3), begin, end - begin) >= 0)
    return true;
  const int32_t next = begin + U16_LENGTH(c);
  return next < end && s.charAt(next) == 0xFE0F && u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC);
}

void emit(const icu::UnicodeString& s, int32_t begin, int32_t end, std::vector<std::u16string>& out) {
  while (begin < end) {
    int32_t piece_end = end;
    if (piece_end - begin > kMaxTokenLength) {
      piece_end = begin + kMaxTokenLength;
      if (U16_IS_LEAD(s.charAt(piece_end - 1))) --piece_end;  // never split a surrogate pair
    }
    out.emplace_back(reinterpret_cast<const char16_t*>(s.getBuffer()) + begin, piece_end - begin);
    begin = piece_end;
  }
}

bool is_mid_punctuation(int32_t wb) {
  return wb == U_WB_MIDLETTER || wb == U_WB_MIDNUM || wb == U_WB_MIDNUMLET || wb == U_WB_SINGLE_QUOTE;
}

// ICU keeps e-mail addresses together ("john@example.com"): its rules extend UAX#29 there. Pure
// UAX#29, and so Lucene, breaks at every character of Word_Break=Other, such as '@'. Splitting the
// segment there, and trimming the mid-word punctuation a piece then starts or ends with, gives
// Lucene's tokens.
void emit_uax29_pieces(const icu::UnicodeString& s, int32_t begin, int32_t end,
                       std::vector<std::u16string>& out) {
  int32_t piece = begin;
  for (int32_t i = begin; i <= end;) {
    const UChar32 c = i < end ? s.char32At(i) : 0;
    const bool cut = i == end || u_getIntPropertyValue(c, UCHAR_WORD_BREAK) == U_WB_OTHER;
    if (cut) {
      int32_t a = piece, b = i;
      if (a != begin || b != end) {
        while (a < b && is_mid_punctuation(u_getIntPropertyValue(s.char32At(a), UCHAR_WORD_BREAK)))
          a += U16_LENGTH(s.char32At(a));
        while (b > a && is_mid_punctuation(u_getIntPropertyValue(s.char32At(b - 1), UCHAR_WORD_BREAK)))
          b = s.moveIndex32(b, -1);
      }
      if (a < b && has_word_character(s, a, b)) emit(s, a, b, out);
      if (i == end) break;
      piece = i + U16_LENGTH(c);
    }
    i += U16_LENGTH(c);
  }
}

icu::BreakIterator& word_iterator() {
  thread_local std::unique_ptr<icu::BreakIterator> iterator = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> it(
        icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status) || !it)
      throw Error(std::string("cannot create ICU word break iterator: ") + u_errorName(status));
    return it;
  }();
  return *iterator;
}

// ICU's root rules take the colon out of MidLetter (a CLDR tailoring); UAX#29 and Lucene keep it,
// so "A:B" is one token. A word ending in a letter, one colon, and a word starting with a letter
// are joined again here.
bool is_colon(UChar32 c) { return c == 0x003A || c == 0xFE13 || c == 0xFE55 || c == 0xFF1A; }

bool is_ah_letter(UChar32 c) {
  const int32_t wb = u_getIntPropertyValue(c, UCHAR_WORD_BREAK);
  return wb == U_WB_ALETTER || wb == U_WB_HEBREW_LETTER;
}

UChar32 last_base_char(const icu::UnicodeString& s, int32_t begin, int32_t end) {
  int32_t i = end;
  while (i > begin) {
    i = s.moveIndex32(i, -1);
    const UChar32 c = s.char32At(i);
    if (!is_extend_or_format(c)) return c;
  }
  return 0;
}

struct Segment {
  int32_t start, stop;
  bool word;
};

void segment_with_icu(const icu::UnicodeString& text, int32_t begin, int32_t end,
                      std::vector<std::u16string>& out) {
  const icu::UnicodeString run(text, begin, end - begin);
  icu::BreakIterator& it = word_iterator();
  it.setText(run);
  thread_local std::vector<Segment> segments;
  segments.clear();
  int32_t start = it.first();
  for (int32_t stop = it.next(); stop != icu::BreakIterator::DONE; start = stop, stop = it.next())
    segments.push_back({start, stop, it.getRuleStatus() >= UBRK_WORD_NONE_LIMIT});
  static const icu::UnicodeString kNoText;
  it.setText(kNoText);  // drop the reference to `run` before it goes away

  for (std::size_t i = 0; i < segments.size(); ++i) {
    Segment seg = segments[i];
    if (seg.word) {
      while (i + 2 < segments.size() && segments[i + 1].stop - segments[i + 1].start <= 2 &&
             is_colon(run.char32At(segments[i + 1].start)) &&
             U16_LENGTH(run.char32At(segments[i + 1].start)) ==
                 segments[i + 1].stop - segments[i + 1].start &&
             segments[i + 2].word && is_ah_letter(last_base_char(run, seg.start, seg.stop)) &&
             is_ah_letter(run.char32At(segments[i + 2].start))) {
        seg.stop = segments[i + 2].stop;
        i += 2;
      }
      emit_uax29_pieces(run, seg.start, seg.stop, out);
    } else if (is_emoji_segment(run, seg.start, seg.stop)) {
      emit(run, seg.start, seg.stop, out);
    } else {
      // ICU occasionally gives letters no word status (Hangul followed by a kana voicing mark).
      emit_uax29_pieces(run, seg.start, seg.stop, out);
    }
  }
}

}  // namespace

void tokenize_utf16(std::string_view utf8, std::vector<std::u16string>& tokens) {
  const icu::UnicodeString text =
      icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  const int32_t length = text.length();
  int32_t i = 0;
  while (i < length) {
    const UChar32 c = text.char32At(i);
    const CharClass cls = classify(c);
    int32_t j = i + U16_LENGTH(c);
    if (cls == CharClass::kOther) {
      while (j < length) {
        const UChar32 d = text.char32At(j);
        if (classify(d) != CharClass::kOther) break;
        j += U16_LENGTH(d);
      }
      segment_with_icu(text, i, j, tokens);
    } else {
      // Han and Hiragana: one character per token; Katakana and complex context: the whole run.
      const bool whole_run = cls == CharClass::kKatakana || cls == CharClass::kComplexContext;
      while (j < length) {
        const UChar32 d = text.char32At(j);
        if (!is_extend_or_format(d) && !(whole_run && classify(d) == cls)) break;
        j += U16_LENGTH(d);
      }
      emit(text, i, j, tokens);
    }
    i = j;
  }
}

std::string to_utf8(const std::u16string& s) {
  std::string out;
  icu::UnicodeString(false, reinterpret_cast<const UChar*>(s.data()), static_cast<int32_t>(s.size()))
      .toUTF8String(out);
  return out;
}

}  // namespace rerank::analysis

namespace rerank {

std::vector<std::string> standard_tokenize(std::string_view text) {
  std::vector<std::u16string> tokens;
  analysis::tokenize_utf16(text, tokens);
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (const auto& t : tokens) out.push_back(analysis::to_utf8(t));
  return out;
}

}  // namespace rerank
