#include "io/json_line.h"

namespace rerank::io {

namespace {

// nlohmann's messages start with a tag such as "[json.exception.out_of_range.406] ": drop it.
std::string without_tag(const std::string& msg) {
  const auto bracket = msg.find("] ");
  return bracket == std::string::npos ? msg : msg.substr(bracket + 2);
}

// nlohmann's messages start with "[json.exception.parse_error.101] parse error at line 1, column 7: ";
// the line is always 1 here, so keep the column and the explanation.
std::string describe_parse_error(const nlohmann::json::parse_error& e) {
  std::string msg = e.what();
  const auto col = msg.find("column ");
  if (col != std::string::npos) {
    const auto colon = msg.find(": ", col);
    if (colon != std::string::npos)
      return "invalid JSON at " + msg.substr(col, colon - col) + ": " + msg.substr(colon + 2);
  }
  return "invalid JSON: " + without_tag(msg);
}

// Thrown by the parser callback when a document nests too deeply.
struct TooDeep {};

}  // namespace

nlohmann::json parse_json_text(std::string_view text, std::string& error, std::size_t& error_byte) {
  error.clear();
  error_byte = 0;
  static const nlohmann::json::parser_callback_t limit_depth = [](int depth, nlohmann::json::parse_event_t,
                                                                  nlohmann::json&) {
    if (depth > kMaxJsonDepth) throw TooDeep{};
    return true;
  };
  try {
    return nlohmann::json::parse(text, limit_depth);
  } catch (const nlohmann::json::parse_error& e) {
    error = describe_parse_error(e);
    error_byte = e.byte;
  } catch (const nlohmann::json::out_of_range& e) {  // a number beyond a double: 1e400
    error = "invalid JSON: " + without_tag(e.what());
  } catch (const TooDeep&) {
    error = "invalid JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
  }
  return nullptr;
}

nlohmann::json parse_json_object(const LineReader& reader, std::string_view line) {
  reader.require_utf8(line);
  std::string error;
  std::size_t error_byte;
  nlohmann::json obj = parse_json_text(line, error, error_byte);
  if (!error.empty()) reader.fail(error);
  if (!obj.is_object()) reader.fail(std::string("expected a JSON object, found ") + obj.type_name());
  return obj;
}

std::string json_id(const LineReader& reader, const nlohmann::json& obj, const char* key,
                    const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end()) reader.fail(where + "missing \"" + key + "\"");
  std::string id;
  if (it->is_string())
    id = it->get<std::string>();
  else if (it->is_number_integer())
    id = it->dump();
  else
    reader.fail(where + "\"" + key + "\" must be a string, not " + it->type_name());
  if (id.empty()) reader.fail(where + "\"" + key + "\" is empty");
  return id;
}

std::string json_string(const LineReader& reader, const nlohmann::json& obj, const char* key, bool required,
                        const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || (!required && it->is_null())) {
    if (required) reader.fail(where + "missing \"" + key + "\"");
    return {};
  }
  if (!it->is_string()) reader.fail(where + "\"" + key + "\" must be a string, not " + it->type_name());
  return it->get<std::string>();
}

}  // namespace rerank::io
