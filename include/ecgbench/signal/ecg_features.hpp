// Upstream ECG-Bench's `ECGFeatureExtractor` (utils/preprocess_utils.py; RAG retrieval key and
// morphology-stratified sampling), reproduced with NumPy / SciPy / PyWavelets' own arithmetic on
// float32 input: per lead the 7 statistics, Welch PSD features (scipy defaults, nperseg =
// min(1024, L)), heart-rate features from `find_peaks` (height min + 0.3 (max - min), distance
// max(int(0.2 fs), 1); SciPy's plateau and distance rules), the mean |c| of the db4 `wavedec`
// coefficients (level min(5, dwt_max_level), symmetric extension) and mean |dx|, RMS dx.
// `features()` = 24 per lead (288), `rag_features()` = 19 per lead (228, the RAG paper's set).
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/signal/numpy_reduce.hpp"
#include "ecgbench/signal/welch.hpp"

namespace ecgbench::signal {

/// scipy.signal.find_peaks(x, height=hmin, distance=d) on float64 data.
inline std::vector<std::size_t> find_peaks(std::span<const double> x, double hmin, double distance) {
  std::vector<std::size_t> peaks;
  const std::size_t n = x.size();
  if (n < 3) return peaks;
  // _local_maxima_1d: plateaus give their midpoint (rounded down).
  std::size_t i = 1;
  const std::size_t i_max = n - 1;
  while (i < i_max) {
    if (x[i - 1] < x[i]) {
      std::size_t ahead = i + 1;
      while (ahead < i_max && x[ahead] == x[i]) ++ahead;
      if (x[ahead] < x[i]) {
        peaks.push_back((i + ahead - 1) / 2);
        i = ahead;
      }
    }
    ++i;
  }
  std::erase_if(peaks, [&](std::size_t p) { return !(hmin <= x[p]); });
  // _select_by_peak_distance: from the highest peak down, remove neighbours closer than distance.
  const double d = std::ceil(distance);
  std::vector<std::size_t> order(peaks.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[peaks[a]] < x[peaks[b]]; });
  std::vector<char> keep(peaks.size(), 1);
  for (std::size_t r = order.size(); r-- > 0;) {
    const std::size_t j = order[r];
    if (!keep[j]) continue;
    for (std::size_t k = j; k-- > 0 && static_cast<double>(peaks[j] - peaks[k]) < d;) keep[k] = 0;
    for (std::size_t k = j + 1; k < peaks.size() && static_cast<double>(peaks[k] - peaks[j]) < d; ++k) keep[k] = 0;
  }
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < peaks.size(); ++k)
    if (keep[k]) out.push_back(peaks[k]);
  return out;
}

/// PyWavelets' db4 decomposition low-pass filter.
inline const std::vector<double>& db4_dec_lo() {
  static const std::vector<double> f{-0.010597401785069032, 0.0328830116668852, 0.030841381835560764, -0.18703481171909309,
                                     -0.027983769416859854, 0.6308807679298589, 0.7148465705529157,   0.2303778133088965};
  return f;
}

/// pywt.dwt_max_level(n, filter_len).
inline int dwt_max_level(std::size_t n, std::size_t filter_len) {
  if (filter_len < 2 || n < filter_len - 1) return 0;
  return static_cast<int>(std::floor(std::log2(static_cast<double>(n) / static_cast<double>(filter_len - 1))));
}

/// One float32 DWT level, symmetric mode, as PyWavelets' float path (float filters and sums).
inline void dwt_f32(const std::vector<float>& x, const std::vector<float>& lo, const std::vector<float>& hi, std::vector<float>& a, std::vector<float>& d) {
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(x.size()), F = static_cast<std::ptrdiff_t>(lo.size());
  const std::size_t m = static_cast<std::size_t>((n + F - 1) / 2);
  a.assign(m, 0.0f);
  d.assign(m, 0.0f);
  auto at = [&](std::ptrdiff_t i) {
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - 1 - i;
    return x[static_cast<std::size_t>(i)];
  };
  std::size_t o = 0;
  for (std::ptrdiff_t i = 1; i < n + F - 1; i += 2, ++o) {
    float sa = 0, sd = 0;
    if (i - (F - 1) >= 0 && i < n) {  // interior: no reflection (same summation order as the edges)
      const float* px = x.data() + i;
      for (std::ptrdiff_t j = 0; j < F; ++j) {
        sa += lo[static_cast<std::size_t>(j)] * px[-j];
        sd += hi[static_cast<std::size_t>(j)] * px[-j];
      }
    } else {
      for (std::ptrdiff_t j = 0; j < F; ++j) {
        const float v = at(i - j);
        sa += lo[static_cast<std::size_t>(j)] * v;
        sd += hi[static_cast<std::size_t>(j)] * v;
      }
    }
    a[o] = sa, d[o] = sd;
  }
}

