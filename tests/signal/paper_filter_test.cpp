// Tests for the paper-era chain (signal/iir.hpp, wavelet.hpp, paper_filter.hpp) against scipy /
// PyWavelets outputs in shared/data/preprocess-golden/stages and hand-derived values.
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <numbers>

#include "ecgbench/core/npy.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/signal/signal.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::signal;

namespace {
double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}
}  // namespace

TEST_CASE("iirnotch and butter: closed forms", "[signal][iir]") {
  // iirnotch at fs = 4 f0: w0 = pi/2, cos(w0) = 0 -> b = g [1, 0, 1], a = [1, 0, 2g - 1],
  // g = 1 / (1 + tan(pi / (4 Q))).
  const auto n = iirnotch(50, 30, 200);
  const double g = 1.0 / (1.0 + std::tan(std::numbers::pi / 120.0));
  CHECK(n.b[0] == Approx(g).epsilon(1e-14));
  CHECK(std::abs(n.b[1]) < 1e-15);
  CHECK(n.a[2] == Approx(2 * g - 1).epsilon(1e-14));
  // First-order Butterworth low-pass at Wn = 0.5: bilinear of 1/(s/wc + 1) with wc = 4 tan(pi/4) = 4
  // and fs2 = 4 gives b = [0.5, 0.5], a = [1, 0].
  const auto lp = butter(1, {0.5}, FilterBand::lowpass);
  CHECK(lp.b[0] == Approx(0.5).epsilon(1e-14));
  CHECK(lp.b[1] == Approx(0.5).epsilon(1e-14));
  CHECK(std::abs(lp.a[1]) < 1e-15);
  // Unit gain at DC (low-pass), at Nyquist (high-pass), and at the centre of a band-pass.
  auto gain = [](const FilterCoefficients& f, double w) {
    std::complex<double> nb = 0, na = 0;
    for (std::size_t k = 0; k < f.b.size(); ++k) nb += f.b[k] * std::polar(1.0, -w * static_cast<double>(k));
    for (std::size_t k = 0; k < f.a.size(); ++k) na += f.a[k] * std::polar(1.0, -w * static_cast<double>(k));
    return std::abs(nb / na);
  };
  CHECK(gain(butter(4, {0.2}, FilterBand::lowpass), 0.0) == Approx(1.0).epsilon(1e-12));
  CHECK(gain(butter(4, {0.2}, FilterBand::highpass), std::numbers::pi) == Approx(1.0).epsilon(1e-12));
  const auto bp = butter(4, {0.1, 0.4}, FilterBand::bandpass);
  CHECK(bp.b.size() == 9);
  // -3 dB at the (pre-warped) edges.
  CHECK(gain(bp, 0.1 * std::numbers::pi) == Approx(1 / std::sqrt(2.0)).epsilon(1e-10));
  CHECK(gain(bp, 0.4 * std::numbers::pi) == Approx(1 / std::sqrt(2.0)).epsilon(1e-10));
  CHECK_THROWS_WITH(butter(4, {1.2}, FilterBand::lowpass), Catch::Contains("(0, 1)"));
  CHECK_THROWS_WITH(PaperFilterBank(100), Catch::Contains("above 200 Hz"));
}

TEST_CASE("filter coefficients equal scipy's for 500 Hz", "[signal][iir]") {
  ECGBENCH_REQUIRE_TEST_DATA("preprocess-golden/stages");
  const PaperFilterBank bank(500);
  const auto p = test_data_path / "06000_hr_leadII_";
  auto load = [&](const char* s) { return npy::load(p.string() + s + ".npy").to_vector<double>(); };
  CHECK(max_abs_diff(bank.notch50.b, load("notch50_b")) < 1e-12);
  CHECK(max_abs_diff(bank.notch50.a, load("notch50_a")) < 1e-12);
  CHECK(max_abs_diff(bank.notch60.b, load("notch60_b")) < 1e-12);
  CHECK(max_abs_diff(bank.notch60.a, load("notch60_a")) < 1e-12);
  CHECK(max_abs_diff(bank.bandpass.b, load("bandpass_b")) < 1e-12);
  CHECK(max_abs_diff(bank.bandpass.a, load("bandpass_a")) < 1e-12);
  CHECK(max_abs_diff(bank.highpass.b, load("highpass_b")) < 1e-12);
  CHECK(max_abs_diff(bank.highpass.a, load("highpass_a")) < 1e-12);
}

