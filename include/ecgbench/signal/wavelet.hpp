// Discrete wavelet transform as PyWavelets 1.x computes it in 'symmetric' mode (half-sample
// symmetric extension): dwt (filter, keep odd positions), idwt ('valid' part of the upsampled
// convolution), wavedec / waverec over several levels, soft thresholding. Daubechies-6 filters
// as PyWavelets ships them. Works on several interleaved signals ([t][lead]) at once.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/cpu_features.hpp"

namespace ecgbench::signal {

struct WaveletFilters {
  std::vector<double> dec_lo, dec_hi, rec_lo, rec_hi;
};

/// PyWavelets' db6 (12 taps): dec_lo as stored; dec_hi[k] = (-1)^(k+1) dec_lo[F-1-k];
/// rec_* = reversed dec_*.
inline const WaveletFilters& db6() {
  static const WaveletFilters w = [] {
    WaveletFilters f;
    f.dec_lo = {-0.0010773010853084796, 0.004777257510945511, 0.0005538422011614961, -0.03158203931748603,
                0.027522865530305727,   0.09750160558732304,  -0.12976686756726194,  -0.22626469396543983,
                0.31525035170919763,    0.7511339080210954,   0.49462389039845306,   0.11154074335010947};
    const std::size_t F = f.dec_lo.size();
    f.dec_hi.resize(F);
    for (std::size_t k = 0; k < F; ++k) f.dec_hi[k] = (k % 2 == 0 ? -1.0 : 1.0) * f.dec_lo[F - 1 - k];
    f.rec_lo.assign(f.dec_lo.rbegin(), f.dec_lo.rend());
    f.rec_hi.assign(f.dec_hi.rbegin(), f.dec_hi.rend());
    return f;
  }();
  return w;
}

/// Length of each output of one dwt level in symmetric mode: floor((n + F - 1) / 2).
constexpr std::size_t dwt_length(std::size_t n, std::size_t filter_len) { return (n + filter_len - 1) / 2; }

namespace detail {
// Half-sample symmetric index: ... x1 x0 | x0 x1 ... x(n-1) | x(n-1) x(n-2) ...
inline std::size_t symmetric_index(std::ptrdiff_t i, std::ptrdiff_t n) {
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - 1 - i;
  return static_cast<std::size_t>(i);
}
}  // namespace detail

namespace detail {
// kLeads > 0 fixes the lead count at compile time: accumulators then live in registers.
template <std::size_t kLeads>
[[gnu::always_inline]] inline void dwt_impl(const double* __restrict x, std::size_t n, std::size_t runtime_leads, const WaveletFilters& w, double* __restrict out_a,
              double* __restrict out_d) {
  const std::size_t L = kLeads > 0 ? kLeads : runtime_leads;
  const std::size_t F = w.dec_lo.size();
  const std::size_t m = dwt_length(n, F);
  constexpr std::size_t cap = kLeads > 0 ? kLeads : 1;
  for (std::size_t o = 0; o < m; ++o) {
    const std::ptrdiff_t i = static_cast<std::ptrdiff_t>(2 * o + 1);
    const bool interior = i - static_cast<std::ptrdiff_t>(F - 1) >= 0 && i < static_cast<std::ptrdiff_t>(n);
    if (kLeads > 0 && interior) {
      double a[cap] = {}, d[cap] = {};
      for (std::size_t j = 0; j < F; ++j) {
        const double* xs = x + static_cast<std::size_t>(i - static_cast<std::ptrdiff_t>(j)) * L;
        const double hl = w.dec_lo[j], hh = w.dec_hi[j];
        for (std::size_t l = 0; l < cap; ++l) {
          a[l] += hl * xs[l];
          d[l] += hh * xs[l];
        }
      }
      for (std::size_t l = 0; l < cap; ++l) {
        out_a[o * L + l] = a[l];
        out_d[o * L + l] = d[l];
      }
      continue;
    }
    double* a = out_a + o * L;
    double* d = out_d + o * L;
    for (std::size_t l = 0; l < L; ++l) a[l] = d[l] = 0.0;
    for (std::size_t j = 0; j < F; ++j) {
      const std::size_t src = symmetric_index(i - static_cast<std::ptrdiff_t>(j), static_cast<std::ptrdiff_t>(n));
      const double* xs = x + src * L;
      const double hl = w.dec_lo[j], hh = w.dec_hi[j];
      for (std::size_t l = 0; l < L; ++l) {
        a[l] += hl * xs[l];
        d[l] += hh * xs[l];
      }
    }
  }
}

template <std::size_t kLeads>
[[gnu::always_inline]] inline void idwt_impl(const double* __restrict a, const double* __restrict d, std::size_t m, std::size_t runtime_leads, const WaveletFilters& w,
               double* __restrict out) {
  const std::size_t L = kLeads > 0 ? kLeads : runtime_leads;
  const std::size_t F = w.rec_lo.size();
  const std::size_t n = 2 * m + 2 - F;
  constexpr std::size_t cap = kLeads > 0 ? kLeads : 1;
  for (std::size_t t = 0; t < n; ++t) {
    // Taps k = t + F - 2 - 2 c in [0, F).
    const std::size_t s = t + F - 2;
    const std::size_t c_hi = std::min(s / 2, m - 1);
    const std::size_t c_lo = s >= F - 1 ? (s - (F - 1) + 1) / 2 : 0;
    if constexpr (kLeads > 0) {
      double acc[cap] = {};
      for (std::size_t c = c_lo; c <= c_hi; ++c) {
        const std::size_t k = s - 2 * c;
        const double gl = w.rec_lo[k], gh = w.rec_hi[k];
        const double* ac = a + c * L;
        const double* dc = d + c * L;
        for (std::size_t l = 0; l < cap; ++l) acc[l] += gl * ac[l] + gh * dc[l];
      }
      for (std::size_t l = 0; l < cap; ++l) out[t * L + l] = acc[l];
    } else {
      double* o = out + t * L;
      for (std::size_t l = 0; l < L; ++l) o[l] = 0.0;
      for (std::size_t c = c_lo; c <= c_hi; ++c) {
        const std::size_t k = s - 2 * c;
        const double gl = w.rec_lo[k], gh = w.rec_hi[k];
        const double* ac = a + c * L;
        const double* dc = d + c * L;
        for (std::size_t l = 0; l < L; ++l) o[l] += gl * ac[l] + gh * dc[l];
      }
    }
  }
}
// The 'valid' part of the upsampled convolution always sees F / 2 coefficient frames per output, and
// outputs 2p and 2p + 1 see the same ones (c = p .. p + F/2 - 1; even and odd taps). So with the
// tap count fixed at compile time, a pair of outputs loads each a / d frame once and keeps both
// accumulators in registers; per output the sum runs over c ascending, as idwt_impl does.
template <std::size_t kHalf>
[[gnu::always_inline]] inline void idwt12_pairs(const double* __restrict a, const double* __restrict d, std::size_t m, const WaveletFilters& w,
                                                double* __restrict out) {
  constexpr std::size_t F = 2 * kHalf, L = 12;
  const std::size_t n = 2 * m + 2 - F;
  double ge_lo[kHalf], ge_hi[kHalf], go_lo[kHalf], go_hi[kHalf];
  for (std::size_t j = 0; j < kHalf; ++j) {
    ge_lo[j] = w.rec_lo[F - 2 - 2 * j];
    ge_hi[j] = w.rec_hi[F - 2 - 2 * j];
    go_lo[j] = w.rec_lo[F - 1 - 2 * j];
    go_hi[j] = w.rec_hi[F - 1 - 2 * j];
  }
  for (std::size_t p = 0; 2 * p < n; ++p) {
    double e[L] = {}, o[L] = {};
    for (std::size_t j = 0; j < kHalf; ++j) {
      const double* ac = a + (p + j) * L;
      const double* dc = d + (p + j) * L;
      for (std::size_t l = 0; l < L; ++l) {
        e[l] += ge_lo[j] * ac[l] + ge_hi[j] * dc[l];
        o[l] += go_lo[j] * ac[l] + go_hi[j] * dc[l];
      }
    }
    for (std::size_t l = 0; l < L; ++l) out[2 * p * L + l] = e[l];
    if (2 * p + 1 < n)
      for (std::size_t l = 0; l < L; ++l) out[(2 * p + 1) * L + l] = o[l];
  }
}

// 12-lead kernels for the baseline ISA and AVX2 + FMA (the transform is well conditioned: FMA moves
// results by a few ulp, far below the 1e-10 agreement with PyWavelets that the tests check).
inline void dwt12_baseline(const double* x, std::size_t n, const WaveletFilters& w, double* a, double* d) { dwt_impl<12>(x, n, 12, w, a, d); }
inline void idwt12_baseline(const double* a, const double* d, std::size_t m, const WaveletFilters& w, double* out) {
  if (w.rec_lo.size() == 12) return idwt12_pairs<6>(a, d, m, w, out);
  idwt_impl<12>(a, d, m, 12, w, out);
}
#if ECGBENCH_HAVE_AVX2_DISPATCH
ECGBENCH_TARGET_AVX2_FMA inline void dwt12_avx2(const double* x, std::size_t n, const WaveletFilters& w, double* a, double* d) {
  dwt_impl<12>(x, n, 12, w, a, d);
}
ECGBENCH_TARGET_AVX2_FMA inline void idwt12_avx2(const double* a, const double* d, std::size_t m, const WaveletFilters& w, double* out) {
  if (w.rec_lo.size() == 12) return idwt12_pairs<6>(a, d, m, w, out);
  idwt_impl<12>(a, d, m, 12, w, out);
}
#endif
}  // namespace detail

/// One level: approximation and detail of `n` interleaved frames of `L` signals.
/// out_a / out_d hold dwt_length(n, F) frames each. Output o is sum_j h[j] x[2 o + 1 - j].
inline void dwt_interleaved(const double* x, std::size_t n, std::size_t L, const WaveletFilters& w, double* out_a, double* out_d) {
  if (n < 2) throw Error("dwt: signal too short (" + std::to_string(n) + " samples)");
  if (L != 12) return detail::dwt_impl<0>(x, n, L, w, out_a, out_d);
#if ECGBENCH_HAVE_AVX2_DISPATCH
  if (ecgbench::detail::cpu_has_avx2_fma()) return detail::dwt12_avx2(x, n, w, out_a, out_d);
#endif
  detail::dwt12_baseline(x, n, w, out_a, out_d);
}

/// Length PyWavelets' idwt returns for m coefficients per band: 2 m - F + 2.
inline std::size_t idwt_length(std::size_t m, std::size_t filter_len) { return 2 * m + 2 - filter_len; }

/// Inverse of one level: out[t] = sum_c a[c] rec_lo[t+F-2-2c] + d[c] rec_hi[t+F-2-2c].
inline void idwt_interleaved(const double* a, const double* d, std::size_t m, std::size_t L, const WaveletFilters& w, double* out) {
  if (2 * m + 2 < w.rec_lo.size() + 1) throw Error("idwt: too few coefficients (" + std::to_string(m) + ")");
  if (L != 12) return detail::idwt_impl<0>(a, d, m, L, w, out);
#if ECGBENCH_HAVE_AVX2_DISPATCH
  if (ecgbench::detail::cpu_has_avx2_fma()) return detail::idwt12_avx2(a, d, m, w, out);
#endif
  detail::idwt12_baseline(a, d, m, w, out);
}

/// pywt.wavedec(x, w, mode='symmetric', level): coefficient arrays [cA_level, cD_level, ..., cD1],
/// each interleaved [frames][L].
struct WaveletCoefficients {
  std::vector<std::vector<double>> bands;  ///< bands[0] = approximation, then details coarse -> fine
  std::vector<std::size_t> lengths;        ///< frames per band
  std::vector<double> scratch;             ///< intermediate approximations (reused)
};

/// Fills `c` (buffers reused across calls: no allocation in steady state).
inline void wavedec_interleaved(const double* x, std::size_t n, std::size_t L, const WaveletFilters& w, int level, WaveletCoefficients& c) {
  const std::size_t F = w.dec_lo.size();
  c.bands.resize(static_cast<std::size_t>(level) + 1);
  c.lengths.resize(static_cast<std::size_t>(level) + 1);
  // Level k (1-based) writes its detail to bands[level - k + 1]; the approximation of the last
  // level goes to bands[0]. Intermediate approximations ping-pong through bands[0] and `tmp`.
  std::vector<double>& tmp = c.scratch;
  const double* cur = x;
  std::size_t len = n;
  for (int k = 1; k <= level; ++k) {
    const std::size_t m = dwt_length(len, F);
    auto& d = c.bands[static_cast<std::size_t>(level - k + 1)];
    d.resize(m * L);
    std::vector<double>& a = (k % 2 == 1) == (level % 2 == 1) ? c.bands[0] : tmp;
    a.resize(m * L);
    dwt_interleaved(cur, len, L, w, a.data(), d.data());
    c.lengths[static_cast<std::size_t>(level - k + 1)] = m;
    cur = a.data();
    len = m;
  }
  c.lengths[0] = len;
}

inline WaveletCoefficients wavedec_interleaved(const double* x, std::size_t n, std::size_t L, const WaveletFilters& w, int level) {
  WaveletCoefficients c;
  wavedec_interleaved(x, n, L, w, level, c);
  return c;
}

/// pywt.waverec into `out` (resized); `tmp` is a reusable buffer. When the running approximation is
/// one frame longer than the next detail band, its last frame is dropped first (as PyWavelets does).
inline std::size_t waverec_interleaved(const WaveletCoefficients& c, std::size_t L, const WaveletFilters& w, std::vector<double>& out,
                                       std::vector<double>& tmp) {
  const std::size_t F = w.rec_lo.size();
  const std::vector<double>* a = &c.bands[0];
  std::size_t len = c.lengths[0];
  const std::size_t levels = c.bands.size() - 1;
  for (std::size_t k = 1; k <= levels; ++k) {
    const std::size_t dl = c.lengths[k];
    if (len == dl + 1) len = dl;
    else if (len != dl) throw Error("waverec: coefficient lengths " + std::to_string(len) + " and " + std::to_string(dl) + " do not match");
    // Alternate so that the last level lands in `out`.
    std::vector<double>& next = (levels - k) % 2 == 0 ? out : tmp;
    next.resize(idwt_length(len, F) * L);
    idwt_interleaved(a->data(), c.bands[k].data(), len, L, w, next.data());
    a = &next;
    len = idwt_length(dl, F);
  }
  if (levels == 0) out = c.bands[0];
  return len;
}

inline std::vector<double> waverec_interleaved(const WaveletCoefficients& c, std::size_t L, const WaveletFilters& w, std::size_t& out_len) {
  std::vector<double> out, tmp;
  out_len = waverec_interleaved(c, L, w, out, tmp);
  return out;
}

/// pywt.threshold(x, value, mode='soft'): sign(x) max(|x| - value, 0).
inline double soft_threshold(double x, double value) {
  const double mag = std::abs(x) - value;
  return mag > 0 ? std::copysign(mag, x) : 0.0 * x;
}

}  // namespace ecgbench::signal
