// One JSON object per line (BEIR corpus/queries, candidates): parsing and typed field access with
// "file:line: what is wrong" errors.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "io/line_reader.h"

namespace rerank::io {

// JSON read from files is refused beyond this nesting: nlohmann's parser and destructor recurse per
// level, so a line of a million '[' overflowed the stack (the server limits its bodies likewise).
inline constexpr int kMaxJsonDepth = 256;

// Parses JSON text from a file: the value, or a description of what is wrong with it (malformed,
// a number beyond a double's range, nested deeper than kMaxJsonDepth) in `error`, with the byte
// offset the parser stopped at in `error_byte` (0 when unknown).
nlohmann::json parse_json_text(std::string_view text, std::string& error, std::size_t& error_byte);

// Parses the current line as a JSON object (UTF-8 checked first so the error names the line).
nlohmann::json parse_json_object(const LineReader& reader, std::string_view line);

// An identifier: a non-empty string, or an integer (some tools write numeric ids), as text.
// `where` prefixes the messages, e.g. "candidate 3: ".
std::string json_id(const LineReader& reader, const nlohmann::json& obj, const char* key,
                    const std::string& where = "");

// A string field; a missing or null optional field is "".
std::string json_string(const LineReader& reader, const nlohmann::json& obj, const char* key, bool required,
                        const std::string& where = "");

}  // namespace rerank::io
