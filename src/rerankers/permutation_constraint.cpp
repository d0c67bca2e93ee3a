#include "rerankers/permutation_constraint.h"

#include <cctype>

#include "rerank/error.h"

namespace rerank::llm {

PermutationConstraint::PermutationConstraint(std::size_t n) : n_(n) {
  if (n == 0 || n > kMaxPermutationIds)
    throw Error("a permutation constraint needs 1 to " + std::to_string(kMaxPermutationIds) +
                " identifiers, got " + std::to_string(n));
}

// Whether some identifier not yet used starts with the decimal digits of `number`.
bool PermutationConstraint::prefix_of_unused(const State& s, std::size_t number) const {
  for (std::size_t lo = number, width = 1; lo <= n_; lo *= 10, width *= 10)
    for (std::size_t id = lo; id < lo + width && id <= n_; ++id)
      if (id >= 1 && !s.used[id]) return true;
  return false;
}

bool PermutationConstraint::step(State& s, char c) const {
  switch (s.phase) {
    case Phase::Open:
      if (c != '[') return false;
      s.phase = Phase::Digits, s.number = 0, s.digits = 0;
      return true;
    case Phase::Digits:
      if (c >= '0' && c <= '9') {
        if (s.digits == 0 && c == '0') return false;
        const std::size_t next = s.number * 10 + static_cast<std::size_t>(c - '0');
        if (!prefix_of_unused(s, next)) return false;
        s.number = next, ++s.digits;
        return true;
      }
      if (c != ']' || s.digits == 0 || s.number > n_ || s.used[s.number]) return false;
      s.used[s.number] = true;
      s.phase = ++s.used_count == n_ ? Phase::Done : Phase::Separator;
      s.separator_chars = 0;
      return true;
    case Phase::Separator: {
      constexpr std::string_view kSeparator = " > ";
      if (c != kSeparator[s.separator_chars]) return false;
      if (++s.separator_chars == kSeparator.size()) s.phase = Phase::Open;
      return true;
    }
    case Phase::Done:
      return false;
  }
  return false;
}

bool PermutationConstraint::allows(std::string_view piece) const {
  if (piece.empty()) return false;
  State s = state_;
  for (char c : piece)
    if (!step(s, c)) return false;
  return true;
}

void PermutationConstraint::accept(std::string_view piece) {
  for (char c : piece)
    if (!step(state_, c)) throw Error("internal error: a permutation constraint accepted a disallowed token");
}

std::vector<std::size_t> parse_permutation(const std::string& text, std::size_t n, bool* complete) {
  std::vector<std::size_t> order;
  std::vector<bool> seen(n, false);
  bool clean = true;  // no repeated or unknown label
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
    } else {
      clean = false;
    }
    i = j;
  }
  if (complete) *complete = clean && order.size() == n;
  for (std::size_t p = 0; p < n; ++p)
    if (!seen[p]) order.push_back(p);
  return order;
}

}  // namespace rerank::llm
