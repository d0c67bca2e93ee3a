// Inner products between an F32 query and the stored rows of a vector file, in the file's own
// precision, one row or four at a time: the graph search scores a node's neighbours together, and
// four rows share each load of the query. AVX2 + FMA + F16C where the CPU has them (checked once),
// portable loops otherwise.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rerank/vectors.h"

namespace rerank::hnsw {

class RowScorer {
 public:
  explicit RowScorer(const VectorSet& vectors);

  std::size_t dims() const { return dims_; }
  std::uint64_t rows() const { return rows_; }
  float score(const float* query, std::uint32_t row) const { return one_(query, at(row), dims_); }
  // Scores of rows[0..3].
  void score4(const float* query, const std::uint32_t* rows, float* out) const {
    const std::uint8_t* r[4] = {at(rows[0]), at(rows[1]), at(rows[2]), at(rows[3])};
    four_(query, r, dims_, out);
  }
  // Asks for a row's first cache lines ahead of its use; the hardware prefetcher follows on with the
  // rest (prefetching whole rows measured slower).
  void prefetch(std::uint32_t row) const {
    __builtin_prefetch(at(row));
    __builtin_prefetch(at(row) + 64);
  }
  // The row as the F32 vector it stands for (for F32 files, the row itself: no copy).
  const float* as_query(std::uint32_t row, std::vector<float>& buffer) const;

  using OneFn = float (*)(const float*, const std::uint8_t*, std::size_t);
  using FourFn = void (*)(const float*, const std::uint8_t* const*, std::size_t, float*);

 private:
  const std::uint8_t* at(std::uint32_t row) const { return base_ + std::size_t{row} * row_bytes_; }
  VectorPrecision precision_;
  const std::uint8_t* base_;
  std::size_t row_bytes_, dims_;
  std::uint64_t rows_;
  OneFn one_;
  FourFn four_;
};

}  // namespace rerank::hnsw
