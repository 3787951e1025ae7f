// Tests for include/ecgbench/signal: not-a-knot cubic resampling (hand-derived cases and scipy's
// outputs in shared/data/preprocess-golden), the polyphase resampler, segmentation.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

#include "ecgbench/core/npy.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/signal/signal.hpp"

using namespace ecgbench;
using namespace ecgbench::signal;

TEST_CASE("not-a-knot spline reproduces cubics exactly", "[signal][cubic]") {
  // A not-a-knot spline through samples of any cubic polynomial is that polynomial; with 4 points
  // it is the unique interpolating cubic.
  auto p = [](double u) { return 0.5 - 1.25 * u + 0.3 * u * u - 0.02 * u * u * u; };
  for (std::size_t n : {4u, 5u, 6u, 11u, 40u}) {
    std::vector<double> y(n);
    for (std::size_t i = 0; i < n; ++i) y[i] = p(static_cast<double>(i));
    for (std::size_t m : {2u, 3u, 7u, 19u, 101u}) {
      const auto out = resample_cubic(y, m);
      for (std::size_t j = 0; j < m; ++j) {
        const double u = static_cast<double>(j) * static_cast<double>(n - 1) / static_cast<double>(m - 1);
        REQUIRE(out[j] == Approx(p(u)).margin(1e-11));
      }
    }
  }
}

TEST_CASE("not-a-knot second derivatives match a hand-solved system", "[signal][cubic]") {
  // y = [0, 1, 0, 1, 0] (h = 1): d = 6*(y[i-1]-2y[i]+y[i+1]) = [-, -12, 12, -12, -];
  // M1 = d1/6 = -2, M3 = d3/6 = -2, M2 = (d2 - M1 - M3)/4 = (12 + 4)/4 = 4,
  // M0 = 2 M1 - M2 = -8, M4 = 2 M3 - M2 = -8.
  std::vector<double> y{0, 1, 0, 1, 0}, M, scratch;
  not_a_knot_second_derivatives(y, M, scratch);
  CHECK(M == std::vector<double>{-8, -2, 4, -2, -8});
  // Midpoint of [0, 1] (a = b = 1/2): M0/48 + M1/48 + (y0 - M0/6)/2 + (y1 - M1/6)/2
  //   = -10/48 + 4/6 + 4/6 = 1.125.
  const auto out = resample_cubic(y, 9);
  CHECK(out[1] == Approx(1.125).epsilon(1e-14));
  CHECK(out[0] == 0.0);
  CHECK(out[2] == Approx(1.0).epsilon(1e-14));
  CHECK_THROWS_WITH(resample_cubic(std::vector<double>{1, 2, 3}, 5), Catch::Contains("at least 4 samples"));
  CHECK(resampled_length(5000, 500, 250) == 2500);
  CHECK(resampled_length(4096, 400, 250) == 2560);
  CHECK(resampled_length(999, 360, 250) == 693);  // int(693.75)
}

TEST_CASE("interleaved multi-lead cubic resampling equals the per-lead kernel", "[signal][cubic]") {
  auto rng = make_rng(9);
  for (std::size_t leads : {5u, 12u}) {
    const std::size_t n = 503, m = 251;
    std::vector<double> x(leads * n), out(leads * m);
    for (auto& v : x) v = normal(rng);  // interleaved [n][leads]
    CubicBatchScratch s;
    resample_cubic_interleaved(x.data(), leads, n, out.data(), m, s);
    for (std::size_t l = 0; l < leads; ++l) {
      std::vector<double> lead(n);
      for (std::size_t i = 0; i < n; ++i) lead[i] = x[i * leads + l];
      const auto one = resample_cubic(lead, m);
      for (std::size_t j = 0; j < m; ++j) REQUIRE(out[j * leads + l] == Approx(one[j]).margin(1e-13));
    }
  }
}

TEST_CASE("firwin Kaiser low-pass equals the closed form", "[signal][polyphase]") {
  // beta = 0 is the rectangular window: h = c*sinc(c*m) normalised to unit sum.
  const auto h = firwin_kaiser_lowpass(3, 0.5, 0.0);
  const double side = 0.5 * std::sin(std::numbers::pi / 2) / (std::numbers::pi / 2), mid = 0.5;
  const double sum = 2 * side + mid;
  CHECK(h[0] == Approx(side / sum).epsilon(1e-14));
  CHECK(h[1] == Approx(mid / sum).epsilon(1e-14));
  CHECK(h[2] == Approx(side / sum).epsilon(1e-14));
  // Kaiser window value at the ends: I0(0)/I0(beta) = 1/I0(5) = 1/27.239871823604...
  CHECK(signal::detail::bessel_i0(5.0) == Approx(27.239871823604442).epsilon(1e-13));
}

