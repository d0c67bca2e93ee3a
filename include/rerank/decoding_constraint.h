// A check on what greedy decoding may write next, for outputs a grammar cannot describe compactly.
#pragma once
#include <string_view>

namespace rerank {

// Restricts greedy decoding to the tokens a checker allows, given the text accepted so far: for
// constraints no grammar of reasonable size expresses, such as "a permutation of n identifiers"
// (a context-free grammar for it needs 2^n rules).
class DecodingConstraint {
 public:
  virtual ~DecodingConstraint() = default;
  // Whether a token whose text is `piece` may come next (never called with an empty piece).
  virtual bool allows(std::string_view piece) const = 0;
  virtual void accept(std::string_view piece) = 0;
  // The output is finished: generation stops here, as at an end-of-generation token.
  virtual bool complete() const = 0;
  // Every character an allowed piece can hold, or empty when any can. When the model's best token is
  // refused, the runtime then checks only the tokens spelled with these characters instead of the
  // whole vocabulary (150,000 tokens for Qwen): the same choice, found much faster.
  virtual std::string_view alphabet() const { return {}; }
};

}  // namespace rerank
