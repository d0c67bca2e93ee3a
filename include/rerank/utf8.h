// UTF-8 checks: input text that is not valid UTF-8 is reported, never passed on silently.
#pragma once
#include <cstddef>
#include <optional>
#include <string_view>

namespace rerank {

// Byte offset of the first invalid UTF-8 sequence (overlong forms, surrogates and code points
// above U+10FFFF are invalid), or nullopt when the whole text is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

inline bool is_valid_utf8(std::string_view text) { return !find_invalid_utf8(text).has_value(); }

}  // namespace rerank