TEST_CASE("the chain's stages equal scipy / PyWavelets on PTB-XL 6000 lead II", "[signal][paper]") {
  ECGBENCH_REQUIRE_TEST_DATA("preprocess-golden/stages");
  const auto p = test_data_path / "06000_hr_leadII_";
  auto load = [&](const char* s) { return npy::load(p.string() + s + ".npy").to_vector<double>(); };
  const PaperFilterBank bank(500);
  // Each stage from scipy's output of the previous one: isolates the stage.
  const char* stages[] = {"input", "notch50", "notch60", "bandpass", "highpass"};
  const FilterCoefficients* filters[] = {&bank.notch50, &bank.notch60, &bank.bandpass, &bank.highpass};
  std::vector<double> scratch;
  for (int k = 0; k < 4; ++k) {
    auto x = load(stages[k]);
    filtfilt_interleaved(*filters[k], x.data(), x.size(), 1, scratch);
    INFO("stage " << stages[k + 1]);
    CHECK(max_abs_diff(x, load(stages[k + 1])) < 1e-10);
  }
  // Chained from the input: the order-8 band-pass and the 0.05 Hz high-pass in transfer-function
  // form (as scipy designs them) have poles within 1e-3 of z = 1 and amplify last-bit differences
  // of the notch stages (1e-15 here) to about 1e-8 and 1e-5; still far below the float32 output.
  auto x = load("input");
  for (auto* f : filters) filtfilt_interleaved(*f, x.data(), x.size(), 1, scratch);
  CHECK(max_abs_diff(x, load("highpass")) < 1e-4);
  // The wavelet stage from scipy's own high-pass output, so that each stage is checked alone.
  auto h = load("highpass");
  PaperFilterScratch s;
  std::vector<double> sigma;
  wavelet_denoise_interleaved(h.data(), h.size(), 1, &sigma, s);
  CHECK(sigma[0] == Approx(load("sigma")[0]).epsilon(1e-12));
  CHECK(max_abs_diff(h, load("wavelet")) < 1e-10);
}

TEST_CASE("filtfilt removes what it should from a sum of sines", "[signal][iir]") {
  const double fs = 500;
  const std::size_t n = 5000;
  std::vector<double> x(n);
  auto sine = [&](double f, std::size_t t) { return std::sin(2 * std::numbers::pi * f * static_cast<double>(t) / fs); };
  for (std::size_t t = 0; t < n; ++t) x[t] = sine(1, t) + sine(50, t) + sine(60, t) + sine(150, t);
  const PaperFilterBank bank(fs);
  std::vector<double> y = x, scratch;
  filtfilt_interleaved(bank.notch50, y.data(), n, 1, scratch);
  filtfilt_interleaved(bank.notch60, y.data(), n, 1, scratch);
  filtfilt_interleaved(bank.bandpass, y.data(), n, 1, scratch);
  filtfilt_interleaved(bank.highpass, y.data(), n, 1, scratch);
  // Amplitude and phase of each component over a whole number of cycles away from the edges.
  // (A plain max |y - sin| would also see the slow transient of the 0.05 Hz high-pass, whose time
  // constant is seconds.)
  auto component = [&](double f) {
    std::complex<double> acc = 0;
    for (std::size_t t = 1000; t < 4000; ++t) acc += y[t] * std::polar(1.0, -2 * std::numbers::pi * f * static_cast<double>(t) / fs);
    return acc * (2.0 / 3000.0);
  };
  const auto c1 = component(1);
  CHECK(std::abs(c1) == Approx(1.0).margin(0.03));
  // sin = Im(e^{i w t}): the projection is -i for zero phase.
  CHECK(std::abs(c1.real()) < 0.03);
  CHECK(std::abs(component(50)) < 0.01);
  CHECK(std::abs(component(60)) < 0.01);
  CHECK(std::abs(component(150)) < 0.02);  // Butterworth stop band, squared by filtfilt
}

