// Cubic-spline resampling that reproduces upstream ECG-Bench's `_nsample_ecg`: per lead
// `scipy.interpolate.interp1d(t_o, x, kind="cubic")(t_t)` with t_o = linspace(0, n/fs, n) and
// t_t = linspace(0, n/fs, m). interp1d's "cubic" is an interpolating k=3 B-spline with not-a-knot
// end conditions (scipy make_interp_spline, bc_type=None). Both grids are uniform and span the same
// interval, so the spline is built in sample-index units (h = 1) and evaluated at j (n-1)/(m-1).
// No anti-aliasing: use PolyphaseResampler when signal quality matters more than parity.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "ecgbench/core/cpu_features.hpp"
#include "ecgbench/core/error.hpp"

namespace ecgbench::signal {

/// Second derivatives M of the not-a-knot cubic spline through y[0..n) on a unit grid.
/// Interior: M[i-1] + 4 M[i] + M[i+1] = 6 (y[i-1] - 2 y[i] + y[i+1]). Not-a-knot (continuous third
/// derivative at knots 1 and n-2) gives M[0] = 2 M[1] - M[2] and M[n-1] = 2 M[n-2] - M[n-3], which
/// turns the first and last interior equations into 6 M[1] = d[1] and 6 M[n-2] = d[n-2]; the rest
/// is a (1, 4, 1) tridiagonal system solved by the Thomas algorithm.
inline void not_a_knot_second_derivatives(std::span<const double> y, std::vector<double>& M, std::vector<double>& inv_pivot) {
  const std::size_t n = y.size();
  if (n < 4) throw Error("cubic spline needs at least 4 samples, got " + std::to_string(n));
  M.resize(n);
  auto d = [&](std::size_t i) { return 6.0 * (y[i - 1] - 2.0 * y[i] + y[i + 1]); };
  M[1] = d(1) / 6.0;
  M[n - 2] = d(n - 2) / 6.0;
  // Unknowns M[2..n-3] (k = i - 2). The elimination factors of the (1, 4, 1) matrix depend only on
  // n, so they are computed once per length and reused for every lead and record (the divisions
  // would otherwise dominate: they form a serial dependency chain).
  const std::size_t cnt = n > 4 ? n - 4 : 0;
  if (inv_pivot.size() != cnt + 1 || (cnt > 0 && inv_pivot.back() != static_cast<double>(n))) {
    inv_pivot.resize(cnt + 1);
    double c = 0.0;  // modified super-diagonal of the previous row
    for (std::size_t k = 0; k < cnt; ++k) {
      inv_pivot[k] = 1.0 / (4.0 - c);
      c = inv_pivot[k];
    }
    inv_pivot[cnt] = static_cast<double>(n);  // tag: which length the factors belong to
  }
  if (cnt > 0) {
    double prev = 0.0;
    for (std::size_t k = 0; k < cnt; ++k) {
      const std::size_t i = k + 2;
      double rhs = d(i);
      if (k == 0) rhs -= M[1];
      if (k + 1 == cnt) rhs -= M[n - 2];
      prev = (rhs - prev) * inv_pivot[k];
      M[i] = prev;
    }
    // Back substitution; the super-diagonal factor of row k equals its inverse pivot.
    for (std::size_t k = cnt - 1; k-- > 0;) M[k + 2] -= inv_pivot[k] * M[k + 3];
  }
  M[0] = 2.0 * M[1] - M[2];
  M[n - 1] = 2.0 * M[n - 2] - M[n - 3];
}

/// Resamples `x` (n samples) to `out.size()` samples with upstream's grid convention.
/// `M`/`scratch` are reusable buffers (pass the same ones for every lead to avoid allocation).
inline void resample_cubic(std::span<const double> x, std::span<double> out, std::vector<double>& M, std::vector<double>& inv_pivot) {
  const std::size_t n = x.size(), m = out.size();
  if (m == 0) return;
  not_a_knot_second_derivatives(x, M, inv_pivot);
  const double step = m > 1 ? static_cast<double>(n - 1) / static_cast<double>(m - 1) : 0.0;
  for (std::size_t j = 0; j < m; ++j) {
    const double u = static_cast<double>(j) * step;
    std::size_t i = static_cast<std::size_t>(u);
    if (i > n - 2) i = n - 2;
    const double b = u - static_cast<double>(i), a = 1.0 - b;
    out[j] = M[i] * a * a * a / 6.0 + M[i + 1] * b * b * b / 6.0 + (x[i] - M[i] / 6.0) * a + (x[i + 1] - M[i + 1] / 6.0) * b;
  }
}

inline std::vector<double> resample_cubic(std::span<const double> x, std::size_t m) {
  std::vector<double> out(m), M, scratch;
  resample_cubic(x, out, M, scratch);
  return out;
}

/// Resamples `leads` signals at once, stored interleaved (frame-major, as WFDB stores them):
/// `x` [n][leads] -> `out` [m][leads]. Same arithmetic as `resample_cubic` per lead, but every loop
/// runs across the leads of one row: the tridiagonal sweeps are serial dependency chains, and
/// interleaving independent leads hides their latency and lets the compiler vectorise.
struct CubicBatchScratch {
  std::vector<double> M;  ///< [n][leads]
  std::vector<double> inv_pivot;
};

namespace detail {
// kLeads > 0 fixes the lead count at compile time so that the per-row loops unroll completely.
template <std::size_t kLeads>
[[gnu::always_inline]] inline void resample_cubic_interleaved_impl(const double* __restrict x, std::size_t runtime_leads, std::size_t n,
                                                                   double* __restrict out, std::size_t m, CubicBatchScratch& s) {
  const std::size_t L = kLeads > 0 ? kLeads : runtime_leads;
  if (m == 0 || L == 0) return;
  if (n < 4) throw Error("cubic spline needs at least 4 samples, got " + std::to_string(n));
  const std::size_t cnt = n - 4;
  if (s.inv_pivot.size() != cnt + 1 || s.inv_pivot.back() != static_cast<double>(n)) {
    s.inv_pivot.resize(cnt + 1);
    double c = 0.0;
    for (std::size_t k = 0; k < cnt; ++k) {
      s.inv_pivot[k] = 1.0 / (4.0 - c);
      c = s.inv_pivot[k];
    }
    s.inv_pivot[cnt] = static_cast<double>(n);
  }
  s.M.resize(n * L);
  double* __restrict M = s.M.data();
  auto rhs = [&](std::size_t i, std::size_t l) {
    const double* r = x + i * L + l;
    return 6.0 * (r[-static_cast<std::ptrdiff_t>(L)] - 2.0 * r[0] + r[L]);
  };
  for (std::size_t l = 0; l < L; ++l) {
    M[1 * L + l] = rhs(1, l) / 6.0;
    M[(n - 2) * L + l] = rhs(n - 2, l) / 6.0;
  }
  // Forward elimination over the unknown rows 2..n-3, right-hand sides computed on the fly (the
  // known M[1] and M[n-2] enter the first and last rows).
  for (std::size_t k = 0; k < cnt; ++k) {
    const std::size_t i = k + 2;
    const double inv = s.inv_pivot[k];
    double* __restrict row = M + i * L;
    const double* __restrict prev = k == 0 ? M + 1 * L : row - L;  // k == 0: the known M[1]
    const double* __restrict xm = x + (i - 1) * L;
    const double* __restrict x0 = xm + L;
    const double* __restrict xp = x0 + L;
    for (std::size_t l = 0; l < L; ++l) row[l] = (6.0 * (xm[l] - 2.0 * x0[l] + xp[l]) - prev[l]) * inv;
    if (k + 1 == cnt)
      for (std::size_t l = 0; l < L; ++l) row[l] -= M[(n - 2) * L + l] * inv;
  }
  for (std::size_t l = 0; l < L; ++l) M[(n - 1) * L + l] = 2.0 * M[(n - 2) * L + l] - M[(n - 3) * L + l];

  // Back substitution fused with evaluation: output j needs rows i(j) and i(j)+1, and rows become
  // final from the end downwards, so outputs are produced from the last one backwards as soon as
  // their rows are final. One pass over M instead of two.
  const double step = m > 1 ? static_cast<double>(n - 1) / static_cast<double>(m - 1) : 0.0;
  std::ptrdiff_t j = static_cast<std::ptrdiff_t>(m) - 1;
  auto interval = [&](std::ptrdiff_t jj, double& u) {
    u = static_cast<double>(jj) * step;
    std::size_t i = static_cast<std::size_t>(u);
    return i > n - 2 ? n - 2 : i;
  };
  auto emit_down_to = [&](std::size_t lowest_final_row) {
    while (j >= 0) {
      double u;
      const std::size_t i = interval(j, u);
      if (i < lowest_final_row) return;
      const double b = u - static_cast<double>(i), a = 1.0 - b;
      const double a3 = a * a * a / 6.0, b3 = b * b * b / 6.0;
      const double* Mi = M + i * L;
      const double* Mi1 = Mi + L;
      const double* yi = x + i * L;
      const double* yi1 = yi + L;
      double* o = out + static_cast<std::size_t>(j) * L;
      for (std::size_t l = 0; l < L; ++l)
        o[l] = Mi[l] * a3 + Mi1[l] * b3 + (yi[l] - Mi[l] / 6.0) * a + (yi1[l] - Mi1[l] / 6.0) * b;
      --j;
    }
  };
  emit_down_to(n - 3);  // rows n-3 .. n-1 are final
  for (std::size_t k = cnt >= 1 ? cnt - 1 : 0; k-- > 0;) {
    const double c = s.inv_pivot[k];
    double* row = M + (k + 2) * L;
    const double* next = row + L;
    for (std::size_t l = 0; l < L; ++l) row[l] -= c * next[l];
    emit_down_to(k + 2);
  }
  for (std::size_t l = 0; l < L; ++l) M[l] = 2.0 * M[L + l] - M[2 * L + l];
  emit_down_to(0);
}
// The 12-lead kernel compiled twice: for the baseline ISA and for AVX2 + FMA, chosen at run time.
// (Debian builds for baseline x86-64, i.e. SSE2; the kernel is throughput-bound, so wider vectors
// pay off. FMA contraction changes results only in the last bits.)
inline void resample_cubic_interleaved12_baseline(const double* x, std::size_t n, double* out, std::size_t m, CubicBatchScratch& s) {
  resample_cubic_interleaved_impl<12>(x, 12, n, out, m, s);
}
#if defined(__x86_64__) && defined(__GNUC__)
[[gnu::target("avx2,fma")]] inline void resample_cubic_interleaved12_avx2(const double* x, std::size_t n, double* out, std::size_t m,
                                                                          CubicBatchScratch& s) {
  resample_cubic_interleaved_impl<12>(x, 12, n, out, m, s);
}

#endif
}  // namespace detail

inline void resample_cubic_interleaved(const double* x, std::size_t leads, std::size_t n, double* out, std::size_t m,
                                       CubicBatchScratch& s) {
  if (leads != 12) return detail::resample_cubic_interleaved_impl<0>(x, leads, n, out, m, s);
#if defined(__x86_64__) && defined(__GNUC__)
  if (ecgbench::detail::cpu_has_avx2_fma()) return detail::resample_cubic_interleaved12_avx2(x, n, out, m, s);
#endif
  detail::resample_cubic_interleaved12_baseline(x, n, out, m, s);
}

/// Output length upstream uses: int(n * target / fs) (truncation).
inline std::size_t resampled_length(std::size_t n, double fs, double target_fs) {
  return static_cast<std::size_t>(static_cast<double>(n) * target_fs / fs);
}

}  // namespace ecgbench::signal
