// Statistics over seeds as upstream's run_statistical_analysis reports them: values x 100, numpy mean
// and std (ddof = 1), and the 95% confidence interval mean -/+ t(0.975, n - 1) std / sqrt(n) with
// Student's t quantile computed here (regularised incomplete beta, inverted by bisection).
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/eval/text.hpp"

namespace ecgbench::eval {

namespace detail {
// Regularised incomplete beta I_x(a, b) by its continued fraction (modified Lentz).
inline double incomplete_beta(double x, double a, double b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1.0 - incomplete_beta(1.0 - x, b, a);
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x)) / a;
  const double tiny = 1e-300;
  double f = 1.0, c = 1.0, d = 0.0;
  for (int i = 0; i <= 400; ++i) {
    const int m = i / 2;
    double num;
    if (i == 0) num = 1.0;
    else if (i % 2 == 0) num = (m * (b - m) * x) / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
    else num = -((a + m) * (a + b + m) * x) / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
    d = 1.0 + num * d;
    if (std::abs(d) < tiny) d = tiny;
    d = 1.0 / d;
    c = 1.0 + num / c;
    if (std::abs(c) < tiny) c = tiny;
    const double cd = c * d;
    f *= cd;
    if (std::abs(1.0 - cd) < 1e-16) break;
  }
  return front * (f - 1.0);
}
}  // namespace detail

/// Student's t CDF with `df` degrees of freedom.
inline double student_t_cdf(double t, double df) {
  const double x = df / (df + t * t);
  const double tail = 0.5 * detail::incomplete_beta(x, df / 2.0, 0.5);
  return t >= 0 ? 1.0 - tail : tail;
}

/// Student's t quantile (e.g. p = 0.975), to about 1e-13 relative.
inline double student_t_quantile(double p, double df) {
  if (!(p > 0 && p < 1) || !(df > 0)) throw Error("t quantile needs 0 < p < 1 and df > 0");
  if (p < 0.5) return -student_t_quantile(1.0 - p, df);
  double lo = 0, hi = 1;
  while (student_t_cdf(hi, df) < p) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

struct MetricStats {
  double mean = 0, std = 0, ci_low = 0, ci_high = 0;
};

/// Mean, sample std and 95% CI of per-seed values (already x 100). `t` overrides the quantile
/// (for comparing with a given scipy's value); by default it is computed.
inline MetricStats summarize(const std::vector<double>& values, double t = std::numeric_limits<double>::quiet_NaN()) {
  if (values.size() < 2) throw Error("statistics need at least 2 seeds, got " + std::to_string(values.size()));
  MetricStats s;
  s.mean = numpy_mean(values);
  std::vector<double> sq(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) sq[i] = (values[i] - s.mean) * (values[i] - s.mean);
  s.std = std::sqrt(numpy_sum(sq) / static_cast<double>(values.size() - 1));
  if (std::isnan(t)) t = student_t_quantile(0.975, static_cast<double>(values.size() - 1));
  const double scale = s.std / std::sqrt(static_cast<double>(values.size()));
  s.ci_low = -t * scale + s.mean;
  s.ci_high = t * scale + s.mean;
  return s;
}

}  // namespace ecgbench::eval
