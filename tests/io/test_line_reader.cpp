#include <gtest/gtest.h>

#include "io/line_reader.h"
#include "io_test_util.h"

using rerank::io::LineReader;
using rerank::test::input_error;
using rerank::test::write_temp;

namespace {
std::vector<std::string> lines_of(const std::string& path, std::size_t max = LineReader::kDefaultMaxLine) {
  LineReader r(path, max);
  std::vector<std::string> out;
  std::string_view l;
  while (r.next(l)) out.emplace_back(l);
  return out;
}
}  // namespace

TEST(LineReader, SplitsLinesHandlingCrlfBomAndMissingFinalNewline) {
  EXPECT_EQ(lines_of(write_temp("l1.txt",
                                "\xEF\xBB\xBF"
                                "a\r\nb\n\nc")),
            (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(lines_of(write_temp("l2.txt", "")), std::vector<std::string>{});
  EXPECT_EQ(lines_of(write_temp("l3.txt", "\n")), std::vector<std::string>{""});
}

TEST(LineReader, LinesLongerThanTheBlockAreReadWhole) {
  const std::string big(3 << 20, 'x');  // three times the read block
  const auto lines = lines_of(write_temp("l4.txt", "a\n" + big + "\nb\n"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].size(), big.size());
  EXPECT_EQ(lines[2], "b");
}

TEST(LineReader, HugeLineIsAnErrorNotACrash) {
  const std::string big(5000, 'y');
  const auto path = write_temp("l5.txt", "ok\n" + big + "\n");
  EXPECT_EQ(input_error([&] { lines_of(path, 1000); }), path + ":2: line is longer than 1000 bytes");
  const auto path2 = write_temp("l6.txt", "ok\n" + big);  // without a final newline
  EXPECT_EQ(input_error([&] { lines_of(path2, 1000); }), path2 + ":2: line is longer than 1000 bytes");
}

TEST(LineReader, CountsBytesAndLines) {
  const auto path = write_temp("l7.txt", "ab\r\ncd\n");
  LineReader r(path);
  EXPECT_EQ(r.bytes_total(), 7u);
  std::string_view l;
  ASSERT_TRUE(r.next(l));
  EXPECT_EQ(r.line_number(), 1u);
  EXPECT_EQ(r.bytes_read(), 4u);
  ASSERT_TRUE(r.next(l));
  EXPECT_EQ(l, "cd");
  EXPECT_EQ(r.line_number(), 2u);
  EXPECT_EQ(r.bytes_read(), 7u);
  EXPECT_FALSE(r.next(l));
}
