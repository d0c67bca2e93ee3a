// Lucene's BM25Similarity (Lucene 8 and later), float for float, so scores and ties come out as
// Anserini's do. See docs/first-stage.md for the formula.
#pragma once
#include <array>
#include <cstdint>

namespace rerank::bm25 {

// SmallFloat.intToByte4 / byte4ToInt: Lucene stores a field's length in one byte, exactly up to
// 39 and with a 4-bit mantissa above (so lengths 40..47 decode to 40, 48..55 to 48, ...).
std::uint8_t encode_length(std::uint32_t length);
std::uint32_t decode_length(std::uint8_t norm);

// idf = ln(1 + (docCount - docFreq + 0.5) / (docFreq + 0.5)), computed in double, returned as float.
float idf(std::uint64_t doc_freq, std::uint64_t doc_count);

// avgdl = sumTotalTermFreq / docCount, as float.
float average_length(std::uint64_t sum_total_term_freq, std::uint64_t doc_count);

// One query term in one field: weight = boost * idf and the 256 precomputed 1/(k1*(1-b+b*dl/avgdl)).
class TermScorer {
 public:
  TermScorer() = default;
  TermScorer(float boost, float idf, float k1, float b, float avgdl);
  // weight - weight / (1 + freq * normInverse): Lucene's monotonic rewrite of weight*freq/(freq+norm).
  float score(float freq, std::uint8_t norm) const {
    return weight_ - weight_ / (1.0f + freq * norm_inverse_[norm]);
  }
  float weight() const { return weight_; }

 private:
  float weight_ = 0;
  std::array<float, 256> norm_inverse_{};
};

}  // namespace rerank::bm25
