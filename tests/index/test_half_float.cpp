// Software half-float conversions (src/index/half_float.h) against the F16C instructions: every one
// of the 65,536 halves to float, and floats to half across every exponent, with ties, subnormals,
// overflow and infinities, as vcvtps2ph rounds them (to nearest, ties to even).
#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "index/half_float.h"

namespace rerank {
namespace {

__attribute__((target("f16c"))) float hardware_to_float(std::uint16_t h) {
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}
__attribute__((target("f16c"))) std::uint16_t hardware_from_float(float f) {
  return static_cast<std::uint16_t>(
      _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}
std::uint32_t bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
float from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

TEST(HalfFloat, EveryHalfWidensAsF16cDoes) {
  if (!half::cpu_has_f16c()) GTEST_SKIP() << "no F16C on this CPU";
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const float soft = half::to_float(static_cast<std::uint16_t>(h)),
                hard = hardware_to_float(static_cast<std::uint16_t>(h));
    if (std::isnan(hard)) {
      EXPECT_TRUE(std::isnan(soft)) << h;
    } else {
      ASSERT_EQ(bits(soft), bits(hard)) << "half 0x" << std::hex << h;
    }
  }
}

TEST(HalfFloat, FloatsNarrowAsF16cRoundsThem) {
  if (!half::cpu_has_f16c()) GTEST_SKIP() << "no F16C on this CPU";
  // Every float whose low 12 bits are one of the patterns that decide rounding (below, at and above
  // the halfway point, odd and even kept bits), over all exponents and signs: 2^20 x 2 x 8 floats.
  const std::uint32_t lows[] = {0x000, 0x001, 0xfff, 0x1000, 0x0fff, 0x1001, 0x2000, 0x3000};
  std::size_t checked = 0;
  for (std::uint32_t high = 0; high < (1u << 19); ++high)
    for (const std::uint32_t low : lows) {
      const float f = from_bits((high << 13) | low);
      if (std::isnan(f)) continue;
      ASSERT_EQ(half::from_float(f), hardware_from_float(f)) << "float bits 0x" << std::hex << bits(f);
      ASSERT_EQ(half::from_float(-f), hardware_from_float(-f)) << "float bits 0x" << std::hex << bits(-f);
      ++checked;
    }
  EXPECT_GT(checked, 4000000u);
  EXPECT_EQ(half::from_float(65504.0f), 0x7bffu);       // the largest half
  EXPECT_EQ(half::from_float(65520.0f), 0x7c00u);       // halfway to 65536: rounds to infinity
  EXPECT_EQ(half::from_float(5.9604645e-8f), 0x0001u);  // the smallest subnormal
  EXPECT_EQ(half::from_float(2.9802322e-8f), 0x0000u);  // half of it: ties to even, zero
  EXPECT_EQ(half::from_float(std::numeric_limits<float>::infinity()), 0x7c00u);
  EXPECT_TRUE(std::isnan(half::to_float(half::from_float(std::numeric_limits<float>::quiet_NaN()))));
}

}  // namespace
}  // namespace rerank
