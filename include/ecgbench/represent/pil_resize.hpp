// Image resizing exactly as Pillow's `Image.resize(size, resample)` computes it (libImaging/Resample.c):
// separable convolution, horizontal pass then vertical, each rounding to uint8; the filter support
// scaled by the reduction factor when shrinking; coefficients normalised, then converted to 22-bit
// fixed point with Pillow's rounding. BILINEAR (triangle, support 1) and BICUBIC (a = -0.5, support
// 2), what transformers' slow image processors use.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/represent/image.hpp"

namespace ecgbench::represent {

enum class Resample { nearest = 0, bilinear = 2, bicubic = 3 };

namespace detail {

inline double bilinear_filter(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}
inline double bicubic_filter(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

struct Coefficients {
  int ksize = 0;
  std::vector<int> bounds;    ///< per output: xmin, xcount
  std::vector<std::int32_t> kk;  ///< per output: ksize fixed-point weights
};

/// Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis (box = [0, in_size)).
inline Coefficients precompute(int in_size, int out_size, Resample r) {
  constexpr int precision_bits = 32 - 8 - 2;
  const double support0 = r == Resample::bicubic ? 2.0 : 1.0;
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = support0 * filterscale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<std::size_t>(out_size) * 2);
  c.kk.assign(static_cast<std::size_t>(out_size) * static_cast<std::size_t>(c.ksize), 0);
  std::vector<double> k(static_cast<std::size_t>(c.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    double ww = 0.0;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);  // C cast truncates toward zero
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    for (int x = 0; x < xmax; ++x) {
      const double arg = (x + xmin - center + 0.5) * ss;
      const double w = r == Resample::bicubic ? bicubic_filter(arg) : bilinear_filter(arg);
      k[static_cast<std::size_t>(x)] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x)
      if (ww != 0.0) k[static_cast<std::size_t>(x)] /= ww;
    for (int x = xmax; x < c.ksize; ++x) k[static_cast<std::size_t>(x)] = 0;
    c.bounds[static_cast<std::size_t>(xx) * 2] = xmin;
    c.bounds[static_cast<std::size_t>(xx) * 2 + 1] = xmax;
    for (int x = 0; x < c.ksize; ++x) {
      const double v = k[static_cast<std::size_t>(x)] * (1 << precision_bits);
      c.kk[static_cast<std::size_t>(xx) * static_cast<std::size_t>(c.ksize) + static_cast<std::size_t>(x)] =
          static_cast<std::int32_t>(v < 0 ? std::trunc(-0.5 + v) : std::trunc(0.5 + v));
    }
  }
  return c;
}

inline std::uint8_t clip8(std::int64_t v) {
  constexpr int precision_bits = 32 - 8 - 2;
  if (v >= (std::int64_t{255} << precision_bits)) return 255;
  if (v <= 0) return 0;
  return static_cast<std::uint8_t>(v >> precision_bits);
}

}  // namespace detail

/// Pillow-exact resize of an RGB image.
inline RgbImage pil_resize(const RgbImage& in, int out_w, int out_h, Resample r) {
  if (out_w <= 0 || out_h <= 0) throw Error("resize: target size must be positive");
  if (in.width <= 0 || in.height <= 0) throw Error("resize: empty image");
  if (r == Resample::nearest) {
    RgbImage out(out_w, out_h);
    for (int y = 0; y < out_h; ++y)
      for (int x = 0; x < out_w; ++x) {
        const int sx = std::min(in.width - 1, static_cast<int>((x + 0.5) * in.width / out_w));
        const int sy = std::min(in.height - 1, static_cast<int>((y + 0.5) * in.height / out_h));
        for (int c = 0; c < 3; ++c) out.at(x, y, c) = in.at(sx, sy, c);
      }
    return out;
  }
  // Pillow's 8-bit passes: int32 accumulators (its `int ss0, ss1, ss2`), the three channels of a
  // pixel in one sweep over the taps.
  constexpr std::int32_t half = std::int32_t{1} << (32 - 8 - 2 - 1);
  // Horizontal pass.
  RgbImage tmp;
  const RgbImage* src = &in;
  if (out_w != in.width) {
    const auto c = detail::precompute(in.width, out_w, r);
    tmp = RgbImage(out_w, in.height);
    for (int y = 0; y < in.height; ++y) {
      const std::uint8_t* row = in.rgb.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(in.width) * 3;
      std::uint8_t* dst = tmp.rgb.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(out_w) * 3;
      for (int xx = 0; xx < out_w; ++xx) {
        const int xmin = c.bounds[static_cast<std::size_t>(xx) * 2], xmax = c.bounds[static_cast<std::size_t>(xx) * 2 + 1];
        const std::int32_t* k = &c.kk[static_cast<std::size_t>(xx) * static_cast<std::size_t>(c.ksize)];
        const std::uint8_t* p = row + static_cast<std::size_t>(xmin) * 3;
        std::int32_t s0 = half, s1 = half, s2 = half;
        for (int x = 0; x < xmax; ++x, p += 3) {
          s0 += p[0] * k[x];
          s1 += p[1] * k[x];
          s2 += p[2] * k[x];
        }
        dst[xx * 3] = detail::clip8(s0), dst[xx * 3 + 1] = detail::clip8(s1), dst[xx * 3 + 2] = detail::clip8(s2);
      }
    }
    src = &tmp;
  }
  if (out_h == src->height) return src == &in ? in : tmp;
  // Vertical pass: each output row is a weighted sum of whole input rows (contiguous, vectorisable).
  const auto c = detail::precompute(src->height, out_h, r);
  RgbImage out(out_w, out_h);
  const std::size_t n = static_cast<std::size_t>(out_w) * 3;
  std::vector<std::int32_t> acc(n);
  for (int yy = 0; yy < out_h; ++yy) {
    const int ymin = c.bounds[static_cast<std::size_t>(yy) * 2], ymax = c.bounds[static_cast<std::size_t>(yy) * 2 + 1];
    const std::int32_t* k = &c.kk[static_cast<std::size_t>(yy) * static_cast<std::size_t>(c.ksize)];
    std::fill(acc.begin(), acc.end(), half);
    for (int y = 0; y < ymax; ++y) {
      const std::uint8_t* row = src->rgb.data() + static_cast<std::size_t>(y + ymin) * n;
      const std::int32_t w = k[y];
      for (std::size_t i = 0; i < n; ++i) acc[i] += row[i] * w;
    }
    std::uint8_t* dst = out.rgb.data() + static_cast<std::size_t>(yy) * n;
    for (std::size_t i = 0; i < n; ++i) dst[i] = detail::clip8(acc[i]);
  }
  return out;
}

}  // namespace ecgbench::represent
