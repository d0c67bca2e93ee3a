// IEEE binary16 ("half") floats as F16 vector rows store them: their 16 bits. Converted exactly in
// software here (to half: rounding to nearest, ties to even, as F16C and C's _Float16 do), and by
// F16C in the loops that need speed (vector_rows.cpp, hnsw_scorer.cpp). Not _Float16 itself:
// clang before 15 (Debian 12's is 14, the fuzzing build's compiler) has no _Float16 on x86.
#pragma once
#include <cpuid.h>

#include <cstdint>
#include <cstring>

namespace rerank::half {

inline float to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0) {  // zero or subnormal: mantissa x 2^-24, exact in float
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    std::memcpy(&bits, &magnitude, 4);
    bits |= sign;
  } else if (exponent == 31) {  // infinity or NaN
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

inline std::uint16_t from_float(float value) {
  std::uint32_t x;
  std::memcpy(&x, &value, 4);
  const std::uint32_t sign = x & 0x80000000u;
  x ^= sign;
  std::uint32_t out;
  if (x >= 0x47800000u) {  // 2^16 and above: infinity (NaN stays a quiet NaN)
    out = x > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (x < 0x38800000u) {  // below 2^-14: a subnormal half or zero
    // Adding 0.5 puts the half's ten mantissa bits at the bottom of the float, rounded to nearest even.
    float shifted;
    std::memcpy(&shifted, &x, 4);
    shifted += 0.5f;
    std::memcpy(&out, &shifted, 4);
    out -= 0x3f000000u;
  } else {  // rebias the exponent and round the 13 dropped bits to nearest even
    const std::uint32_t odd = (x >> 13) & 1u;
    x += (static_cast<std::uint32_t>(15 - 127) << 23) + 0xfffu + odd;
    out = x >> 13;  // a carry out of 65504 lands on infinity
  }
  return static_cast<std::uint16_t>(out | (sign >> 16));
}

// One stored half, convertible like a float.
struct Half {
  std::uint16_t bits;
  explicit operator float() const { return to_float(bits); }
};

// F16C conversions (with the AVX state the OS must save for them).
inline bool cpu_has_f16c() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  if (!(c & bit_F16C) || !(c & bit_AVX) || !(c & bit_OSXSAVE)) return false;
  std::uint32_t xcr0_low, xcr0_high;
  __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  return (xcr0_low & 0x6u) == 0x6u;  // XMM and YMM state enabled
}

}  // namespace rerank::half
