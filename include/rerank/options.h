// Reading a component's options (name=value strings from the CLI, the server or code) into typed
// values, with validation. Every read marks its key as known; finish() then rejects whatever was
// given that no read asked for, naming it and listing the known ones, so a misspelt option is an
// error instead of a silent default. Rerankers and first stages both read their options this way,
// before they load a model or open an index.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

namespace rerank {

class OptionReader {
 public:
  // `owner` starts every error message ("setwise: option topk must be ...").
  OptionReader(std::string owner, std::map<std::string, std::string> values);

  int integer(const std::string& key, int fallback, int min, int max);
  double real(const std::string& key, double fallback, double min, double max);
  // A float read as float (not rounded twice through double), as the command line reads it.
  float real_float(const std::string& key, float fallback, float min, float max);
  // Text: "\n", "\t" and "\\" become newline, tab and backslash (values come from command lines);
  // a value starting with '@' is the content of the file named after it.
  std::string text(const std::string& key, const std::string& fallback);
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& allowed);
  bool on_off(const std::string& key, bool fallback) {
    return choice(key, fallback ? "on" : "off", {"on", "off"}) == "on";
  }
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  // Marks keys as known without reading them (options another component reads).
  void accept(const std::vector<std::string>& keys) { known_.insert(keys.begin(), keys.end()); }

  const std::string& owner() const { return owner_; }
  // Throws rerank::Error naming every key that was given but never read, and the known ones.
  void finish() const;

 private:
  std::string owner_;
  std::map<std::string, std::string> values_;
  std::set<std::string> known_;
};

// The text rule of OptionReader::text, for values read elsewhere.
std::string option_text(const std::string& value);

}  // namespace rerank
