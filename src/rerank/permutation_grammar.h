// Constrained generation for listwise reranking: a GBNF grammar (llama.cpp syntax) for the answer
// "[3] > [1] > [2]" over a window's numeric identifiers, and the parser that turns any answer into a
// permutation of the window.
//
// A context-free grammar that accepts exactly the permutations of n items needs a number of rules
// exponential in n (it must remember which identifiers were used), so the grammar is exact only up to
// kExactPermutationLimit identifiers (2^n - 1 rules). Above that it enforces the format, the range of
// every identifier and the count n; parse_permutation then drops repeats and appends the missing
// identifiers in their prior order, so the result is always a permutation.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace rerank::llm {

inline constexpr std::size_t kExactPermutationLimit = 9;

// Grammar whose root rule accepts the ranking of identifiers 1..n (n >= 1).
std::string permutation_grammar(std::size_t n);

// The 0-based window positions named by "[k]" in `text`, in order of first mention, ignoring
// identifiers outside 1..n and repeats, followed by the positions never mentioned in window order.
std::vector<std::size_t> parse_permutation(const std::string& text, std::size_t n);

}  // namespace rerank::llm
