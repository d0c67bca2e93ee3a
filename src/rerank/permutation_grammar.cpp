#include "rerank/permutation_grammar.h"

#include <cctype>

#include "rerank/error.h"

namespace rerank::llm {
namespace {

std::string literal_id(std::size_t id) {
  std::string s = "\"[";  // built by appending: GCC 12 warns falsely (-Wrestrict) on chained +
  s.append(std::to_string(id)).append("]\"");
  return s;
}

std::string rule_name(std::size_t mask) {
  std::string s = "s";
  s.append(std::to_string(mask));
  return s;
}

// One rule per set of identifiers still to be written (a bit mask): write one of them, then the rule
// of the remaining set.
std::string exact_grammar(std::size_t n) {
  const std::size_t full = (std::size_t{1} << n) - 1;
  std::string g = "root ::= ";
  g.append(rule_name(full)).append("\n");
  for (std::size_t mask = 1; mask <= full; ++mask) {
    g.append(rule_name(mask)).append(" ::= ");
    bool first = true;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t bit = std::size_t{1} << i;
      if (!(mask & bit)) continue;
      if (!first) g += " | ";
      first = false;
      g += literal_id(i + 1);
      if (mask != bit) g.append(" \" > \" ").append(rule_name(mask ^ bit));
    }
    g += "\n";
  }
  return g;
}

std::string counted_grammar(std::size_t n) {
  std::string g = "root ::= id";
  for (std::size_t i = 1; i < n; ++i) g += " \" > \" id";
  g += "\nid ::= ";
  for (std::size_t i = 1; i <= n; ++i) g.append(i > 1 ? " | " : "").append(literal_id(i));
  return g + "\n";
}

}  // namespace

std::string permutation_grammar(std::size_t n) {
  if (n == 0) throw Error("a permutation grammar needs at least one identifier");
  return n <= kExactPermutationLimit ? exact_grammar(n) : counted_grammar(n);
}

std::vector<std::size_t> parse_permutation(const std::string& text, std::size_t n) {
  std::vector<std::size_t> order;
  std::vector<bool> seen(n, false);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '[') continue;
    std::size_t j = i + 1;
    std::size_t value = 0;
    bool overflow = false;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) {
      if (value > 1000000) overflow = true;
      value = value * 10 + static_cast<std::size_t>(text[j] - '0');
      ++j;
    }
    if (j == i + 1 || j >= text.size() || text[j] != ']' || overflow) continue;
    if (value >= 1 && value <= n && !seen[value - 1]) {
      seen[value - 1] = true;
      order.push_back(value - 1);
    }
    i = j;
  }
  for (std::size_t p = 0; p < n; ++p)
    if (!seen[p]) order.push_back(p);
  return order;
}

}  // namespace rerank::llm
