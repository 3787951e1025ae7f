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
using cd = std::complex<double>;

/// exp(-2 pi i k / n) for k < n, computed once per length and thread: a transform then reads its
/// twiddles (those of every sub-length m | n too: w_m^j = w_n^(j n / m)) instead of calling sin/cos.
inline const std::vector<cd>& fft_twiddles(std::size_t n) {
  thread_local std::size_t cached_n = 0;
  thread_local std::vector<cd> w;
  if (cached_n != n) {
    w.resize(n);
    for (std::size_t k = 0; k < n; ++k) w[k] = std::polar(1.0, -2 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n));
    cached_n = n;
  }
  return w;
}

/// Mixed-radix decimation in time; `w` holds the N-th roots of unity, this level's are every
/// (N / n)-th of them.
inline void fft_rec(const cd* in, cd* out, std::size_t n, std::size_t stride, cd* scratch, const cd* w, std::size_t N) {
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
  const std::size_t m = n / p, s = N / n;
  if (m == 1) {
    for (std::size_t k = 0; k < n; ++k) {
      cd acc = 0;
      for (std::size_t j = 0; j < n; ++j) acc += in[j * stride] * w[((j * k) % n) * s];
      out[k] = acc;
    }
    return;
  }
  // p sub-transforms of length m over the decimated inputs, then p-point butterflies with twiddles.
  for (std::size_t r = 0; r < p; ++r) fft_rec(in + r * stride, out + r * m, m, stride * p, scratch, w, N);
  if (p == 2) {
    for (std::size_t k = 0; k < m; ++k) {
      const cd a = out[k], b = out[m + k] * w[k * s];
      scratch[k] = a + b;
      scratch[m + k] = a - b;
    }
  } else if (p == 4) {
    for (std::size_t k = 0; k < m; ++k) {
      const cd a0 = out[k], a1 = out[m + k] * w[k * s], a2 = out[2 * m + k] * w[2 * k * s], a3 = out[3 * m + k] * w[3 * k * s];
      const cd t0 = a0 + a2, t1 = a0 - a2, t2 = a1 + a3, t3 = a1 - a3;
      const cd mi_t3(t3.imag(), -t3.real());  // -i * t3
      scratch[k] = t0 + t2;
      scratch[m + k] = t1 + mi_t3;
      scratch[2 * m + k] = t0 - t2;
      scratch[3 * m + k] = t1 - mi_t3;
    }
  } else {
    cd tmp[64];
    std::vector<cd> big;
    cd* t = tmp;
    if (p > 64) big.resize(p), t = big.data();
    for (std::size_t k = 0; k < m; ++k) {
      for (std::size_t r = 0; r < p; ++r) t[r] = out[r * m + k] * w[r * k * s];
      for (std::size_t q = 0; q < p; ++q) {
        cd acc = 0;
        for (std::size_t r = 0; r < p; ++r) acc += t[r] * w[((r * q) % p) * m * s];
        scratch[q * m + k] = acc;
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) out[i] = scratch[i];
}
}  // namespace detail

/// Discrete Fourier transform of `x` (double precision, any length).
inline std::vector<std::complex<double>> fft(const std::vector<std::complex<double>>& x) {
  std::vector<std::complex<double>> out(x.size()), scratch(x.size());
  if (!x.empty()) detail::fft_rec(x.data(), out.data(), x.size(), 1, scratch.data(), detail::fft_twiddles(x.size()).data(), x.size());
  return out;
}

/// The first n / 2 + 1 DFT coefficients of a real sequence of even length n, from one complex FFT of
/// length n / 2 over (x[2j], x[2j + 1]) and the split E[k] + w^k O[k] (half the work of `fft`).
inline std::vector<std::complex<double>> rfft_even(const std::vector<double>& x) {
  using cd = std::complex<double>;
  const std::size_t n = x.size(), h = n / 2;
  if (n < 2 || n % 2) throw Error("rfft_even: the length must be even and at least 2");
  const auto& w = detail::fft_twiddles(n);  // the n-th roots; the half-length transform reads every second
  std::vector<cd> z(h), Z(h), scratch(h), X(h + 1);
  for (std::size_t j = 0; j < h; ++j) z[j] = {x[2 * j], x[2 * j + 1]};
  detail::fft_rec(z.data(), Z.data(), h, 1, scratch.data(), w.data(), n);
  for (std::size_t k = 0; k <= h; ++k) {
    const cd a = Z[k % h], b = std::conj(Z[(h - k) % h]);
    const cd e = 0.5 * (a + b), d = a - b, o(0.5 * d.imag(), -0.5 * d.real());  // o = (a - b) / 2i
    X[k] = e + w[k] * o;
  }
  return X;
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
  // Periodic Hann, cast to float32 (scipy casts the window to the output dtype, complex64); computed
  // once per length and thread, with the sum of its squares.
  thread_local std::vector<float> win;
  thread_local float win_sq_sum = 0;
  if (win.size() != nperseg) {
    win.resize(nperseg);
    for (std::size_t i = 0; i < nperseg; ++i)
      win[i] = static_cast<float>(0.5 - 0.5 * std::cos(2 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(nperseg)));
    std::vector<float> w2(nperseg);
    for (std::size_t i = 0; i < nperseg; ++i) w2[i] = win[i] * win[i];
    win_sq_sum = numpy::sum(w2.data(), nperseg);
  }
  const double scale = 1.0 / (fs * static_cast<double>(win_sq_sum));
  const std::size_t bins = nperseg / 2 + 1;
  std::vector<std::vector<float>> per_segment;
  std::vector<std::complex<double>> buf(nperseg);
  std::vector<double> real(nperseg);
  for (std::size_t s = 0; s < segments; ++s) {
    const float* seg = x.data() + s * step;
    const float m = numpy::sum(seg, nperseg) / static_cast<float>(nperseg);  // detrend('constant'): float32 mean, array path
    std::vector<std::complex<double>> X;
    if (nperseg % 2 == 0) {
      for (std::size_t i = 0; i < nperseg; ++i) real[i] = static_cast<double>((seg[i] - m) * win[i]);
      X = rfft_even(real);
    } else {
      for (std::size_t i = 0; i < nperseg; ++i) buf[i] = static_cast<double>((seg[i] - m) * win[i]);
      X = fft(buf);
    }
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
