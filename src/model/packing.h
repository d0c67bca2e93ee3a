// How the runtimes lay sequences out in forward passes (private): which sequences share a pass, the
// batch-invariant slot each takes, and a sequence longer than one pass fed in consecutive slices.
#pragma once
#include <llama.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "model/llama_session.h"

namespace rerank::detail {

// Order in which to evaluate sequences: by length, ties by index (deterministic), then cut into
// groups of at most `max_tokens` tokens and `max_sequences` members. A sequence longer than
// `max_tokens` forms a group of its own.
std::vector<std::vector<std::size_t>> pack_by_length(const std::vector<std::size_t>& lengths,
                                                     std::size_t max_tokens, std::size_t max_sequences);

// The batch-invariant layout of sequences in forward passes (see kInvariantBatchTokens): with
// RuntimeOptions::align_sequences a sequence shorter than one block takes an aligned slot padded
// by a sequence of its own, so that short ones share passes; a longer one runs alone, unpadded (fed
// in slices when longer than a pass). Without alignment a sequence takes just its tokens.
class PassLayout {
 public:
  explicit PassLayout(bool align_sequences)
      : align_(align_sequences ? static_cast<std::size_t>(kInvariantBatchTokens) : 1) {}

  std::size_t align() const { return align_; }
  std::size_t round_up(std::size_t tokens) const { return (tokens + align_ - 1) / align_ * align_; }
  // Whether a sequence of this many tokens runs alone in its pass (detail::runs_alone, when aligned).
  bool alone(std::size_t length) const { return align_ > 1 && runs_alone(length); }
  // The tokens each sequence takes when packing passes of `budget` tokens: one running alone the
  // whole pass (more when it must be fed in slices), any other its aligned slot.
  std::vector<std::size_t> footprints(const std::vector<std::size_t>& lengths, std::size_t budget) const {
    std::vector<std::size_t> out(lengths.size());
    for (std::size_t i = 0; i < lengths.size(); ++i)
      out[i] = alone(lengths[i]) ? std::max(budget, round_up(lengths[i])) : round_up(lengths[i]);
    return out;
  }

 private:
  std::size_t align_;
};

// Whether feed_in_slices marks the sequence's last token for output.
enum class OutputLast : bool { No, Yes };

// Feeds `tokens` as sequence `seq`, at positions first_pos, first_pos + 1, ..., in consecutive
// forward passes of at most `slice` tokens. After filling each slice calls decode_slice(), which
// pads, decodes and books the pass as the runtime needs. Returns the batch index of the last token
// added (that of the sequence's last token in the last pass; -1 when `tokens` is empty).
template <typename DecodeSlice>
int feed_in_slices(Batch& batch, std::span<const llama_token> tokens, llama_pos first_pos, llama_seq_id seq,
                   std::size_t slice, OutputLast output_last, DecodeSlice&& decode_slice) {
  int last = -1;
  for (std::size_t begin = 0; begin < tokens.size(); begin += slice) {
    batch.clear();
    const std::size_t end = std::min(tokens.size(), begin + slice);
    for (std::size_t p = begin; p < end; ++p)
      last = batch.add(tokens[p], first_pos + static_cast<llama_pos>(p), seq,
                       output_last == OutputLast::Yes && p + 1 == tokens.size());
    decode_slice();
  }
  return last;
}

}  // namespace rerank::detail
