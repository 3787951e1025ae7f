// Image augmentation as upstream's `--augment_image` (imgaug): with probability 0.6 per image, a
// sequence of four steps each applied with probability 0.5: Multiply(0.8..1.2) (all channels one
// factor), Affine(rotate -5..5 degrees about the centre, bilinear, black fill), GaussianBlur(sigma
// 0..1.5), AddToHueAndSaturation(-30..30, per channel: independent hue and saturation shifts, HSV
// with OpenCV's 0..179 hue). Seeded with our RNG: the same seed gives the same image everywhere.
#pragma once

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "ecgbench/core/random.hpp"
#include "ecgbench/represent/image.hpp"

namespace ecgbench::represent {

struct AugmentDraw {
  bool applied = false, multiply = false, rotate = false, blur = false, hue_sat = false;
  double factor = 1, degrees = 0, sigma = 0;
  int hue = 0, saturation = 0;
};

namespace detail {
inline std::uint8_t clamp8(double v) { return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

inline RgbImage rotate(const RgbImage& in, double degrees) {
  RgbImage out(in.width, in.height, 0);
  const double a = degrees * std::numbers::pi / 180.0, ca = std::cos(a), sa = std::sin(a);
  const double cx = (in.width - 1) / 2.0, cy = (in.height - 1) / 2.0;
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x) {
      // inverse map: source = R^-1 (dst - c) + c
      const double dx = x - cx, dy = y - cy;
      const double sx = ca * dx + sa * dy + cx, sy = -sa * dx + ca * dy + cy;
      const int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
      const double fx = sx - x0, fy = sy - y0;
      for (int c = 0; c < 3; ++c) {
        double acc = 0;
        for (int j = 0; j < 2; ++j)
          for (int i = 0; i < 2; ++i) {
            const int xx = x0 + i, yy = y0 + j;
            if (xx < 0 || yy < 0 || xx >= in.width || yy >= in.height) continue;
            acc += (i ? fx : 1 - fx) * (j ? fy : 1 - fy) * in.at(xx, yy, c);
          }
        out.at(x, y, c) = clamp8(acc);
      }
    }
  return out;
}

inline RgbImage gaussian_blur(const RgbImage& in, double sigma) {
  if (sigma < 0.01) return in;
  const int r = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  std::vector<double> k(static_cast<std::size_t>(2 * r + 1));
  double sum = 0;
  for (int i = -r; i <= r; ++i) sum += k[static_cast<std::size_t>(i + r)] = std::exp(-0.5 * i * i / (sigma * sigma));
  for (auto& v : k) v /= sum;
  auto reflect = [](int i, int n) { return i < 0 ? std::min(-i, n - 1) : (i >= n ? std::max(2 * n - 2 - i, 0) : i); };
  std::vector<double> tmp(in.rgb.size());
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x)
      for (int c = 0; c < 3; ++c) {
        double acc = 0;
        for (int i = -r; i <= r; ++i) acc += k[static_cast<std::size_t>(i + r)] * in.at(reflect(x + i, in.width), y, c);
        tmp[(static_cast<std::size_t>(y) * static_cast<std::size_t>(in.width) + static_cast<std::size_t>(x)) * 3 + static_cast<std::size_t>(c)] = acc;
      }
  RgbImage out(in.width, in.height);
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x)
      for (int c = 0; c < 3; ++c) {
        double acc = 0;
        for (int i = -r; i <= r; ++i)
          acc += k[static_cast<std::size_t>(i + r)] * tmp[(static_cast<std::size_t>(reflect(y + i, in.height)) * static_cast<std::size_t>(in.width) + static_cast<std::size_t>(x)) * 3 + static_cast<std::size_t>(c)];
        out.at(x, y, c) = clamp8(acc);
      }
  return out;
}

/// Shifts hue (OpenCV units, 0..179, wrapping) and saturation (0..255, clipped) of every pixel.
inline void hue_saturation(RgbImage& img, int dh, int ds) {
  for (std::size_t p = 0; p < img.rgb.size(); p += 3) {
    const double r = img.rgb[p] / 255.0, g = img.rgb[p + 1] / 255.0, b = img.rgb[p + 2] / 255.0;
    const double mx = std::max({r, g, b}), mn = std::min({r, g, b}), d = mx - mn;
    double h = 0;
    if (d > 0) {
      if (mx == r) h = 60 * std::fmod((g - b) / d, 6.0);
      else if (mx == g) h = 60 * ((b - r) / d + 2);
      else h = 60 * ((r - g) / d + 4);
    }
    if (h < 0) h += 360;
    double s = mx > 0 ? d / mx : 0;
    const double v = mx;
    double hh = std::fmod(std::round(h / 2) + dh, 180.0);
    if (hh < 0) hh += 180;
    s = std::clamp(std::round(s * 255) + ds, 0.0, 255.0) / 255.0;
    const double H = hh * 2, C = v * s, X = C * (1 - std::abs(std::fmod(H / 60, 2.0) - 1)), m = v - C;
    double rr = 0, gg = 0, bb = 0;
    if (H < 60) rr = C, gg = X;
    else if (H < 120) rr = X, gg = C;
    else if (H < 180) gg = C, bb = X;
    else if (H < 240) gg = X, bb = C;
    else if (H < 300) rr = X, bb = C;
    else rr = C, bb = X;
    img.rgb[p] = clamp8((rr + m) * 255), img.rgb[p + 1] = clamp8((gg + m) * 255), img.rgb[p + 2] = clamp8((bb + m) * 255);
  }
}
}  // namespace detail

/// Upstream's augmentation, drawn from `rng`. Returns what was applied.
inline AugmentDraw augment_image(RgbImage& img, Rng& rng) {
  AugmentDraw d;
  if (uniform01(rng) >= 0.6) return d;
  d.applied = true;
  if (uniform01(rng) < 0.5) {
    d.multiply = true;
    d.factor = uniform(rng, 0.8, 1.2);
    for (auto& v : img.rgb) v = detail::clamp8(v * d.factor);
  }
  if (uniform01(rng) < 0.5) {
    d.rotate = true;
    d.degrees = uniform(rng, -5, 5);
    img = detail::rotate(img, d.degrees);
  }
  if (uniform01(rng) < 0.5) {
    d.blur = true;
    d.sigma = uniform(rng, 0, 1.5);
    img = detail::gaussian_blur(img, d.sigma);
  }
  if (uniform01(rng) < 0.5) {
    d.hue_sat = true;
    d.hue = static_cast<int>(uniform_index(rng, 61)) - 30;
    d.saturation = static_cast<int>(uniform_index(rng, 61)) - 30;
    detail::hue_saturation(img, d.hue, d.saturation);
  }
  return d;
}

}  // namespace ecgbench::represent
