// Query-to-row inner products for the HNSW graph (see hnsw_scorer.h). The AVX2 kernels keep two
// partial sums per row (eight for four rows), enough independent FMAs to cover their latency; F16
// rows are widened by F16C and INT8 rows by sign extension, then multiplied by their scale.
#include "index/hnsw_scorer.h"

#include <immintrin.h>

#include <cstring>

#include "index/half_float.h"

namespace rerank::hnsw {

using half::Half;

namespace {

// ---- Portable loops (CPUs without AVX2/FMA/F16C) ----

template <typename T>
float dot_portable(const float* q, const T* row, std::size_t n) {
  constexpr std::size_t kLanes = 8;
  float lanes[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (std::size_t j = 0; j < kLanes; ++j) lanes[j] += q[i + j] * static_cast<float>(row[i + j]);
  float sum =
      ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
  for (; i < n; ++i) sum += q[i] * static_cast<float>(row[i]);
  return sum;
}

float int8_scale(const std::uint8_t* row) {
  float scale;
  std::memcpy(&scale, row, 4);
  return scale;
}

float one_f32(const float* q, const std::uint8_t* row, std::size_t n) {
  return dot_portable(q, reinterpret_cast<const float*>(row), n);
}
float one_f16(const float* q, const std::uint8_t* row, std::size_t n) {
  return dot_portable(q, reinterpret_cast<const Half*>(row), n);
}
float one_i8(const float* q, const std::uint8_t* row, std::size_t n) {
  return int8_scale(row) * dot_portable(q, reinterpret_cast<const std::int8_t*>(row + 4), n);
}

template <RowScorer::OneFn One>
void four_portable(const float* q, const std::uint8_t* const* rows, std::size_t n, float* out) {
  for (int r = 0; r < 4; ++r) out[r] = One(q, rows[r], n);
}

// ---- AVX2 + FMA + F16C ----

#define RERANK_AVX2 __attribute__((target("avx2,fma,f16c")))

RERANK_AVX2 inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
RERANK_AVX2 inline __m256 load8(const Half* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
RERANK_AVX2 inline __m256 load8(const std::int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

RERANK_AVX2 inline float horizontal_sum(__m256 v) {
  const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 pairs = _mm_add_ps(half, _mm_movehl_ps(half, half));
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)));
}

template <typename T>
RERANK_AVX2 float dot_avx2(const float* q, const T* row, std::size_t n) {
  __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a = _mm256_fmadd_ps(load8(q + i), load8(row + i), a);
    b = _mm256_fmadd_ps(load8(q + i + 8), load8(row + i + 8), b);
  }
  if (i + 8 <= n) {
    a = _mm256_fmadd_ps(load8(q + i), load8(row + i), a);
    i += 8;
  }
  float sum = horizontal_sum(_mm256_add_ps(a, b));
  for (; i < n; ++i) sum += q[i] * static_cast<float>(row[i]);
  return sum;
}

template <typename T>
RERANK_AVX2 void dot4_avx2(const float* q, const T* const* rows, std::size_t n, float* out) {
  __m256 acc[8];
  for (auto& a : acc) a = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 q0 = load8(q + i), q1 = load8(q + i + 8);
    for (int r = 0; r < 4; ++r) {
      acc[2 * r] = _mm256_fmadd_ps(q0, load8(rows[r] + i), acc[2 * r]);
      acc[2 * r + 1] = _mm256_fmadd_ps(q1, load8(rows[r] + i + 8), acc[2 * r + 1]);
    }
  }
  if (i + 8 <= n) {
    const __m256 q0 = load8(q + i);
    for (int r = 0; r < 4; ++r) acc[2 * r] = _mm256_fmadd_ps(q0, load8(rows[r] + i), acc[2 * r]);
    i += 8;
  }
  for (int r = 0; r < 4; ++r) {
    float sum = horizontal_sum(_mm256_add_ps(acc[2 * r], acc[2 * r + 1]));
    for (std::size_t j = i; j < n; ++j) sum += q[j] * static_cast<float>(rows[r][j]);
    out[r] = sum;
  }
}

RERANK_AVX2 float one_f32_avx2(const float* q, const std::uint8_t* row, std::size_t n) {
  return dot_avx2(q, reinterpret_cast<const float*>(row), n);
}
RERANK_AVX2 float one_f16_avx2(const float* q, const std::uint8_t* row, std::size_t n) {
  return dot_avx2(q, reinterpret_cast<const Half*>(row), n);
}
RERANK_AVX2 float one_i8_avx2(const float* q, const std::uint8_t* row, std::size_t n) {
  return int8_scale(row) * dot_avx2(q, reinterpret_cast<const std::int8_t*>(row + 4), n);
}

template <typename T>
RERANK_AVX2 void four_avx2(const float* q, const std::uint8_t* const* rows, std::size_t n, float* out) {
  const T* typed[4];
  for (int r = 0; r < 4; ++r) typed[r] = reinterpret_cast<const T*>(rows[r]);
  dot4_avx2(q, typed, n, out);
}
RERANK_AVX2 void four_i8_avx2(const float* q, const std::uint8_t* const* rows, std::size_t n, float* out) {
  const std::int8_t* typed[4];
  for (int r = 0; r < 4; ++r) typed[r] = reinterpret_cast<const std::int8_t*>(rows[r] + 4);
  dot4_avx2(q, typed, n, out);
  for (int r = 0; r < 4; ++r) out[r] *= int8_scale(rows[r]);
}

bool cpu_has_avx2_fma_f16c() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && half::cpu_has_f16c();
}

}  // namespace

RowScorer::RowScorer(const VectorSet& vectors)
    : precision_(vectors.precision()),
      base_(vectors.num_rows() ? vectors.row(0) : nullptr),
      row_bytes_(vector_row_bytes(vectors.precision(), vectors.dims())),
      dims_(vectors.dims()),
      rows_(vectors.num_rows()) {
  const bool fast = cpu_has_avx2_fma_f16c();
  switch (precision_) {
    case VectorPrecision::kF32:
      one_ = fast ? one_f32_avx2 : one_f32;
      four_ = fast ? four_avx2<float> : four_portable<one_f32>;
      break;
    case VectorPrecision::kF16:
      one_ = fast ? one_f16_avx2 : one_f16;
      four_ = fast ? four_avx2<Half> : four_portable<one_f16>;
      break;
    case VectorPrecision::kInt8:
      one_ = fast ? one_i8_avx2 : one_i8;
      four_ = fast ? four_i8_avx2 : four_portable<one_i8>;
      break;
  }
}

const float* RowScorer::as_query(std::uint32_t row, std::vector<float>& buffer) const {
  if (precision_ == VectorPrecision::kF32) return reinterpret_cast<const float*>(at(row));
  buffer.resize(dims_);
  decode_vector_rows(precision_, at(row), 1, dims_, buffer.data());
  return buffer.data();
}

}  // namespace rerank::hnsw
