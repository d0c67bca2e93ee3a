// Reading a strategy's options (RerankerOptions::params) with validation. Every read marks the key
// as known; finish() then rejects whatever the user passed that no read asked for, naming it, so a
// misspelt option is an error instead of a silent default.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

namespace rerank::llm {

class StrategyParams {
 public:
  StrategyParams(std::string strategy, const std::map<std::string, std::string>& params);

  int integer(const std::string& key, int fallback, int min, int max);
  std::string text(const std::string& key, const std::string& fallback);
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& allowed);
  const std::string& strategy() const { return strategy_; }

  // Throws rerank::Error naming every key that was given but never read, and the known ones.
  void finish() const;

 private:
  std::string strategy_;
  std::map<std::string, std::string> params_;
  std::set<std::string> known_;
};

// Options the LLM backend reads (e.g. context_tokens); every strategy accepts them.
const std::vector<std::string>& backend_params();

// "\n", "\t" and "\\" in option text become newline, tab and backslash (templates come from the
// command line); text starting with '@' is read from the file named after it.
std::string option_text(const std::string& value);

}  // namespace rerank::llm
