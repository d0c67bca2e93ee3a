// Storing vectors as F32, F16 or INT8 rows and reading them back to F32. The loops are compiled for
// several instruction sets and chosen at run time (F16C converts half floats in hardware).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "index/half_float.h"
#include "rerank/error.h"
#include "rerank/vectors.h"

namespace rerank {

std::string to_string(VectorPrecision precision) {
  switch (precision) {
    case VectorPrecision::kF32:
      return "f32";
    case VectorPrecision::kF16:
      return "f16";
    case VectorPrecision::kInt8:
      return "int8";
  }
  return "?";
}

VectorPrecision parse_vector_precision(const std::string& name) {
  if (name == "f32") return VectorPrecision::kF32;
  if (name == "f16") return VectorPrecision::kF16;
  if (name == "int8") return VectorPrecision::kInt8;
  throw Error("unknown vector precision '" + name + "' (choose f32, f16 or int8)");
}

std::size_t vector_row_bytes(VectorPrecision precision, std::size_t dims) {
  switch (precision) {
    case VectorPrecision::kF32:
      return 4 * dims;
    case VectorPrecision::kF16:
      return 2 * dims;
    case VectorPrecision::kInt8:
      return 4 + dims;  // the scale, then the components
  }
  return 0;
}

void encode_vector_row(VectorPrecision precision, const float* in, std::size_t dims, std::uint8_t* out) {
  switch (precision) {
    case VectorPrecision::kF32:
      std::memcpy(out, in, 4 * dims);
      return;
    case VectorPrecision::kF16:
      for (std::size_t i = 0; i < dims; ++i) {
        const std::uint16_t h = half::from_float(in[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return;
    case VectorPrecision::kInt8: {
      float largest = 0;
      for (std::size_t i = 0; i < dims; ++i) largest = std::max(largest, std::fabs(in[i]));
      const float scale = largest > 0 ? largest / 127.0f : 1.0f;
      std::memcpy(out, &scale, 4);
      for (std::size_t i = 0; i < dims; ++i)
        out[4 + i] = static_cast<std::uint8_t>(static_cast<std::int8_t>(std::lround(in[i] / scale)));
      return;
    }
  }
}

namespace {

// Halves [from, n) of `in`, one at a time.
void decode_f16_scalar(const std::uint8_t* in, std::size_t from, std::size_t n, float* out) {
  for (std::size_t i = from; i < n; ++i) {
    std::uint16_t h;
    std::memcpy(&h, in + 2 * i, 2);
    out[i] = half::to_float(h);
  }
}

__attribute__((target("avx,f16c"))) void decode_f16_f16c(const std::uint8_t* in, std::size_t n, float* out) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 2 * i))));
  decode_f16_scalar(in, i, n, out);
}

void decode_f16(const std::uint8_t* in, std::size_t n, float* out) {
  static const bool f16c = half::cpu_has_f16c();
  if (f16c) return decode_f16_f16c(in, n, out);
  decode_f16_scalar(in, 0, n, out);
}

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void decode_int8(
    const std::int8_t* in, std::size_t n, float scale, float* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]) * scale;
}

}  // namespace

void decode_vector_rows(VectorPrecision precision, const std::uint8_t* in, std::size_t rows, std::size_t dims,
                        float* out) {
  switch (precision) {
    case VectorPrecision::kF32:
      std::memcpy(out, in, 4 * rows * dims);
      return;
    case VectorPrecision::kF16:
      decode_f16(in, rows * dims, out);
      return;
    case VectorPrecision::kInt8:
      for (std::size_t r = 0; r < rows; ++r) {
        const std::uint8_t* row = in + r * (4 + dims);
        float scale;
        std::memcpy(&scale, row, 4);
        decode_int8(reinterpret_cast<const std::int8_t*>(row + 4), dims, scale, out + r * dims);
      }
      return;
  }
}

}  // namespace rerank
