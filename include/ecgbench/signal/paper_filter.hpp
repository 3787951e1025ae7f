// The denoising chain of the ECG-Bench paper era (release 0.0.2 up to October 2025), per lead at
// the record's native rate, before resampling:
//   1. notch 50 Hz then 60 Hz (iirnotch, Q = 30), 2. Butterworth band-pass 0.5-100 Hz (order 4),
//   3. Butterworth high-pass 0.05 Hz (order 4), each with filtfilt;
//   4. wavedec(db6, level 4, symmetric); sigma = median(|cD4|) / 0.6745; soft threshold of every
//      detail band (PyWavelets' formula x * max(1 - sigma/|x|, 0)); non-finite or |c| <= 1e-10 -> 0;
//      waverec; FFT-resample to the input length if it differs; NaN/Inf -> 0.
// Filters are designed here for any rate (scipy's formulas), not tabulated.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <vector>

#include "ecgbench/signal/iir.hpp"
#include "ecgbench/signal/segment.hpp"
#include "ecgbench/signal/wavelet.hpp"

namespace ecgbench::signal {

struct PaperFilterBank {
  FilterCoefficients notch50, notch60, bandpass, highpass;
  double fs = 0;

  /// A bank with given coefficients, e.g. exported from a particular scipy installation: the
  /// band-pass and high-pass have poles within 1e-3 of z = 1 in transfer-function form, so a
  /// one-ulp difference in a coefficient (numpy's SIMD cos vs libm's) moves outputs by ~1e-5.
  PaperFilterBank(double sampling_frequency, FilterCoefficients n50, FilterCoefficients n60, FilterCoefficients bp, FilterCoefficients hp)
      : notch50(std::move(n50)), notch60(std::move(n60)), bandpass(std::move(bp)), highpass(std::move(hp)), fs(sampling_frequency) {}