TEST_CASE("polyphase resampler: scipy's lengths, DC, passband and stopband", "[signal][polyphase]") {
  const auto r = PolyphaseResampler::for_rates(500, 250);
  CHECK(r.up() == 1);
  CHECK(r.down() == 2);
  CHECK(r.output_length(5000) == 2500);
  CHECK(r.output_length(4999) == 2500);  // ceil
  CHECK(r.filter().size() == 41);        // 2 * 10 * max(up, down) + 1
  const auto r2 = PolyphaseResampler::for_rates(400, 250);
  CHECK(r2.up() == 5);
  CHECK(r2.down() == 8);
  CHECK(r2.output_length(4096) == 2560);
  for (const auto* rs : {&r, &r2}) {
    const double fs_in = rs == &r ? 500.0 : 400.0;
    const std::size_t n = 4000;
    std::vector<double> dc(n, 1.5), low(n), high(n);
    for (std::size_t t = 0; t < n; ++t) {
      low[t] = std::sin(2 * std::numbers::pi * 5.0 * t / fs_in);
      high[t] = std::sin(2 * std::numbers::pi * 180.0 * t / fs_in);  // above the new Nyquist (125 Hz)
    }
    const auto y_dc = rs->apply(dc), y_low = rs->apply(low), y_high = rs->apply(high);
    const double fs_out = fs_in * rs->up() / rs->down();
    double err_dc = 0, err_low = 0, peak_high = 0;
    for (std::size_t j = 100; j + 100 < y_dc.size(); ++j) {  // away from the edges
      err_dc = std::max(err_dc, std::abs(y_dc[j] - 1.5));
      err_low = std::max(err_low, std::abs(y_low[j] - std::sin(2 * std::numbers::pi * 5.0 * j / fs_out)));
      peak_high = std::max(peak_high, std::abs(y_high[j]));
    }
    CHECK(err_dc < 1e-3);    // Kaiser(5) ripple
    CHECK(err_low < 2e-3);   // zero delay: aligned with the input
    CHECK(peak_high < 0.01); // > 40 dB attenuation
  }
  CHECK_THROWS_WITH(PolyphaseResampler::for_rates(360.5, 250), Catch::Contains("integer rates"));
}

TEST_CASE("polyphase resampler equals scipy.signal.resample_poly, edges included", "[signal][polyphase][golden]") {
  // tests/signal/golden/make_resample_poly_golden.py: scipy 1.10.1, default Kaiser(5) window, zero padding.
  const auto dir = std::filesystem::path(ECGBENCH_SOURCE_DIR) / "tests/signal/golden";
  for (const auto& [name, fs] : std::vector<std::pair<std::string, double>>{
           {"500_2000", 500}, {"500_2001", 500}, {"360_1440", 360}, {"360_1441", 360}, {"1000_4000", 1000}, {"1000_3999", 1000}}) {
    INFO(name);
    const auto x = npy::load(dir / ("in_" + name + ".npy")).to_vector<double>();
    const auto want = npy::load(dir / ("out_" + name + ".npy")).to_vector<double>();
    const auto r = PolyphaseResampler::for_rates(fs, 250);
    REQUIRE(r.output_length(x.size()) == want.size());
    const auto got = r.apply(x);
    double worst = 0;
    for (std::size_t j = 0; j < want.size(); ++j) worst = std::max(worst, std::abs(got[j] - want[j]));
    CHECK(worst < 1e-12);  // float64 both sides; only summation order differs
    CHECK(got.front() == Approx(want.front()).margin(1e-12));
    CHECK(got.back() == Approx(want.back()).margin(1e-12));
  }
}

TEST_CASE("segmentation and NaN handling", "[signal][segment]") {
  std::vector<double> x{1, 2, std::nan(""), std::numeric_limits<double>::infinity(), 5, -std::numeric_limits<double>::infinity()};
  CHECK(replace_non_finite(std::span<double>(x)) == 3);
  CHECK(x == std::vector<double>{1, 2, 0, 0, 5, 0});
  CHECK(segment_count(2500, 1250) == 2);
  CHECK(segment_count(2560, 1250) == 2);
  CHECK(segment_count(2560, 500) == 5);
  CHECK(segment_count(1000, 1250) == 0);
  // 2 leads x 7 samples, frame-major (lead 0 = 0..6, lead 1 = 10..16); segment 1 = samples 3..5.
  std::vector<double> two(14);
  for (std::size_t t = 0; t < 7; ++t) {
    two[t * 2] = static_cast<double>(t);
    two[t * 2 + 1] = static_cast<double>(10 + t);
  }
  std::vector<float> seg(6);
  copy_segment<double, float>(two, 2, 3, 1, std::span<float>(seg));
  CHECK(seg == std::vector<float>{3, 4, 5, 13, 14, 15});
}
