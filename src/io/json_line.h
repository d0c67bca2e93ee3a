// One JSON object per line (BEIR corpus/queries, candidates): parsing and typed field access with
// "file:line: what is wrong" errors.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "io/line_reader.h"

namespace rerank::io {

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
