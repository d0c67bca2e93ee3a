#include "rerank/options.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "rerank/error.h"

namespace rerank {

OptionReader::OptionReader(std::string owner, std::map<std::string, std::string> values)
    : owner_(std::move(owner)), values_(std::move(values)) {}

int OptionReader::integer(const std::string& key, int fallback, int min, int max) {
  known_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  const std::string& v = it->second;
  int value = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (ec != std::errc() || end != v.data() + v.size())
    throw Error(owner_ + ": option " + key + " must be an integer, got '" + v + "'");
  if (value < min || value > max)
    throw Error(owner_ + ": option " + key + " must be between " + std::to_string(min) + " and " +
                std::to_string(max) + ", got " + v);
  return value;
}

namespace {
template <class T>
T parse_number(const std::string& owner, const std::string& key, const std::string& v, T min, T max) {
  T value = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(value))
    throw Error(owner + ": option " + key + " must be a number, got '" + v + "'");
  if (value < min || value > max) {
    std::ostringstream range;
    range << min << " and " << max;
    throw Error(owner + ": option " + key + " must be between " + range.str() + ", got " + v);
  }
  return value;
}
}  // namespace

double OptionReader::real(const std::string& key, double fallback, double min, double max) {
  known_.insert(key);
  auto it = values_.find(key);
  return it == values_.end() ? fallback : parse_number(owner_, key, it->second, min, max);
}

float OptionReader::real_float(const std::string& key, float fallback, float min, float max) {
  known_.insert(key);
  auto it = values_.find(key);
  return it == values_.end() ? fallback : parse_number(owner_, key, it->second, min, max);
}

std::string OptionReader::text(const std::string& key, const std::string& fallback) {
  known_.insert(key);
  auto it = values_.find(key);
  return it == values_.end() ? fallback : option_text(it->second);
}

std::string OptionReader::choice(const std::string& key, const std::string& fallback,
                                 const std::vector<std::string>& allowed) {
  known_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  for (const auto& a : allowed)
    if (a == it->second) return a;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  throw Error(owner_ + ": option " + key + " must be one of " + list + ", got '" + it->second + "'");
}

void OptionReader::finish() const {
  std::string unknown;
  for (const auto& [k, v] : values_)
    if (!known_.count(k)) unknown += (unknown.empty() ? "" : ", ") + k;
  if (unknown.empty()) return;
  std::string list;
  for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
  throw Error(owner_ + ": unknown option(s) " + unknown + " (known: " + list + ")");
}

std::string option_text(const std::string& value) {
  if (!value.empty() && value[0] == '@') {
    std::ifstream in(value.substr(1), std::ios::binary);
    if (!in) throw Error("cannot read the file " + value.substr(1));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) {
      char n = value[i + 1];
      if (n == 'n' || n == 't' || n == '\\') {
        out.push_back(n == 'n' ? '\n' : n == 't' ? '\t' : '\\');
        ++i;
        continue;
      }
    }
    out.push_back(value[i]);
  }
  return out;
}

}  // namespace rerank
