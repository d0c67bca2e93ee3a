// What LLMs answer listwise prompts with: parse_permutation must turn any text into a permutation
// of the window (repairing what the model got wrong), and the decoding automaton
// (PermutationConstraint) fed the text in pieces must only ever accept an answer that parses as a
// complete permutation without repair. Control byte: the window size (1..128); bytes 0x01 in the
// payload cut it into the pieces (tokens) offered to the automaton.
#include <algorithm>

#include "fuzz_input.h"
#include "rerankers/permutation_constraint.h"

namespace {
void check(std::size_t n, std::string_view payload) {
  std::string text(payload);
  std::replace(text.begin(), text.end(), '\x01', ' ');
  bool complete = false;
  std::vector<std::size_t> order = rerank::llm::parse_permutation(text, n, &complete);
  std::sort(order.begin(), order.end());
  for (std::size_t i = 0; i < n; ++i)
    if (order.size() != n || order[i] != i) std::abort();

  rerank::llm::PermutationConstraint constraint(n);
  std::string accepted;
  std::size_t begin = 0;
  while (begin <= payload.size() && !constraint.complete()) {
    const std::size_t end = std::min(payload.find('\x01', begin), payload.size());
    const std::string_view piece = payload.substr(begin, end - begin);
    if (!piece.empty() && constraint.allows(piece)) {
      constraint.accept(piece);
      accepted += piece;
    }
    begin = end + 1;
  }
  if (constraint.complete()) {
    bool parsed_complete = false;
    rerank::llm::parse_permutation(accepted, n, &parsed_complete);
    if (!parsed_complete) std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const rerank::fuzz::Control input = rerank::fuzz::split_control(data, size);
  const std::uint8_t control = input.byte;
  const std::string_view payload = input.payload;
  const std::size_t n = 1 + control % rerank::llm::kMaxPermutationIds;
  rerank::fuzz::expect_clean_outcome([&] { check(n, payload); });
  return 0;
}