class EcgFeatureExtractor {
 public:
  static constexpr std::size_t features_per_lead = 24, rag_features_per_lead = 19;

  explicit EcgFeatureExtractor(double target_sf = 250) : fs_(target_sf) {
    const auto& lo = db4_dec_lo();
    const std::size_t F = lo.size();
    lo_.resize(F), hi_.resize(F);
    for (std::size_t k = 0; k < F; ++k) {
      lo_[k] = static_cast<float>(lo[k]);
      hi_[k] = static_cast<float>((k % 2 == 0 ? -1.0 : 1.0) * lo[F - 1 - k]);
    }
  }

  /// `extract_features`: [leads x L] lead-major -> 24 per lead (float64).
  [[nodiscard]] std::vector<double> features(std::span<const float> ecg, std::size_t leads = 12) const { return extract(ecg, leads, false); }
  /// `extract_rag_features`: without mean, std, median, p25, p75 -> 19 per lead.
  [[nodiscard]] std::vector<double> rag_features(std::span<const float> ecg, std::size_t leads = 12) const { return extract(ecg, leads, true); }

  static const std::vector<std::string>& rag_feature_names() {
    static const std::vector<std::string> n{"max", "min", "total power", "peak frequency power", "dominant frequency", "spectral centroid", "heart rate",
                                            "heart rate variability", "qrs duration", "t wave amplitude", "st deviation", "wavelet coefficient approximation",
                                            "wavelet coefficient detail level 5", "wavelet coefficient detail level 4", "wavelet coefficient detail level 3",
                                            "wavelet coefficient detail level 2", "wavelet coefficient detail level 1", "average absolute difference",
                                            "root mean square difference"};
    return n;
  }
  /// The [P] list (24 names; upstream printed only the first 24 values, i.e. lead I's).
  static const std::vector<std::string>& feature_names() {
    static const std::vector<std::string> n{"mean", "std", "max", "min", "median", "25th percentile", "75th percentile", "total power", "peak frequency power",
                                            "dominant frequency", "spectral centroid", "heart rate", "heart rate variability", "qrs duration", "t wave amplitude",
                                            "st deviation", "wavelet coefficient approximation", "wavelet coefficient detail level 5",
                                            "wavelet coefficient detail level 4", "wavelet coefficient detail level 3", "wavelet coefficient detail level 2",
                                            "wavelet coefficient detail level 1", "average absolute difference", "root mean square difference"};
    return n;
  }

 private:
  std::vector<double> extract(std::span<const float> ecg, std::size_t leads, bool rag) const {
    if (leads == 0 || ecg.empty() || ecg.size() % leads) throw Error("ECG features: the signal is not [leads, samples]");
    const std::size_t L = ecg.size() / leads;
    if (L < 2) throw Error("ECG features: a lead needs at least 2 samples");
    for (float v : ecg)
      if (!std::isfinite(v)) throw Error("ECG features: the signal contains NaN or Inf");
    std::vector<double> out;
    out.reserve(leads * (rag ? rag_features_per_lead : features_per_lead));
    for (std::size_t l = 0; l < leads; ++l) lead_features(ecg.subspan(l * L, L), rag, out);
    return out;
  }

