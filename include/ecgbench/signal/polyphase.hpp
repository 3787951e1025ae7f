// Anti-aliased rational resampling by a windowed-sinc FIR, designed and applied as
// scipy.signal.resample_poly(x, up, down, window=('kaiser', 5.0), padtype='constant') does:
// gcd-reduced up/down, a firwin low-pass of 2*10*max(up, down)+1 taps with cutoff 1/max(up, down)
// (Nyquist = 1), scaled by `up`, applied with upfirdn and the same pre/post padding and trimming.
#pragma once

#include <cmath>
#include <cstddef>
#include <numeric>
#include <span>
#include <vector>

#include "ecgbench/core/error.hpp"

namespace ecgbench::signal {

namespace detail {
/// Modified Bessel function of the first kind, order 0 (power series; converges fast for |x| < 50).
inline double bessel_i0(double x) {
  double sum = 1.0, term = 1.0;
  const double q = x * x / 4.0;
  for (int k = 1; k < 500; ++k) {
    term *= q / (static_cast<double>(k) * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}
}  // namespace detail

/// scipy.signal.firwin(numtaps, cutoff, window=('kaiser', beta)) for a low-pass (scale=True: unit DC gain).
inline std::vector<double> firwin_kaiser_lowpass(std::size_t numtaps, double cutoff, double beta) {
  std::vector<double> h(numtaps);
  const double alpha = 0.5 * static_cast<double>(numtaps - 1);
  const double i0b = detail::bessel_i0(beta);
  double sum = 0;
  for (std::size_t i = 0; i < numtaps; ++i) {
    const double m = static_cast<double>(i) - alpha;
    const double x = cutoff * m;
    const double sinc = x == 0 ? 1.0 : std::sin(M_PI * x) / (M_PI * x);
    const double r = numtaps > 1 ? 2.0 * static_cast<double>(i) / static_cast<double>(numtaps - 1) - 1.0 : 0.0;
    const double w = detail::bessel_i0(beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / i0b;
    h[i] = cutoff * sinc * w;
    sum += h[i];
  }
  for (auto& v : h) v /= sum;
  return h;
}

class PolyphaseResampler {
 public:
  PolyphaseResampler(std::size_t up, std::size_t down, double kaiser_beta = 5.0) {
    if (up == 0 || down == 0) throw Error("polyphase resampler: up and down must be positive");
    const std::size_t g = std::gcd(up, down);
    up_ = up / g;
    down_ = down / g;
    if (up_ == 1 && down_ == 1) return;
    const std::size_t max_rate = std::max(up_, down_);
    half_len_ = 10 * max_rate;
    h_ = firwin_kaiser_lowpass(2 * half_len_ + 1, 1.0 / static_cast<double>(max_rate), kaiser_beta);
    for (auto& v : h_) v *= static_cast<double>(up_);
  }

  /// Resampler for sampling rates fs -> target (both must be integers in Hz after rounding).
  static PolyphaseResampler for_rates(double fs, double target) {
    const auto a = static_cast<std::size_t>(std::llround(fs)), b = static_cast<std::size_t>(std::llround(target));
    if (std::abs(fs - a) > 1e-9 || std::abs(target - b) > 1e-9)
      throw Error("polyphase resampling needs integer rates, got " + std::to_string(fs) + " -> " + std::to_string(target));
    return PolyphaseResampler(b, a);
  }

  [[nodiscard]] std::size_t output_length(std::size_t n) const { return (n * up_ + down_ - 1) / down_; }
  [[nodiscard]] std::size_t up() const { return up_; }
  [[nodiscard]] std::size_t down() const { return down_; }

  void apply(std::span<const double> x, std::span<double> out) const {
    const std::size_t n = x.size(), n_out = output_length(n);
    if (out.size() != n_out) throw Error("polyphase resampler: output has the wrong length");
    if (up_ == 1 && down_ == 1) {
      std::copy(x.begin(), x.end(), out.begin());
      return;
    }
    // scipy: pre-pad the filter so that the output is aligned with the input (zero delay).
    const std::size_t n_pre_pad = down_ - half_len_ % down_;
    const std::size_t n_pre_remove = (half_len_ + n_pre_pad) / down_;
    // Padded filter hp = [0]*n_pre_pad + h (post padding only lengthens the output, which we trim).
    const std::size_t hp_len = n_pre_pad + h_.size();
    // y[k] = sum_i h_p[k*down - i*up] x[i] for the upsampled-by-zeros convolution (upfirdn).
    for (std::size_t j = 0; j < n_out; ++j) {
      const std::size_t k = j + n_pre_remove;
      const std::size_t pos = k * down_;  // index into the upsampled, filtered sequence
      double acc = 0;
      // Taps t with (pos - t) divisible by up, 0 <= t < hp_len, 0 <= (pos - t)/up < n.
      std::size_t t = pos % up_;
      const std::size_t t_min_for_n = pos >= (n - 1) * up_ ? pos - (n - 1) * up_ : 0;
      if (t < t_min_for_n) t += ((t_min_for_n - t + up_ - 1) / up_) * up_;
      for (; t < hp_len && t <= pos; t += up_) {
        if (t < n_pre_pad) continue;
        acc += h_[t - n_pre_pad] * x[(pos - t) / up_];
      }
      out[j] = acc;
    }
  }

  [[nodiscard]] std::vector<double> apply(std::span<const double> x) const {
    std::vector<double> out(output_length(x.size()));
    apply(x, out);
    return out;
  }

  [[nodiscard]] const std::vector<double>& filter() const { return h_; }

 private:
  std::size_t up_ = 1, down_ = 1, half_len_ = 0;
  std::vector<double> h_;
};

}  // namespace ecgbench::signal
