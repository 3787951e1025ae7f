// IIR filter design and zero-phase filtering with scipy.signal's semantics, in double precision:
// iirnotch (second-order notch, Q), butter (analog Butterworth prototype -> lp2hp/lp2bp ->
// bilinear transform with pre-warping; scipy's iirfilter with fs = 2), lfilter (direct form II
// transposed, same operation order as scipy's C loop), lfilter_zi and filtfilt (odd extension,
// padlen = 3 max(len(a), len(b)), steady-state initial conditions). Filters operate on one signal
// or on several interleaved ([t][lead]) signals with the same coefficients.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/cpu_features.hpp"

namespace ecgbench::signal {

/// Transfer function b(z)/a(z), a[0] = 1.
struct FilterCoefficients {
  std::vector<double> b, a;
};

/// scipy.signal.iirnotch(f0, Q, fs).
inline FilterCoefficients iirnotch(double f0, double Q, double fs) {
  if (!(f0 > 0 && f0 < fs / 2)) throw Error("iirnotch: f0 must be in (0, fs/2), got " + std::to_string(f0));
  if (!(Q > 0)) throw Error("iirnotch: Q must be positive");
  double w0 = 2.0 * f0 / fs;
  double bw = w0 / Q;
  bw = bw * std::numbers::pi;
  w0 = w0 * std::numbers::pi;
  const double gb = 1.0 / std::sqrt(2.0);
  const double beta = (std::sqrt(1.0 - gb * gb) / gb) * std::tan(bw / 2.0);
  const double gain = 1.0 / (1.0 + beta);
  return {{gain * 1.0, gain * (-2.0 * std::cos(w0)), gain * 1.0}, {1.0, -2.0 * gain * std::cos(w0), 2.0 * gain - 1.0}};
}

enum class FilterBand { lowpass, highpass, bandpass };

namespace detail {
using Complex = std::complex<double>;

// numpy's complex division (Smith's method with a reciprocal scale), not libgcc's __divdc3:
// the two round differently, and ill-conditioned filter polynomials magnify that.
inline Complex npdiv(Complex n, Complex d) {
  const double ar = n.real(), ai = n.imag(), br = d.real(), bi = d.imag();
  if (std::abs(br) >= std::abs(bi)) {
    const double rat = bi / br;
    const double scl = 1.0 / (br + bi * rat);
    return {(ar + ai * rat) * scl, (ai - ar * rat) * scl};
  }
  const double rat = br / bi;
  const double scl = 1.0 / (bi + br * rat);
  return {(ar * rat + ai) * scl, (ai * rat - ar) * scl};
}

// Plain (a c - b d, a d + b c) product, as numpy computes it.
inline Complex npmul(Complex x, Complex y) {
  return {x.real() * y.real() - x.imag() * y.imag(), x.real() * y.imag() + x.imag() * y.real()};
}

// numpy.prod of complex values: a multiply reduction, which numpy >= 1.21 runs through its AVX-512
// complex loop on capable CPUs (real = fma(a, c, -(b d)), imag = fma(a, d, b c)). The golden
// coefficients were made that way; std::fma gives the same bits with or without hardware FMA.
inline Complex prod(const std::vector<Complex>& v, Complex shift, double sign) {
  if (v.empty()) return 1.0;
  Complex p = shift + sign * v[0];
  for (std::size_t i = 1; i < v.size(); ++i) {
    const Complex y = shift + sign * v[i];
    p = {std::fma(p.real(), y.real(), -(p.imag() * y.imag())), std::fma(p.real(), y.imag(), p.imag() * y.real())};
  }
  return p;
}
// numpy.poly: coefficients of prod (x - r), highest power first, by successive convolution.
inline std::vector<Complex> poly(const std::vector<Complex>& roots) {
  std::vector<Complex> c{1.0};
  for (const auto& r : roots) {
    std::vector<Complex> next(c.size() + 1, 0.0);
    for (std::size_t i = 0; i < c.size(); ++i) {
      next[i] += c[i];
      next[i + 1] += npmul(c[i], -r);
    }
    c = std::move(next);
  }
  return c;
}

}  // namespace detail

/// scipy.signal.butter(order, Wn, btype) with Wn normalised to Nyquist (0 < Wn < 1).
inline FilterCoefficients butter(int order, std::vector<double> wn, FilterBand band) {
  using detail::Complex;
  if (order < 1 || order > 32) throw Error("butter: order must be in 1..32");
  const std::size_t need = band == FilterBand::bandpass ? 2 : 1;
  if (wn.size() != need) throw Error("butter: " + std::string(band == FilterBand::bandpass ? "bandpass needs 2" : "needs 1") + " critical frequencies");
  for (double w : wn)
    if (!(w > 0 && w < 1)) throw Error("butter: critical frequencies must be in (0, 1) (fractions of Nyquist), got " + std::to_string(w));
  // Analog prototype (buttap): no zeros, poles -exp(i pi m / (2N)), m = -N+1, -N+3, ..., N-1.
  std::vector<Complex> z, p;
  for (int m = -order + 1; m < order; m += 2) p.push_back(-std::exp(Complex(0, std::numbers::pi * m / (2.0 * order))));
  double k = 1.0;
  const double fs = 2.0;
  std::vector<double> warped;
  for (double w : wn) warped.push_back(2.0 * fs * std::tan(std::numbers::pi * w / fs));
  const std::size_t degree = p.size() - z.size();
  if (band == FilterBand::lowpass) {  // lp2lp_zpk
    for (auto& x : z) x *= warped[0];
    for (auto& x : p) x *= warped[0];
    k *= std::pow(warped[0], static_cast<double>(degree));
  } else if (band == FilterBand::highpass) {  // lp2hp_zpk
    const double wo = warped[0];
    const Complex kz = detail::prod(z, 0.0, -1.0), kp = detail::prod(p, 0.0, -1.0);
    for (auto& x : z) x = detail::npdiv(wo, x);
    for (auto& x : p) x = detail::npdiv(wo, x);
    z.insert(z.end(), degree, Complex(0.0));
    k *= detail::npdiv(kz, kp).real();
  } else {  // lp2bp_zpk
    const double bw = warped[1] - warped[0], wo = std::sqrt(warped[0] * warped[1]);
    std::vector<Complex> zb, pb;
    std::vector<Complex> zl = z, pl = p;
    for (auto& x : zl) x *= bw / 2.0;
    for (auto& x : pl) x *= bw / 2.0;
    const double wo2 = wo * wo;
    for (const auto& x : zl) zb.push_back(x + std::sqrt(detail::npmul(x, x) - wo2));
    for (const auto& x : zl) zb.push_back(x - std::sqrt(detail::npmul(x, x) - wo2));
    for (const auto& x : pl) pb.push_back(x + std::sqrt(detail::npmul(x, x) - wo2));
    for (const auto& x : pl) pb.push_back(x - std::sqrt(detail::npmul(x, x) - wo2));
    zb.insert(zb.end(), degree, Complex(0.0));
    z = std::move(zb);
    p = std::move(pb);
    k *= std::pow(bw, static_cast<double>(degree));
  }
  // bilinear_zpk
  const double fs2 = 2.0 * fs;
  const std::size_t deg2 = p.size() - z.size();
  const Complex kz = detail::prod(z, fs2, -1.0), kp = detail::prod(p, fs2, -1.0);
  for (auto& x : z) x = detail::npdiv(fs2 + x, fs2 - x);
  for (auto& x : p) x = detail::npdiv(fs2 + x, fs2 - x);
  z.insert(z.end(), deg2, Complex(-1.0));
  k *= detail::npdiv(kz, kp).real();
  // zpk2tf
  const auto bz = detail::poly(z), ap = detail::poly(p);
  FilterCoefficients f;
  for (const auto& c : bz) f.b.push_back(k * c.real());
  for (const auto& c : ap) f.a.push_back(c.real());
  return f;
}

/// scipy.signal.lfilter_zi: steady-state initial state for a unit step.
inline std::vector<double> lfilter_zi(const FilterCoefficients& f) {
  std::vector<double> b = f.b, a = f.a;
  if (a.empty() || a[0] == 0.0) throw Error("lfilter_zi: a[0] must be non-zero");
  if (a[0] != 1.0) {
    const double a0 = a[0];
    for (auto& v : b) v /= a0;
    for (auto& v : a) v /= a0;
  }
  const std::size_t n = std::max(a.size(), b.size());
  a.resize(n, 0.0);
  b.resize(n, 0.0);
  const std::size_t m = n - 1;
  if (m == 0) return {};
  // (I - companion(a).T) zi = b[1:] - a[1:] b[0]; companion(a).T has -a[1:] in column 0 and ones
  // on the superdiagonal. Solved as LAPACK's dgesv does (dgetf2: partial pivoting, column scaled
  // by the reciprocal pivot, rank-1 updates; dgetrs: row swaps, unit-lower then upper column
  // sweeps), because for filters with poles near z = 1 this system is ill-conditioned and the
  // operation order shows in the result.
  std::vector<double> A(m * m, 0.0), zi(m);
  for (std::size_t i = 0; i < m; ++i) {
    A[i * m + i] = 1.0;
    A[i * m + 0] += a[i + 1];
    if (i + 1 < m) A[i * m + i + 1] -= 1.0;
    zi[i] = b[i + 1] - a[i + 1] * b[0];
  }
  std::vector<std::size_t> ipiv(m);
  for (std::size_t j = 0; j < m; ++j) {
    std::size_t piv = j;
    for (std::size_t r = j + 1; r < m; ++r)
      if (std::abs(A[r * m + j]) > std::abs(A[piv * m + j])) piv = r;
    ipiv[j] = piv;
    if (A[piv * m + j] == 0.0) throw Error("lfilter_zi: singular system (filter has a pole at z = 1)");
    if (piv != j)
      for (std::size_t k = 0; k < m; ++k) std::swap(A[j * m + k], A[piv * m + k]);
    const double recip = 1.0 / A[j * m + j];
    for (std::size_t r = j + 1; r < m; ++r) A[r * m + j] *= recip;
    for (std::size_t c = j + 1; c < m; ++c) {
      const double temp = -A[j * m + c];
      for (std::size_t r = j + 1; r < m; ++r) A[r * m + c] += A[r * m + j] * temp;
    }
  }
  for (std::size_t j = 0; j < m; ++j)
    if (ipiv[j] != j) std::swap(zi[j], zi[ipiv[j]]);
  for (std::size_t j = 0; j < m; ++j)
    for (std::size_t i = j + 1; i < m; ++i) zi[i] -= zi[j] * A[i * m + j];
  for (std::size_t k = m; k-- > 0;) {
    zi[k] /= A[k * m + k];
    for (std::size_t i = 0; i < k; ++i) zi[i] -= zi[k] * A[i * m + k];
  }
  return zi;
}

namespace detail {

// Direct form II transposed over `frames` rows of L interleaved signals, in place:
// y = b0 x + z0; z[i] = (z[i+1] + x b[i+1]) - y a[i+1]; z[K-2] = x b[K-1] - y a[K-1]
// (scipy's operation order; compiled without FMA contraction so the rounding matches).
// `z` holds K-1 states per lead, [state][lead]. `reverse` runs from the last row to the first.
template <std::size_t kLeads>
[[gnu::optimize("fp-contract=off"), gnu::always_inline]] inline void lfilter_interleaved(const double* __restrict b, const double* __restrict a, std::size_t K,
                                                              double* __restrict data, std::size_t frames, std::size_t runtime_leads,
                                                              double* __restrict z, bool reverse) {
  const std::size_t L = kLeads > 0 ? kLeads : runtime_leads;
  constexpr std::size_t cap = kLeads > 0 ? kLeads : 64;
  double y[cap];
  for (std::size_t l0 = 0; l0 < L; l0 += cap) {  // leads in blocks that fit `y`
    const std::size_t W = std::min(cap, L - l0);
    for (std::size_t step = 0; step < frames; ++step) {
      const std::size_t t = reverse ? frames - 1 - step : step;
      double* row = data + t * L + l0;
      // Loops run across leads (contiguous, vectorised); per element the arithmetic is scipy's.
      for (std::size_t l = 0; l < W; ++l) y[l] = z[l0 + l] + b[0] * row[l];
      for (std::size_t i = 0; i + 2 < K; ++i) {
        double* zi = z + i * L + l0;
        const double* zn = zi + L;
        const double bi = b[i + 1], ai = a[i + 1];
        for (std::size_t l = 0; l < W; ++l) zi[l] = zn[l] + row[l] * bi - y[l] * ai;
      }
      double* zl = z + (K - 2) * L + l0;
      for (std::size_t l = 0; l < W; ++l) zl[l] = row[l] * b[K - 1] - y[l] * a[K - 1];
      for (std::size_t l = 0; l < W; ++l) row[l] = y[l];
    }
  }
}

// The 12-lead loop for the baseline ISA and for AVX2 (no FMA: the rounding stays scipy's).
[[gnu::optimize("fp-contract=off")]] inline void lfilter12_baseline(const double* b, const double* a, std::size_t K, double* data,
                                                                   std::size_t frames, double* z, bool reverse) {
  lfilter_interleaved<12>(b, a, K, data, frames, 12, z, reverse);
}
#if ECGBENCH_HAVE_AVX2_DISPATCH
ECGBENCH_TARGET_AVX2 [[gnu::optimize("fp-contract=off")]] inline void lfilter12_avx2(const double* b, const double* a, std::size_t K,
                                                                                   double* data, std::size_t frames, double* z, bool reverse) {
  lfilter_interleaved<12>(b, a, K, data, frames, 12, z, reverse);
}
#endif
}  // namespace detail

/// scipy.signal.filtfilt(b, a, x) with its defaults, on `leads` interleaved signals of `n`
/// samples each ([t][lead]), in place. `scratch` is reused between calls.
/// padlen scipy's filtfilt uses for `f`: 3 max(len(a), len(b)).
inline std::size_t filtfilt_padlen(const FilterCoefficients& f) { return 3 * std::max(f.a.size(), f.b.size()); }

/// filtfilt in place on `x` ([n][leads]) whose buffer extends at least filtfilt_padlen(f) frames
/// before `x` and after `x + n * leads`: the odd extension is written into those margins, so
/// several filters can run back to back without copying the signal.
[[gnu::optimize("fp-contract=off")]] inline void filtfilt_interleaved_in_margins(const FilterCoefficients& f, double* x, std::size_t n,
                                                                                std::size_t leads, std::vector<double>& state) {
  const std::size_t K = std::max(f.a.size(), f.b.size());
  if (f.a.empty() || f.a[0] != 1.0) throw Error("filtfilt: a[0] must be 1");
  const std::size_t pad = 3 * K;
  if (n <= pad) throw Error("filtfilt: signal of " + std::to_string(n) + " samples is too short for padlen " + std::to_string(pad));
  std::vector<double> b = f.b, a = f.a;
  b.resize(K, 0.0);
  a.resize(K, 0.0);
  const auto zi = lfilter_zi(f);
  const std::size_t m = n + 2 * pad;
  double* ext = x - pad * leads;
  state.resize(2 * (K - 1) * leads + 1);
  double* z = state.data();
  // Odd extension: 2 x[0] - x[pad..1], x, 2 x[n-1] - x[n-2..n-1-pad].
  for (std::size_t i = 0; i < pad; ++i)
    for (std::size_t l = 0; l < leads; ++l) ext[i * leads + l] = 2.0 * x[l] - x[(pad - i) * leads + l];
  for (std::size_t i = 0; i < pad; ++i)
    for (std::size_t l = 0; l < leads; ++l) x[(n + i) * leads + l] = 2.0 * x[(n - 1) * leads + l] - x[(n - 2 - i) * leads + l];
  auto run = [&](bool reverse) {
    const double* start = ext + (reverse ? (m - 1) * leads : 0);
    for (std::size_t s = 0; s + 1 < K; ++s)
      for (std::size_t l = 0; l < leads; ++l) z[s * leads + l] = zi[s] * start[l];
    if (K == 1) {
      for (std::size_t i = 0; i < m * leads; ++i) ext[i] *= b[0];
      return;
    }
    if (leads == 12) {
#if ECGBENCH_HAVE_AVX2_DISPATCH
      if (ecgbench::detail::cpu_has_avx2()) return detail::lfilter12_avx2(b.data(), a.data(), K, ext, m, z, reverse);
#endif
      detail::lfilter12_baseline(b.data(), a.data(), K, ext, m, z, reverse);
    } else {
      detail::lfilter_interleaved<0>(b.data(), a.data(), K, ext, m, leads, z, reverse);
    }
  };
  run(false);
  run(true);
}

/// scipy.signal.filtfilt(b, a, x) with its defaults, on `leads` interleaved signals of `n`
/// samples each ([t][lead]), in place. `scratch` is reused between calls.
inline void filtfilt_interleaved(const FilterCoefficients& f, double* x, std::size_t n, std::size_t leads, std::vector<double>& scratch) {
  const std::size_t pad = filtfilt_padlen(f);
  scratch.resize((n + 2 * pad) * leads);
  std::copy(x, x + n * leads, scratch.data() + pad * leads);
  std::vector<double> state;
  filtfilt_interleaved_in_margins(f, scratch.data() + pad * leads, n, leads, state);
  std::copy(scratch.data() + pad * leads, scratch.data() + (pad + n) * leads, x);
}

/// filtfilt of one signal; returns the filtered copy.
inline std::vector<double> filtfilt(const FilterCoefficients& f, std::span<const double> x) {
  std::vector<double> y(x.begin(), x.end()), scratch;
  filtfilt_interleaved(f, y.data(), y.size(), 1, scratch);
  return y;
}

}  // namespace ecgbench::signal
