#include "rerank/bm25.h"

#include <bit>
#include <cmath>
#include <limits>

namespace rerank::bm25 {
namespace {

// SmallFloat.longToInt4: 3 mantissa bits + implicit leading bit, shift in the upper bits.
std::uint32_t long_to_int4(std::uint64_t i) {
  const int num_bits = 64 - std::countl_zero(i);
  if (num_bits < 4) return static_cast<std::uint32_t>(i);  // subnormal
  const int shift = num_bits - 4;
  std::uint32_t encoded = static_cast<std::uint32_t>(i >> shift) & 0x07u;
  encoded |= static_cast<std::uint32_t>(shift + 1) << 3;
  return encoded;
}

std::uint64_t int4_to_long(std::uint32_t i) {
  const std::uint64_t bits = i & 0x07u;
  const int shift = static_cast<int>(i >> 3) - 1;
  return shift == -1 ? bits : (bits | 0x08u) << shift;
}

// 255 - longToInt4(Integer.MAX_VALUE) = 24 values are stored exactly.
const std::uint32_t kNumFreeValues = 255 - long_to_int4(std::numeric_limits<std::int32_t>::max());

}  // namespace

std::uint8_t encode_length(std::uint32_t length) {
  if (length > static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max()))
    length = static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max());
  if (length < kNumFreeValues) return static_cast<std::uint8_t>(length);
  return static_cast<std::uint8_t>(kNumFreeValues + long_to_int4(length - kNumFreeValues));
}

std::uint32_t decode_length(std::uint8_t norm) {
  if (norm < kNumFreeValues) return norm;
  const std::uint64_t decoded = kNumFreeValues + int4_to_long(norm - kNumFreeValues);
  return static_cast<std::uint32_t>(
      std::min<std::uint64_t>(decoded, std::numeric_limits<std::int32_t>::max()));
}

float idf(std::uint64_t doc_freq, std::uint64_t doc_count) {
  const double n = static_cast<double>(doc_count);
  const double df = static_cast<double>(doc_freq);
  return static_cast<float>(std::log(1.0 + (n - df + 0.5) / (df + 0.5)));
}

float average_length(std::uint64_t sum_total_term_freq, std::uint64_t doc_count) {
  return static_cast<float>(static_cast<double>(sum_total_term_freq) / static_cast<double>(doc_count));
}

TermScorer::TermScorer(float boost, float idf_value, float k1, float b, float avgdl)
    : weight_(boost * idf_value) {
  for (int i = 0; i < 256; ++i) {
    const float length = static_cast<float>(decode_length(static_cast<std::uint8_t>(i)));
    norm_inverse_[static_cast<std::size_t>(i)] = 1.0f / (k1 * ((1 - b) + b * length / avgdl));
  }
}

}  // namespace rerank::bm25