TEST_CASE("wavedec / waverec round trip is exact without thresholding", "[signal][wavelet]") {
  auto rng = make_rng(4);
  const auto& w = db6();
  // Orthonormality of the PyWavelets db6 taps: sum h^2 = 1, sum h = sqrt(2).
  double s2 = 0, s1 = 0;
  for (double h : w.dec_lo) {
    s2 += h * h;
    s1 += h;
  }
  CHECK(s2 == Approx(1.0).epsilon(1e-12));
  CHECK(s1 == Approx(std::sqrt(2.0)).epsilon(1e-12));
  for (std::size_t n : {5000u, 4096u, 1001u, 64u}) {
    const std::size_t L = 3;
    std::vector<double> x(n * L);
    for (auto& v : x) v = normal(rng);
    const auto c = wavedec_interleaved(x.data(), n, L, w, 4);
    REQUIRE(c.bands.size() == 5);
    CHECK(c.lengths[4] == dwt_length(n, 12));  // cD1
    std::size_t len = 0;
    const auto y = waverec_interleaved(c, L, w, len);
    REQUIRE(len >= n);
    double worst = 0;
    for (std::size_t i = 0; i < n * L; ++i) worst = std::max(worst, std::abs(y[i] - x[i]));
    CHECK(worst < 1e-10);
  }
}

TEST_CASE("12-lead inverse DWT (paired outputs) equals the one-lead-at-a-time transform", "[signal][wavelet]") {
  auto rng = make_rng(9);
  const auto& w = db6();
  for (std::size_t m : {6u, 7u, 40u, 1257u}) {
    std::vector<double> a(m * 12), d(m * 12);
    for (auto& v : a) v = normal(rng);
    for (auto& v : d) v = normal(rng);
    const std::size_t n = idwt_length(m, 12);
    std::vector<double> fast(n * 12), one(n);
    idwt_interleaved(a.data(), d.data(), m, 12, w, fast.data());
    double worst = 0;
    for (std::size_t l = 0; l < 12; ++l) {
      std::vector<double> al(m), dl(m);
      for (std::size_t c = 0; c < m; ++c) {
        al[c] = a[c * 12 + l];
        dl[c] = d[c * 12 + l];
      }
      idwt_interleaved(al.data(), dl.data(), m, 1, w, one.data());
      for (std::size_t t = 0; t < n; ++t) worst = std::max(worst, std::abs(fast[t * 12 + l] - one[t]));
    }
    INFO("m " << m);
    CHECK(worst < 1e-13);  // same sums in the same order; FMA may move the last bits
  }
}

TEST_CASE("FFT resampling equals scipy.signal.resample's definition", "[signal][paper]") {
  // A band-limited signal resampled from 9 to 8 samples: values of the same trigonometric
  // polynomial (no Nyquist term involved).
  std::vector<double> x(9);
  for (std::size_t t = 0; t < 9; ++t) x[t] = 1.0 + std::cos(2 * std::numbers::pi * t / 9.0) + 0.5 * std::sin(2 * std::numbers::pi * 2 * t / 9.0);
  const auto y = fft_resample(x, 8);
  for (std::size_t t = 0; t < 8; ++t)
    CHECK(y[t] == Approx(1.0 + std::cos(2 * std::numbers::pi * t / 8.0) + 0.5 * std::sin(2 * std::numbers::pi * 2 * t / 8.0)).margin(1e-12));
}
