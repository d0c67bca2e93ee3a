#include "model/packing.h"

#include <numeric>

namespace rerank::detail {

std::vector<std::vector<std::size_t>> pack_by_length(const std::vector<std::size_t>& lengths,
                                                     std::size_t max_tokens, std::size_t max_sequences) {
  std::vector<std::size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return lengths[a] < lengths[b]; });
  std::vector<std::vector<std::size_t>> packs;
  std::size_t tokens = 0;
  for (std::size_t i : order) {
    if (packs.empty() || tokens + lengths[i] > max_tokens || packs.back().size() >= max_sequences) {
      packs.emplace_back();
      tokens = 0;
    }
    packs.back().push_back(i);
    tokens += lengths[i];
  }
  return packs;
}

}  // namespace rerank::detail
