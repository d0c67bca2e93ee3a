// The significance tests of `rerank compare`, against closed forms of the beta and Student t
// distributions and an exactly enumerable randomization test.
#include <gtest/gtest.h>

#include <cmath>

#include "rerank/eval.h"

using rerank::eval::incomplete_beta;
using rerank::eval::paired_test;
using rerank::eval::student_t_two_sided_p;

namespace {

TEST(IncompleteBeta, ClosedForms) {
  EXPECT_NEAR(incomplete_beta(1, 1, 0.3), 0.3, 1e-14);        // I_x(1,1) = x
  EXPECT_NEAR(incomplete_beta(2, 1, 0.3), 0.09, 1e-14);       // I_x(a,1) = x^a
  EXPECT_NEAR(incomplete_beta(1, 3, 0.3), 1 - 0.343, 1e-14);  // I_x(1,b) = 1 - (1-x)^b
  EXPECT_NEAR(incomplete_beta(0.5, 0.5, 0.5), 0.5, 1e-14);    // symmetric at 1/2
  EXPECT_NEAR(incomplete_beta(40, 40, 0.5), 0.5, 1e-12);
  EXPECT_EQ(incomplete_beta(2, 3, 0.0), 0.0);
  EXPECT_EQ(incomplete_beta(2, 3, 1.0), 1.0);
  EXPECT_TRUE(std::isnan(incomplete_beta(2, 3, 1.5)));
  EXPECT_TRUE(std::isnan(incomplete_beta(-1, 3, 0.5)));
}

TEST(StudentT, TwoSidedPValuesMatchClosedForms) {
  // df = 1 (Cauchy): p = 1 - (2/pi) atan(t)
  EXPECT_NEAR(student_t_two_sided_p(1.0, 1), 0.5, 1e-12);
  EXPECT_NEAR(student_t_two_sided_p(3.0, 1), 0.20483276469913336, 1e-12);
  // df = 2: p = 1 - t / sqrt(2 + t^2)
  EXPECT_NEAR(student_t_two_sided_p(2.0, 2), 0.18350341907227385, 1e-12);
  EXPECT_NEAR(student_t_two_sided_p(-2.0, 2), 0.18350341907227385, 1e-12);
  // Tabulated 97.5% quantiles give p = 0.05.
  EXPECT_NEAR(student_t_two_sided_p(2.228138852, 10), 0.05, 1e-8);
  EXPECT_NEAR(student_t_two_sided_p(1.959963985, 1e7), 0.05, 1e-6);  // normal limit
  EXPECT_EQ(student_t_two_sided_p(0.0, 5), 1.0);
  EXPECT_EQ(student_t_two_sided_p(INFINITY, 5), 0.0);
}

TEST(PairedTest, TTestWinsTiesAndMeans) {
  const std::vector<double> a = {0.1, 0.2, 0.3, 0.4};
  const std::vector<double> b = {0.2, 0.4, 0.3, 0.8};
  const auto r = paired_test(a, b);
  EXPECT_EQ(r.n, 4u);
  EXPECT_NEAR(r.mean_a, 0.25, 1e-15);
  EXPECT_NEAR(r.mean_b, 0.425, 1e-15);
  // d = b - a = {0.1, 0.2, 0, 0.4}: mean 0.175, sum of squared deviations 0.0875,
  // sd = sqrt(0.0875 / 3), t = 0.175 / (sd / 2) = 2.0493902; df = 3:
  // p = 1 - (2/pi)(atan(u) + u / (1 + u^2)), u = t / sqrt(3) -> 0.1328418
  EXPECT_NEAR(r.t, 2.04939015319192, 1e-12);
  EXPECT_NEAR(r.p_t, 0.13284184055977566, 1e-10);
  EXPECT_EQ(r.a_wins, 0u);
  EXPECT_EQ(r.ties, 1u);
  EXPECT_EQ(r.b_wins, 3u);
}

TEST(PairedTest, RandomizationTestApproachesTheExactPermutationPValue) {
  // The signs of d = {0.1, 0.2, 0, 0.4} give 8 distinct sums; |sum| >= 0.7 for +++ and --- only,
  // so the exact p-value is 2/8 = 0.25.
  const std::vector<double> a = {0.1, 0.2, 0.3, 0.4};
  const std::vector<double> b = {0.2, 0.4, 0.3, 0.8};
  const auto r = paired_test(a, b);
  EXPECT_NEAR(r.p_perm, 0.25, 0.015);
  // The seed is fixed: the same call gives the same p-value, a different seed may not.
  EXPECT_EQ(paired_test(a, b).p_perm, r.p_perm);
  EXPECT_NEAR(paired_test(a, b, 10000, 7).p_perm, 0.25, 0.015);
}

TEST(PairedTest, IdenticalRunsAreNotDifferent) {
  const std::vector<double> a = {0.5, 0.25, 1.0};
  const auto r = paired_test(a, a);
  EXPECT_EQ(r.t, 0.0);
  EXPECT_EQ(r.p_t, 1.0);
  EXPECT_EQ(r.p_perm, 1.0);
  EXPECT_EQ(r.ties, 3u);
}

TEST(PairedTest, ConstantShiftHasZeroPValueForTheTTest) {
  const auto r = paired_test({0.25, 0.5, 0.75}, {0.5, 0.75, 1.0});  // every difference exactly 0.25
  EXPECT_TRUE(std::isinf(r.t));
  EXPECT_EQ(r.p_t, 0.0);
  // 3 non-zero differences: 8 sign patterns, 2 as extreme -> about 0.25.
  EXPECT_NEAR(r.p_perm, 0.25, 0.015);
}

TEST(PairedTest, SingleQueryHasNoTTest) {
  const auto r = paired_test({0.1}, {0.3});
  EXPECT_TRUE(std::isnan(r.t));
  EXPECT_TRUE(std::isnan(r.p_t));
  EXPECT_EQ(r.b_wins, 1u);
}

}  // namespace
