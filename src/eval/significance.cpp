// Paired significance tests for `rerank compare`: Student's t-test (its distribution through the
// regularized incomplete beta function) and a sign-flip randomization test with a fixed seed.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "rerank/error.h"
#include "rerank/eval.h"

namespace rerank::eval {

namespace {

// Continued fraction of I_x(a, b) (the even/odd terms d_2m, d_2m+1), evaluated with the modified
// Lentz method; converges quickly for x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEpsilon = 1e-15;
  constexpr int kMaxIterations = 10000;
  auto guard = [](double v) { return std::fabs(v) < kTiny ? kTiny : v; };
  double c = 1.0;
  double d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double two_m = 2.0 * m;
    const double even = m * (b - m) * x / ((a + two_m - 1.0) * (a + two_m));
    d = 1.0 / guard(1.0 + even * d);
    c = guard(1.0 + even / c);
    h *= d * c;
    const double odd = -(a + m) * (a + b + m) * x / ((a + two_m) * (a + two_m + 1.0));
    d = 1.0 / guard(1.0 + odd * d);
    c = guard(1.0 + odd / c);
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1.0) < kEpsilon) break;
  }
  return h;
}

}  // namespace

double incomplete_beta(double a, double b, double x) {
  if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0.0 || x == 1.0) return x;
  // x^a (1-x)^b / B(a, b), in logs to avoid overflow for large a, b.
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  // Use the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the continued fraction converges faster.
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * beta_continued_fraction(a, b, x) / a;
  return 1.0 - std::exp(log_front) * beta_continued_fraction(b, a, 1.0 - x) / b;
}

double student_t_two_sided_p(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(t)) return 0.0;
  // P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2)
  return incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
}

PairedTest paired_test(const std::vector<double>& a, const std::vector<double>& b, std::size_t permutations,
                       std::uint64_t seed) {
  if (a.size() != b.size()) throw Error("paired test needs the same queries in both runs");
  PairedTest r;
  r.n = a.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (r.n == 0) {
    r.t = r.p_t = nan;
    return r;
  }
  std::vector<double> diff(r.n);
  double sum_a = 0, sum_b = 0, sum_d = 0;
  for (std::size_t i = 0; i < r.n; ++i) {
    sum_a += a[i];
    sum_b += b[i];
    diff[i] = b[i] - a[i];
    sum_d += diff[i];
    if (a[i] > b[i])
      ++r.a_wins;
    else if (a[i] < b[i])
      ++r.b_wins;
    else
      ++r.ties;
  }
  const double n = static_cast<double>(r.n);
  r.mean_a = sum_a / n;
  r.mean_b = sum_b / n;
  const double mean_d = sum_d / n;

  // Paired t-test on the differences b - a, n - 1 degrees of freedom.
  if (r.n < 2) {
    r.t = r.p_t = nan;
  } else {
    double ss = 0;
    for (double d : diff) ss += (d - mean_d) * (d - mean_d);
    const double sd = std::sqrt(ss / (n - 1.0));
    if (sd == 0.0) {
      // Every difference equal: no variance. Identical runs are not different at all; a constant
      // non-zero shift is as different as it gets.
      r.t = mean_d == 0.0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), mean_d);
      r.p_t = mean_d == 0.0 ? 1.0 : 0.0;
    } else {
      r.t = mean_d / (sd / std::sqrt(n));
      r.p_t = student_t_two_sided_p(r.t, n - 1.0);
    }
  }

  // Randomization test: under the null hypothesis each query's difference is as likely to have
  // either sign. Each permutation flips every sign with probability 1/2 (one random bit per query,
  // taken from mt19937_64, whose output the C++ standard fixes, so results are the same
  // everywhere); p = (permutations at least as extreme + 1) / (permutations + 1).
  if (permutations == 0) return r;
  std::mt19937_64 rng(seed);
  const double observed = std::fabs(sum_d);
  const double tolerance = 1e-12 * std::max(1.0, observed);  // sums of the same terms in another order
  std::size_t extreme = 0;
  for (std::size_t p = 0; p < permutations; ++p) {
    double s = 0;
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < r.n; ++i) {
      if (i % 64 == 0) bits = rng();
      s += (bits & 1) ? -diff[i] : diff[i];
      bits >>= 1;
    }
    if (std::fabs(s) >= observed - tolerance) ++extreme;
  }
  r.p_perm = static_cast<double>(extreme + 1) / static_cast<double>(permutations + 1);
  return r;
}

}  // namespace rerank::eval
