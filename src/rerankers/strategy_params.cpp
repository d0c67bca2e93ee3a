#include "rerankers/strategy_params.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "rerank/error.h"

namespace rerank::llm {

StrategyParams::StrategyParams(std::string strategy, const std::map<std::string, std::string>& params)
    : strategy_(std::move(strategy)),
      params_(params),
      known_(backend_params().begin(), backend_params().end()) {}

const std::vector<std::string>& backend_params() {
  static const std::vector<std::string> keys = {"context_tokens", "batch_tokens"};
  return keys;
}

int StrategyParams::integer(const std::string& key, int fallback, int min, int max) {
  known_.insert(key);
  auto it = params_.find(key);
  if (it == params_.end()) return fallback;
  const std::string& v = it->second;
  int value = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (ec != std::errc() || end != v.data() + v.size())
    throw Error(strategy_ + ": option " + key + " must be an integer, got '" + v + "'");
  if (value < min || value > max)
    throw Error(strategy_ + ": option " + key + " must be between " + std::to_string(min) + " and " +
                std::to_string(max) + ", got " + v);
  return value;
}

std::string StrategyParams::text(const std::string& key, const std::string& fallback) {
  known_.insert(key);
  auto it = params_.find(key);
  return it == params_.end() ? fallback : option_text(it->second);
}

std::string StrategyParams::choice(const std::string& key, const std::string& fallback,
                                   const std::vector<std::string>& allowed) {
  known_.insert(key);
  auto it = params_.find(key);
  if (it == params_.end()) return fallback;
  for (const auto& a : allowed)
    if (a == it->second) return a;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  throw Error(strategy_ + ": option " + key + " must be one of " + list + ", got '" + it->second + "'");
}

void StrategyParams::finish() const {
  std::string unknown;
  for (const auto& [k, v] : params_)
    if (!known_.count(k)) unknown += (unknown.empty() ? "" : ", ") + k;
  if (unknown.empty()) return;
  std::string list;
  for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
  throw Error(strategy_ + ": unknown option(s) " + unknown + " (known: " + list + ")");
}

std::string option_text(const std::string& value) {
  if (!value.empty() && value[0] == '@') {
    std::ifstream in(value.substr(1), std::ios::binary);
    if (!in) throw Error("cannot read template file " + value.substr(1));
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

}  // namespace rerank::llm
