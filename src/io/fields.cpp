#include "io/fields.h"

#include <charconv>
#include <cmath>

namespace rerank::io {

std::string_view trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (is_space(s[b]) || s[b] == '\n')) ++b;
  while (e > b && (is_space(s[e - 1]) || s[e - 1] == '\n')) --e;
  return s.substr(b, e - b);
}

std::size_t split_whitespace(std::string_view line, std::string_view* fields, std::size_t max) {
  std::size_t count = 0;
  const char* p = line.data();
  const char* end = p + line.size();
  for (;;) {
    while (p < end && is_space(*p)) ++p;
    if (p == end) break;
    const char* start = p;
    while (p < end && !is_space(*p)) ++p;
    if (count < max) fields[count] = std::string_view(start, static_cast<std::size_t>(p - start));
    ++count;
  }
  return count;
}

std::size_t split_tabs(std::string_view line, std::string_view* fields, std::size_t max) {
  std::size_t count = 0;
  std::size_t start = 0;
  for (;;) {
    const std::size_t tab = line.find('\t', start);
    const std::string_view field = line.substr(start, tab == std::string_view::npos ? tab : tab - start);
    if (count < max) fields[count] = field;
    ++count;
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return count;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  // Fast path for the common short unsigned case (run ranks, grades); from_chars handles the rest.
  if (!s.empty() && s.size() <= 18) {
    std::int64_t v = 0;
    std::size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) v = v * 10 + (s[i] - '0');
    if (i == s.size()) return v;
  }
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  // Out-of-range values (1e999) are reported as errors rather than silently becoming infinity.
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty() || std::isnan(v)) return std::nullopt;
  return v;
}

std::size_t format_double(double value, char* out, std::size_t size) {
  const auto [ptr, ec] = std::to_chars(out, out + size, value);
  return ec == std::errc() ? static_cast<std::size_t>(ptr - out) : 0;
}

}  // namespace rerank::io