  explicit PaperFilterBank(double sampling_frequency) : fs(sampling_frequency) {
    const double nyq = fs / 2.0;
    if (!(nyq > 100.0)) throw Error("paper filter chain needs a sampling rate above 200 Hz (band-pass to 100 Hz), got " + std::to_string(fs));
    notch50 = iirnotch(50.0, 30.0, fs);
    notch60 = iirnotch(60.0, 30.0, fs);
    bandpass = butter(4, {0.5 / nyq, 100.0 / nyq}, FilterBand::bandpass);
    highpass = butter(4, {0.05 / nyq}, FilterBand::highpass);
  }
};

/// scipy.signal.resample(x, num) for one signal (FFT method), by direct DFT: only used when
/// waverec returns one sample more than the input (odd lengths), so O(n num) is acceptable.
inline std::vector<double> fft_resample(std::span<const double> x, std::size_t num) {
  using C = std::complex<double>;
  const std::size_t nx = x.size();
  const std::size_t nbins = nx / 2 + 1;
  std::vector<C> X(nbins);
  for (std::size_t k = 0; k < nbins; ++k) {
    C s = 0;
    for (std::size_t t = 0; t < nx; ++t) s += x[t] * std::polar(1.0, -2.0 * std::numbers::pi * static_cast<double>((k * t) % nx) / nx);
    X[k] = s;
  }
  std::vector<C> Y(num / 2 + 1, 0.0);
  const std::size_t N = std::min(num, nx), nyq = N / 2 + 1;
  for (std::size_t k = 0; k < nyq && k < Y.size(); ++k) Y[k] = X[k];
  if (N % 2 == 0) {
    if (num < nx) Y[N / 2] *= 2.0;
    else if (num > nx) Y[N / 2] *= 0.5;
  }
  // irfft(Y, num) * num / nx
  std::vector<double> y(num);
  for (std::size_t t = 0; t < num; ++t) {
    double s = Y[0].real();
    for (std::size_t k = 1; k < Y.size(); ++k) {
      const bool nyquist = num % 2 == 0 && k == num / 2;
      const C e = std::polar(1.0, 2.0 * std::numbers::pi * static_cast<double>((k * t) % num) / num);
      s += (nyquist ? 1.0 : 2.0) * (Y[k] * e).real();
    }
    y[t] = s / static_cast<double>(num) * (static_cast<double>(num) / static_cast<double>(nx));
  }
  return y;
}

struct PaperFilterScratch {
  std::vector<double> filtfilt, state, lead, rec, rec_tmp;
  WaveletCoefficients coefficients;
};

/// numpy.median of |values| of one lead of an interleaved band.
inline double median_abs(const std::vector<double>& band, std::size_t frames, std::size_t L, std::size_t lead, std::vector<double>& tmp) {
  tmp.resize(frames);
  for (std::size_t t = 0; t < frames; ++t) tmp[t] = std::abs(band[t * L + lead]);
  const std::size_t mid = frames / 2;
  std::nth_element(tmp.begin(), tmp.begin() + static_cast<std::ptrdiff_t>(mid), tmp.end());
  if (frames % 2 == 1) return tmp[mid];
  const double hi = tmp[mid];
  const double lo = *std::max_element(tmp.begin(), tmp.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lo + hi) / 2.0;
}

namespace detail {
// PyWavelets' soft(): v * clip(1 - sigma / |v|, 0, inf) (0/0 gives NaN), then upstream's clean-up:
// non-finite or |v| <= 1e-10 -> 0. Branch-free so that it vectorises.
template <std::size_t kLeads>
[[gnu::always_inline]] inline void soft_threshold_impl(double* __restrict v, std::size_t frames, std::size_t runtime_leads,
                                                       const double* __restrict sigma) {
  const std::size_t L = kLeads > 0 ? kLeads : runtime_leads;
  for (std::size_t t = 0; t < frames; ++t)
    for (std::size_t l = 0; l < L; ++l) {
      const double x = v[t * L + l];
      double f = 1.0 - sigma[l] / std::abs(x);
      f = f < 0.0 ? 0.0 : f;  // NaN stays NaN, like numpy's clip
      const double y = x * f;
      const double m = std::abs(y);
      v[t * L + l] = (m > 1e-10 && m <= std::numeric_limits<double>::max()) ? y : 0.0;
    }
}
inline void soft_threshold12_baseline(double* v, std::size_t frames, const double* sigma) { soft_threshold_impl<12>(v, frames, 12, sigma); }
#if ECGBENCH_HAVE_AVX2_DISPATCH
ECGBENCH_TARGET_AVX2 inline void soft_threshold12_avx2(double* v, std::size_t frames, const double* sigma) {
  soft_threshold_impl<12>(v, frames, 12, sigma);
}
#endif
}  // namespace detail

/// Soft-thresholds one interleaved band of `L` leads with a per-lead threshold, in place.
inline void soft_threshold_band(double* v, std::size_t frames, std::size_t L, const double* sigma) {
  if (L != 12) return detail::soft_threshold_impl<0>(v, frames, L, sigma);
#if ECGBENCH_HAVE_AVX2_DISPATCH
  if (ecgbench::detail::cpu_has_avx2()) return detail::soft_threshold12_avx2(v, frames, sigma);
#endif
  detail::soft_threshold12_baseline(v, frames, sigma);
}

/// Wavelet stage on `L` interleaved leads of `n` frames, in place. Returns per-lead sigma in `sigma`.
inline void wavelet_denoise_interleaved(double* x, std::size_t n, std::size_t L, std::vector<double>* sigma_out, PaperFilterScratch& s) {
  const auto& w = db6();
  auto& c = s.coefficients;
  wavedec_interleaved(x, n, L, w, 4, c);
  std::vector<double> sigma(L);
  for (std::size_t l = 0; l < L; ++l) sigma[l] = median_abs(c.bands[1], c.lengths[1], L, l, s.lead) / 0.6745;
  for (std::size_t b = 1; b < c.bands.size(); ++b) soft_threshold_band(c.bands[b].data(), c.lengths[b], L, sigma.data());
  const std::size_t len = waverec_interleaved(c, L, w, s.rec, s.rec_tmp);
  const auto& y = s.rec;
  if (len == n) {
    std::copy(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(n * L), x);
  } else {
    for (std::size_t l = 0; l < L; ++l) {
      s.lead.resize(len);
      for (std::size_t t = 0; t < len; ++t) s.lead[t] = y[t * L + l];
      const auto r = fft_resample(s.lead, n);
      for (std::size_t t = 0; t < n; ++t) x[t * L + l] = r[t];
    }
  }
  replace_non_finite(std::span<double>(x, n * L));  // nan_to_num; a vectorised scan when all are finite
  if (sigma_out) *sigma_out = std::move(sigma);
}

/// The whole chain on `L` interleaved leads of `n` frames at the bank's rate, in place.
inline void paper_denoise_interleaved(const PaperFilterBank& bank, double* x, std::size_t n, std::size_t L, PaperFilterScratch& s) {
  // One copy into a buffer with margins wide enough for every filter's odd extension; the four
  // filtfilt passes then run in place, back to back.
  const std::size_t margin = std::max({filtfilt_padlen(bank.notch50), filtfilt_padlen(bank.notch60), filtfilt_padlen(bank.bandpass),
                                       filtfilt_padlen(bank.highpass)});
  s.filtfilt.resize((n + 2 * margin) * L);
  double* y = s.filtfilt.data() + margin * L;
  std::copy(x, x + n * L, y);
  for (const auto* f : {&bank.notch50, &bank.notch60, &bank.bandpass, &bank.highpass}) filtfilt_interleaved_in_margins(*f, y, n, L, s.state);
  std::copy(y, y + n * L, x);
  wavelet_denoise_interleaved(x, n, L, nullptr, s);
}

}  // namespace ecgbench::signal
