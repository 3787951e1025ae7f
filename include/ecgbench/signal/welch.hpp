// Welch's power spectral density as scipy.signal.welch(x, fs, nperseg) computes it with its
// defaults (periodic Hann window, 50 % overlap, constant detrend, one-sided density scaling, mean
// over segments), including its float32 path for float32 input: the window and the product are
// float32, the FFT double, the density rounded to float32. And the FFT it needs (mixed radix,
// double precision, any length).
#pragma once

#include <cmath>
#include <complex>
#include <numbers>
#include <span>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/signal/numpy_reduce.hpp"

namespace ecgbench::signal {

namespace detail {
inline void fft_rec(const std::complex<double>* in, std::complex<double>* out, std::size_t n, std::size_t stride, std::vector<std::complex<double>>& scratch) {
  if (n == 1) {
    out[0] = in[0];
    return;
  }
  std::size_t p = 0;
  for (std::size_t f : {4u, 2u, 3u, 5u})
    if (n % f == 0) {
      p = f;
      break;
    }
  if (p == 0)
    for (std::size_t f = 7; f * f <= n; f += 2)
      if (n % f == 0) {
        p = f;
        break;
      }
  if (p == 0) p = n;  // prime: plain DFT
  const std::size_t m = n / p;
  if (m == 1) {
    for (std::size_t k = 0; k < n; ++k) {
      std::complex<double> acc = 0;
      for (std::size_t j = 0; j < n; ++j) acc += in[j * stride] * std::polar(1.0, -2 * std::numbers::pi * static_cast<double>((j * k) % n) / static_cast<double>(n));
      out[k] = acc;
    }
    return;
  }
  // p sub-transforms of length m over the decimated inputs, then p-point butterflies with twiddles.
  for (std::size_t r = 0; r < p; ++r) fft_rec(in + r * stride, out + r * m, m, stride * p, scratch);
  std::vector<std::complex<double>> tmp(p);
  for (std::size_t k = 0; k < m; ++k) {
    for (std::size_t r = 0; r < p; ++r) tmp[r] = out[r * m + k] * std::polar(1.0, -2 * std::numbers::pi * static_cast<double>(r * k) / static_cast<double>(n));
    for (std::size_t q = 0; q < p; ++q) {
      std::complex<double> acc = 0;
      for (std::size_t r = 0; r < p; ++r) acc += tmp[r] * std::polar(1.0, -2 * std::numbers::pi * static_cast<double>((r * q) % p) / static_cast<double>(p));
      scratch[q * m + k] = acc;
    }
  }
  for (std::size_t i = 0; i < n; ++i) out[i] = scratch[i];
}
}  // namespace detail

/// Discrete Fourier transform of `x` (double precision, any length).
inline std::vector<std::complex<double>> fft(const std::vector<std::complex<double>>& x) {
  std::vector<std::complex<double>> out(x.size()), scratch(x.size());
  if (!x.empty()) detail::fft_rec(x.data(), out.data(), x.size(), 1, scratch);
  return out;
}

struct WelchResult {
  std::vector<double> freqs;  ///< rfftfreq(nperseg, 1 / fs)
  std::vector<float> psd;     ///< density, float32 as scipy returns it for float32 input
};

inline WelchResult welch(std::span<const float> x, double fs, std::size_t nperseg) {
  const std::size_t n = x.size();
  if (n == 0) throw Error("welch: empty signal");
  if (nperseg == 0 || nperseg > n) nperseg = n;
  const std::size_t noverlap = nperseg / 2, step = nperseg - noverlap;
  const std::size_t segments = (n - noverlap) / step;
  // Periodic Hann, cast to float32 (scipy casts the window to the output dtype, complex64).
  std::vector<float> win(nperseg);
  for (std::size_t i = 0; i < nperseg; ++i)
    win[i] = static_cast<float>(0.5 - 0.5 * std::cos(2 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(nperseg)));
  std::vector<float> w2(nperseg);
  for (std::size_t i = 0; i < nperseg; ++i) w2[i] = win[i] * win[i];
  const double scale = 1.0 / (fs * static_cast<double>(numpy::sum(w2.data(), nperseg)));
  const std::size_t bins = nperseg / 2 + 1;
  std::vector<std::vector<float>> per_segment;
  std::vector<std::complex<double>> buf(nperseg);
  for (std::size_t s = 0; s < segments; ++s) {
    const float* seg = x.data() + s * step;
    const float m = numpy::sum(seg, nperseg) / static_cast<float>(nperseg);  // detrend('constant'): float32 mean, array path
    for (std::size_t i = 0; i < nperseg; ++i) buf[i] = static_cast<double>((seg[i] - m) * win[i]);
    const auto X = fft(buf);
    std::vector<float> p(bins);
    for (std::size_t k = 0; k < bins; ++k) {
      double v = std::norm(X[k]) * scale;
      const bool edge = k == 0 || (nperseg % 2 == 0 && k == bins - 1);
      if (!edge) v *= 2;
      p[k] = static_cast<float>(v);
    }
    per_segment.push_back(std::move(p));
  }
  WelchResult r;
  r.freqs.resize(bins);
  const double val = 1.0 / (static_cast<double>(nperseg) * (1.0 / fs));  // np.fft.rfftfreq
  for (std::size_t k = 0; k < bins; ++k) r.freqs[k] = static_cast<double>(k) * val;
  r.psd.resize(bins);
  if (per_segment.size() == 1) {
    r.psd = per_segment.front();
  } else {  // Pxy.mean(axis=-1) over segments: float32 sum (short, sequential) / count
    for (std::size_t k = 0; k < bins; ++k) {
      std::vector<float> col(per_segment.size());
      for (std::size_t s = 0; s < per_segment.size(); ++s) col[s] = per_segment[s][k];
      r.psd[k] = numpy::sum(col.data(), col.size()) / static_cast<float>(col.size());
    }
  }
  return r;
}

}  // namespace ecgbench::signal
