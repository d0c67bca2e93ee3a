#include <gtest/gtest.h>

#include "rerank/utf8.h"

using rerank::find_invalid_utf8;

TEST(Utf8, AcceptsValidText) {
  EXPECT_FALSE(find_invalid_utf8("plain ascii").has_value());
  EXPECT_FALSE(find_invalid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80").has_value());
  EXPECT_FALSE(find_invalid_utf8("").has_value());
}

TEST(Utf8, ReportsOffsetOfFirstBadSequence) {
  EXPECT_EQ(find_invalid_utf8("ab\xFF"), 2u);             // never valid byte
  EXPECT_EQ(find_invalid_utf8("abc\xC3"), 3u);            // truncated sequence
  EXPECT_EQ(find_invalid_utf8("\xC0\xAF"), 0u);           // overlong '/'
  EXPECT_EQ(find_invalid_utf8("x\xED\xA0\x80"), 1u);      // UTF-16 surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);   // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("ok\xE2\x28\xA1"), 2u);     // bad continuation
}
