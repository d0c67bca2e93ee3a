// Porter's stemmer as Lucene's PorterStemmer implements it: the reference C version, which departs
// from the 1980 paper (BLI->BLE instead of ABLI->ABLE, an extra LOGI->LOG rule) and leaves words
// of one or two characters alone. libstemmer's "porter" follows the paper, so "biology" and
// "possibly" would stem differently from Lucene; that is why this file exists.
#include <string>

#include "index/analysis_internal.h"
#include "rerank/analyzer.h"

namespace rerank::analysis {
namespace {

class PorterStemmer {
 public:
  explicit PorterStemmer(std::u16string& word) : b_(word) {}

  void run() {
    k_ = static_cast<int>(b_.size()) - 1;
    if (k_ > 1) {  // Lucene: only words of three or more characters
      step1ab();
      step1c();
      step2();
      step3();
      step4();
      step5();
    }
    b_.resize(static_cast<std::size_t>(k_ + 1));
  }

 private:
  std::u16string& b_;
  int k_ = 0;  // end of the current word (inclusive)
  int j_ = 0;  // end of the stem before the suffix matched last by ends()

  bool cons(int i) const {
    switch (b_[i]) {
      case u'a':
      case u'e':
      case u'i':
      case u'o':
      case u'u':
        return false;
      case u'y':
        return i == 0 ? true : !cons(i - 1);
      default:
        return true;
    }
  }

  // Number of vowel-consonant sequences in b[0..j].
  int m() const {
    int n = 0;
    int i = 0;
    while (true) {
      if (i > j_) return n;
      if (!cons(i)) break;
      ++i;
    }
    ++i;
    while (true) {
      while (true) {
        if (i > j_) return n;
        if (cons(i)) break;
        ++i;
      }
      ++i;
      ++n;
      while (true) {
        if (i > j_) return n;
        if (!cons(i)) break;
        ++i;
      }
      ++i;
    }
  }

  bool vowel_in_stem() const {
    for (int i = 0; i <= j_; ++i)
      if (!cons(i)) return true;
    return false;
  }

  bool double_consonant(int j) const { return j >= 1 && b_[j] == b_[j - 1] && cons(j); }

  // consonant-vowel-consonant ending at i, the last consonant not w, x or y.
  bool cvc(int i) const {
    if (i < 2 || !cons(i) || cons(i - 1) || !cons(i - 2)) return false;
    const char16_t ch = b_[i];
    return !(ch == u'w' || ch == u'x' || ch == u'y');
  }

  bool ends(std::u16string_view s) {
    const int l = static_cast<int>(s.size());
    const int o = k_ - l + 1;
    if (o < 0) return false;
    for (int i = 0; i < l; ++i)
      if (b_[o + i] != s[i]) return false;
    j_ = k_ - l;
    return true;
  }

  void set_to(std::u16string_view s) {
    const int l = static_cast<int>(s.size());
    const int o = j_ + 1;
    if (static_cast<int>(b_.size()) < o + l) b_.resize(static_cast<std::size_t>(o + l));
    for (int i = 0; i < l; ++i) b_[o + i] = s[i];
    k_ = j_ + l;
  }

  void replace_if_measure(std::u16string_view s) {
    if (m() > 0) set_to(s);
  }

  // Plurals and -ed/-ing.
  void step1ab() {
    if (b_[k_] == u's') {
      if (ends(u"sses"))
        k_ -= 2;
      else if (ends(u"ies"))
        set_to(u"i");
      else if (b_[k_ - 1] != u's')
        --k_;
    }
    if (ends(u"eed")) {
      if (m() > 0) --k_;
    } else if ((ends(u"ed") || ends(u"ing")) && vowel_in_stem()) {
      k_ = j_;
      if (ends(u"at"))
        set_to(u"ate");
      else if (ends(u"bl"))
        set_to(u"ble");
      else if (ends(u"iz"))
        set_to(u"ize");
      else if (double_consonant(k_)) {
        const char16_t ch = b_[k_--];
        if (ch == u'l' || ch == u's' || ch == u'z') ++k_;
      } else if (m() == 1 && cvc(k_)) {
        j_ = k_;
        set_to(u"e");
      }
    }
  }

  // Terminal y -> i when there is another vowel in the stem.
  void step1c() {
    if (ends(u"y") && vowel_in_stem()) b_[k_] = u'i';
  }

