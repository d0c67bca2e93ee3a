// Constrained generation for listwise reranking: the answer "[3] > [1] > [2]" must name every
// identifier of the window exactly once. A context-free grammar for that needs a rule per subset of
// identifiers (2^n), so it is checked by a small automaton instead, which the runtime consults for
// each candidate token (rerank::DecodingConstraint). parse_permutation turns any text into a
// permutation, for backends that cannot constrain their output.
#pragma once
#include <bitset>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "rerank/decoding_constraint.h"

namespace rerank::llm {

inline constexpr std::size_t kMaxPermutationIds = 128;

class PermutationConstraint : public DecodingConstraint {
 public:
  // Identifiers 1..n, 1 <= n <= kMaxPermutationIds.
  explicit PermutationConstraint(std::size_t n);
  bool allows(std::string_view piece) const override;
  void accept(std::string_view piece) override;
  bool complete() const override { return state_.phase == Phase::Done; }
  std::string_view alphabet() const override { return "[]0123456789 >"; }

 private:
  enum class Phase { Open, Digits, Separator, Done };
  struct State {
    Phase phase = Phase::Open;
    std::size_t number = 0;
    std::size_t digits = 0;
    std::size_t separator_chars = 0;  // of " > " matched so far
    std::size_t used_count = 0;
    std::bitset<kMaxPermutationIds + 1> used;
  };
  bool step(State& s, char c) const;
  bool prefix_of_unused(const State& s, std::size_t number) const;

  std::size_t n_;
  State state_;
};

// The 0-based window positions named by "[k]" in `text`, in order of first mention, ignoring
// identifiers outside 1..n and repeats, followed by the positions never mentioned in window order.
// `complete` (when given) tells whether the text named each of 1..n exactly once and nothing else,
// i.e. whether the answer was a permutation that needed no repair.
std::vector<std::size_t> parse_permutation(const std::string& text, std::size_t n, bool* complete = nullptr);

}  // namespace rerank::llm
