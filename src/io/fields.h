// Splitting whitespace-separated columns and parsing numbers without iostreams (fast and strict).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rerank::io {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s);

// Splits `line` on runs of spaces/tabs into at most `max` fields; returns the number of fields found,
// counting (but not storing) any beyond `max`.
std::size_t split_whitespace(std::string_view line, std::string_view* fields, std::size_t max);

// Splits on single tab characters (empty fields kept); same return convention.
std::size_t split_tabs(std::string_view line, std::string_view* fields, std::size_t max);

// Whole-field parses; nullopt when the field is not exactly a number of that kind.
std::optional<std::int64_t> parse_int(std::string_view s);
// Accepts decimal and exponent forms (and a leading '+'); rejects NaN, which cannot be ranked.
std::optional<double> parse_double(std::string_view s);

// Shortest text that reads back as exactly the same double.
std::size_t format_double(double value, char* out, std::size_t size);

}  // namespace rerank::io