  void lead_features(std::span<const float> x, bool rag, std::vector<double>& out) const {
    const std::size_t n = x.size();
    const std::vector<float> v(x.begin(), x.end());
    const float mx = *std::max_element(v.begin(), v.end()), mn = *std::min_element(v.begin(), v.end());
    if (!rag) out.push_back(numpy::mean(v.data(), n)), out.push_back(numpy::stddev(v.data(), n));
    out.push_back(mx), out.push_back(mn);
    if (!rag) {  // the median and both percentiles read six order statistics: select them, no sort
      std::vector<float> part = v;
      const auto [a25, b25] = numpy::percentile_positions(n, 25);
      const auto [a75, b75] = numpy::percentile_positions(n, 75);
      std::vector<std::size_t> pos{n / 2, n % 2 ? n / 2 : n / 2 - 1, a25, b25, a75, b75};
      std::sort(pos.begin(), pos.end());
      pos.erase(std::unique(pos.begin(), pos.end()), pos.end());
      numpy::select_sorted(part, 0, n, pos.data(), pos.data() + pos.size());
      out.push_back(numpy::median_sorted(part)), out.push_back(numpy::percentile_sorted(part, 25)), out.push_back(numpy::percentile_sorted(part, 75));
    }
    // Welch PSD features.
    const WelchResult w = welch(x, fs_, std::min<std::size_t>(1024, n));
    const float total = numpy::sum(w.psd.data(), w.psd.size());
    const auto peak = std::max_element(w.psd.begin(), w.psd.end());
    out.push_back(total), out.push_back(*peak), out.push_back(w.freqs[static_cast<std::size_t>(peak - w.psd.begin())]);
    if (total > 0) {
      std::vector<double> fp(w.psd.size());
      for (std::size_t k = 0; k < fp.size(); ++k) fp[k] = w.freqs[k] * static_cast<double>(w.psd[k]);
      out.push_back(numpy::sum(fp.data(), fp.size()) / static_cast<double>(total));
    } else {
      out.push_back(0.0);
    }
    // Peaks (find_peaks works on float64 data) and the heart-rate features.
    std::vector<std::size_t> peaks;
    if (mx != mn) {
      const double height = 0.3 * static_cast<double>(mx - mn) + static_cast<double>(mn);
      const double distance = static_cast<double>(std::max(static_cast<int>(0.2 * fs_), 1));
      const std::vector<double> xd(v.begin(), v.end());
      peaks = find_peaks(xd, height, distance);
    }
    heart_rate_features(v, peaks, out);
    wavelet_features(v, out);
    std::vector<float> ad(n - 1), sq(n - 1);
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const float dv = v[i + 1] - v[i];
      ad[i] = std::abs(dv);
      sq[i] = dv * dv;
    }
    out.push_back(numpy::mean(ad.data(), ad.size()));
    out.push_back(std::sqrt(numpy::mean(sq.data(), sq.size())));
  }

  void heart_rate_features(const std::vector<float>& x, const std::vector<std::size_t>& peaks, std::vector<double>& out) const {
    if (peaks.size() <= 1) {
      out.insert(out.end(), {0.0, 0.0, 0.0, 0.0, 0.0});
      return;
    }
    std::vector<double> rr(peaks.size() - 1);
    for (std::size_t i = 0; i + 1 < peaks.size(); ++i) rr[i] = static_cast<double>(peaks[i + 1] - peaks[i]) / fs_;
    const double mrr = numpy::mean(rr.data(), rr.size());
    out.push_back(mrr > 0 ? 60.0 / mrr : 0.0);
    out.push_back(rr.size() > 1 ? numpy::stddev(rr.data(), rr.size()) : 0.0);
    std::vector<double> qrs;
    for (auto p : peaks) qrs.push_back(qrs_duration(x, p));
    out.push_back(numpy::mean(qrs.data(), qrs.size()));
    // T amplitude: range of the signal between the last two peaks.
    const std::size_t start = peaks[peaks.size() - 2], end = std::min(peaks.back(), x.size() - 1);
    if (start >= end) {
      out.push_back(0.0);
    } else {
      const auto [lo, hi] = std::minmax_element(x.begin() + static_cast<std::ptrdiff_t>(start), x.begin() + static_cast<std::ptrdiff_t>(end));
      out.push_back(*hi - *lo);
    }
    // ST deviation 80 ms after the last peak.
    if (peaks.back() >= x.size()) {
      out.push_back(0.0);
    } else {
      const std::size_t st = std::min(peaks.back() + static_cast<std::size_t>(0.08 * fs_), x.size() - 1);
      out.push_back(x[st] - x[peaks.back()]);
    }
  }

  [[nodiscard]] double qrs_duration(const std::vector<float>& x, std::size_t peak) const {
    const auto window = static_cast<std::size_t>(0.1 * fs_);
    const std::size_t start = peak > window ? peak - window : 0, end = std::min(x.size(), peak + window);
    if (end <= start) return 0;
    std::vector<float> seg(x.begin() + static_cast<std::ptrdiff_t>(start), x.begin() + static_cast<std::ptrdiff_t>(end));
    const float mx = *std::max_element(seg.begin(), seg.end()), mn = *std::min_element(seg.begin(), seg.end());
    if (mx == mn) return 0;
    // A float64 threshold compared with a float32 array: NumPy casts the scalar to float32.
    const auto threshold = static_cast<float>(0.1 * static_cast<double>(mx - mn) + static_cast<double>(mn));
    const float m = numpy::mean(seg.data(), seg.size());
    std::size_t count = 0;
    for (float s : seg) count += std::abs(s - m) > threshold;
    return static_cast<double>(count) / fs_;
  }

  void wavelet_features(const std::vector<float>& x, std::vector<double>& out) const {
    const int level = std::min(5, dwt_max_level(x.size(), lo_.size()));
    std::vector<std::vector<float>> details;
    std::vector<float> a = x, next_a, d;
    for (int i = 0; i < level; ++i) {
      dwt_f32(a, lo_, hi_, next_a, d);
      details.push_back(d);
      a.swap(next_a);
    }
    auto mean_abs = [](const std::vector<float>& c) {
      std::vector<float> ab(c.size());
      for (std::size_t i = 0; i < c.size(); ++i) ab[i] = std::abs(c[i]);
      return numpy::mean(ab.data(), ab.size());
    };
    out.push_back(mean_abs(a));
    for (std::size_t i = details.size(); i-- > 0;) out.push_back(mean_abs(details[i]));
  }

  double fs_;
  std::vector<float> lo_, hi_;
};

}  // namespace ecgbench::signal