  // Double suffixes to single ones.
  void step2() {
    if (k_ == 0) return;
    switch (b_[k_ - 1]) {
      case u'a':
        if (ends(u"ational")) {
          replace_if_measure(u"ate");
          break;
        }
        if (ends(u"tional")) {
          replace_if_measure(u"tion");
          break;
        }
        break;
      case u'c':
        if (ends(u"enci")) {
          replace_if_measure(u"ence");
          break;
        }
        if (ends(u"anci")) {
          replace_if_measure(u"ance");
          break;
        }
        break;
      case u'e':
        if (ends(u"izer")) {
          replace_if_measure(u"ize");
          break;
        }
        break;
      case u'l':
        if (ends(u"bli")) {
          replace_if_measure(u"ble");
          break;
        }
        if (ends(u"alli")) {
          replace_if_measure(u"al");
          break;
        }
        if (ends(u"entli")) {
          replace_if_measure(u"ent");
          break;
        }
        if (ends(u"eli")) {
          replace_if_measure(u"e");
          break;
        }
        if (ends(u"ousli")) {
          replace_if_measure(u"ous");
          break;
        }
        break;
      case u'o':
        if (ends(u"ization")) {
          replace_if_measure(u"ize");
          break;
        }
        if (ends(u"ation")) {
          replace_if_measure(u"ate");
          break;
        }
        if (ends(u"ator")) {
          replace_if_measure(u"ate");
          break;
        }
        break;
      case u's':
        if (ends(u"alism")) {
          replace_if_measure(u"al");
          break;
        }
        if (ends(u"iveness")) {
          replace_if_measure(u"ive");
          break;
        }
        if (ends(u"fulness")) {
          replace_if_measure(u"ful");
          break;
        }
        if (ends(u"ousness")) {
          replace_if_measure(u"ous");
          break;
        }
        break;
      case u't':
        if (ends(u"aliti")) {
          replace_if_measure(u"al");
          break;
        }
        if (ends(u"iviti")) {
          replace_if_measure(u"ive");
          break;
        }
        if (ends(u"biliti")) {
          replace_if_measure(u"ble");
          break;
        }
        break;
      case u'g':
        if (ends(u"logi")) {
          replace_if_measure(u"log");
          break;
        }
        break;
      default:
        break;
    }
  }

  // -ic-, -full, -ness etc.
  void step3() {
    switch (b_[k_]) {
      case u'e':
        if (ends(u"icate")) {
          replace_if_measure(u"ic");
          break;
        }
        if (ends(u"ative")) {
          replace_if_measure(u"");
          break;
        }
        if (ends(u"alize")) {
          replace_if_measure(u"al");
          break;
        }
        break;
      case u'i':
        if (ends(u"iciti")) {
          replace_if_measure(u"ic");
          break;
        }
        break;
      case u'l':
        if (ends(u"ical")) {
          replace_if_measure(u"ic");
          break;
        }
        if (ends(u"ful")) {
          replace_if_measure(u"");
          break;
        }
        break;
      case u's':
        if (ends(u"ness")) {
          replace_if_measure(u"");
          break;
        }
        break;
      default:
        break;
    }
  }

  // -ant, -ence etc. in context <c>vcvc<v>.
  void step4() {
    if (k_ == 0) return;
    switch (b_[k_ - 1]) {
      case u'a':
        if (ends(u"al")) break;
        return;
      case u'c':
        if (ends(u"ance")) break;
        if (ends(u"ence")) break;
        return;
      case u'e':
        if (ends(u"er")) break;
        return;
      case u'i':
        if (ends(u"ic")) break;
        return;
      case u'l':
        if (ends(u"able")) break;
        if (ends(u"ible")) break;
        return;
      case u'n':
        if (ends(u"ant")) break;
        if (ends(u"ement")) break;
        if (ends(u"ment")) break;
        if (ends(u"ent")) break;
        return;
      case u'o':
        if (ends(u"ion") && j_ >= 0 && (b_[j_] == u's' || b_[j_] == u't')) break;
        if (ends(u"ou")) break;
        return;
      case u's':
        if (ends(u"ism")) break;
        return;
      case u't':
        if (ends(u"ate")) break;
        if (ends(u"iti")) break;
        return;
      case u'u':
        if (ends(u"ous")) break;
        return;
      case u'v':
        if (ends(u"ive")) break;
        return;
      case u'z':
        if (ends(u"ize")) break;
        return;
      default:
        return;
    }
    if (m() > 1) k_ = j_;
  }

  // Final -e and -ll.
  void step5() {
    j_ = k_;
    if (b_[k_] == u'e') {
      const int a = m();
      if (a > 1 || (a == 1 && !cvc(k_ - 1))) --k_;
    }
    if (b_[k_] == u'l' && double_consonant(k_) && m() > 1) --k_;
  }
};

}  // namespace

void porter_stem_utf16(std::u16string& word) { PorterStemmer(word).run(); }

}  // namespace rerank::analysis
