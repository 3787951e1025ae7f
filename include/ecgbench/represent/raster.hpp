// Anti-aliased polygon rasteriser and blender with the arithmetic of matplotlib's Agg backend
// (agg::rasterizer_scanline_aa with non-zero winding, coordinates on Agg's 1/256-pixel grid, cover
// clamped to 255, then matplotlib's fixed_blender_rgba_plain on an opaque canvas), so that lines
// drawn here shade pixels as upstream's matplotlib figures do. Exact areas (in 1/65536 pixel) are
// accumulated per pixel in a buffer over the polygons' bounding box and swept row by row.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "ecgbench/represent/image.hpp"

namespace ecgbench::represent {

struct PointD {
  double x = 0, y = 0;
};

struct Rgb8 {
  std::uint8_t r = 0, g = 0, b = 0;
};

/// matplotlib's colour conversion to 8 bits (agg::rgba8 from a float rgba: round half up).
inline Rgb8 rgb8_from_float(double r, double g, double b) {
  auto q = [](double v) { return static_cast<std::uint8_t>(std::clamp(std::floor(v * 255 + 0.5), 0.0, 255.0)); };
  return {q(r), q(g), q(b)};
}

/// matplotlib's fixed_blender_rgba_plain onto an opaque pixel (alpha 255): `cover` 1..255.
inline void blend_plain(std::uint8_t* p, Rgb8 c, unsigned cover) {
  if (cover >= 255) {
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
    return;
  }
  const std::int64_t den = (255 << 8) + cover;  // ((alpha + a) << 8) - alpha * a with a = 255
  auto mix = [&](std::uint8_t dst, std::uint8_t src) {
    const std::int64_t r = static_cast<std::int64_t>(dst) * 255;
    return static_cast<std::uint8_t>((((static_cast<std::int64_t>(src) << 8) - r) * cover + (r << 8)) / den);
  };
  p[0] = mix(p[0], c.r), p[1] = mix(p[1], c.g), p[2] = mix(p[2], c.b);
}

/// Collects closed polygons (non-zero winding, all filled together as one Agg path) and blends
/// them onto an image in one colour. Coordinates are pixels, y down; the clip box is the image.
class Rasterizer {
 public:
  using Area = std::int64_t;  ///< 1/65536 pixel; 64 bits so that no pile of overlapping polygons overflows

  Rasterizer(int width, int height) : width_(width), height_(height) {}

  /// A closed polygon (the last point joins the first).
  void add_polygon(std::span<const PointD> poly) {
    if (poly.size() < 3) return;
    for (std::size_t i = 0; i < poly.size(); ++i) add_edge(poly[i], poly[(i + 1) % poly.size()]);
  }

  /// Blends the collected area onto `img` in colour `c`, then forgets it.
  void render(RgbImage& img, Rgb8 c) {
    if (edges_.empty()) return;
    // Bounding box of what can be shaded: rows [y0, y1), columns [x0, x1]; column x1 (<= width)
    // holds the returns of the running sums and is never drawn.
    const int y0 = std::max(0, static_cast<int>(std::floor(min_y_))), y1 = std::min(height_, static_cast<int>(std::ceil(max_y_)));
    const int x0 = std::clamp(static_cast<int>(std::floor(min_x_)), 0, width_), x1 = std::clamp(static_cast<int>(std::floor(max_x_)) + 1, 0, width_);
    if (y1 > y0 && x0 < width_) {
      bx0_ = x0, bw_ = x1 - x0 + 1, by0_ = y0;
      acc_.assign(static_cast<std::size_t>(bw_) * static_cast<std::size_t>(y1 - y0), 0);
      span_.assign(static_cast<std::size_t>(y1 - y0), {bw_, -1});
      for (const auto& e : edges_) accumulate(e, y0, y1);
      for (int y = y0; y < y1; ++y) {
        const auto [first, last] = span_[static_cast<std::size_t>(y - y0)];
        const Area* row = acc_.data() + static_cast<std::size_t>(y - y0) * static_cast<std::size_t>(bw_);
        std::uint8_t* px = img.rgb.data() + (static_cast<std::size_t>(y) * static_cast<std::size_t>(img.width) + static_cast<std::size_t>(x0 + first)) * 3;
        Area sum = 0;  // exact: a row's sum returns to 0 right of every closed polygon
        const int n = std::min(last + 1, width_ - x0);
        for (int i = first; i < n; ++i, px += 3) {
          sum += row[i];
          if (sum == 0) continue;
          // Agg: cover = ((cover << 9) - area) >> 9 on the signed sum (a floor), then its magnitude.
          const Area v = sum >> 8;
          const Area m = std::min<Area>(v < 0 ? -v : v, 255);
          if (m > 0) blend_plain(px, c, static_cast<unsigned>(m));
        }
      }
    }
    edges_.clear();
    min_x_ = min_y_ = INFINITY, max_x_ = max_y_ = -INFINITY;
  }

 private:
  struct Edge {
    double x0, y0, x1, y1;
  };

  void add_edge(PointD a, PointD b) {
    if (!std::isfinite(a.x) || !std::isfinite(a.y) || !std::isfinite(b.x) || !std::isfinite(b.y)) return;
    // Clipped in double as Agg's rasterizer_sl_clip_dbl does, then put on its 1/256 grid: only rows
    // [0, height) are drawn, so the rest of the edge goes; left of x = 0 an edge adds winding to
    // whole rows, so that part moves onto x = 0 (right of the canvas onto x = width, never drawn).
    const double top = -1, bottom = height_ + 1.0;
    if ((a.y < top && b.y < top) || (a.y > bottom && b.y > bottom) || a.y == b.y) return;  // no winding in a drawn row
    auto at_y = [&](double y) { return PointD{a.x + (b.x - a.x) * (y - a.y) / (b.y - a.y), y}; };
    PointD p = a, q = b;
    if (p.y < top) p = at_y(top);
    else if (p.y > bottom) p = at_y(bottom);
    if (q.y < top) q = at_y(top);
    else if (q.y > bottom) q = at_y(bottom);
    double ts[4] = {0, 1, 0, 0};
    int n = 2;
    if ((p.x < 0) != (q.x < 0)) ts[n++] = (0 - p.x) / (q.x - p.x);
    if ((p.x < width_) != (q.x < width_)) ts[n++] = (width_ - p.x) / (q.x - p.x);
    std::sort(ts, ts + n);
    for (int i = 0; i + 1 < n; ++i) {
      PointD u{p.x + (q.x - p.x) * ts[i], p.y + (q.y - p.y) * ts[i]}, v{p.x + (q.x - p.x) * ts[i + 1], p.y + (q.y - p.y) * ts[i + 1]};
      if (i + 1 == n - 1) v = q;  // exact end points
      if (i == 0) u = p;
      const double mid = (u.x + v.x) / 2;
      if (mid <= 0) u.x = v.x = 0;
      else if (mid >= width_) u.x = v.x = width_;
      push_edge(u, v);
    }
  }

  void push_edge(PointD a, PointD b) {
    if (!std::isfinite(a.x) || !std::isfinite(a.y) || !std::isfinite(b.x) || !std::isfinite(b.y)) return;  // overflowed extremes
    a = {std::round(a.x * 256) / 256, std::round(a.y * 256) / 256};  // Agg's 24.8 fixed point
    b = {std::round(b.x * 256) / 256, std::round(b.y * 256) / 256};
    min_x_ = std::min({min_x_, a.x, b.x}), max_x_ = std::max({max_x_, a.x, b.x});
    if (a.y == b.y) return;  // horizontal edges carry no winding
    min_y_ = std::min({min_y_, a.y, b.y}), max_y_ = std::max({max_y_, a.y, b.y});
    edges_.push_back({a.x, a.y, b.x, b.y});
  }

  /// Adds `v` (1/65536 pixel) to the difference array of the row starting at `row`.
  void add(Area* row, std::pair<int, int>& span, int col, Area v) const {
    const int i = std::max(col - bx0_, 0);  // left of the box: its winding carries into the first column
    if (i >= bw_ || v == 0) return;         // right of the image: nothing visible changes
    row[i] += v;
    span.first = std::min(span.first, i), span.second = std::max(span.second, i);
  }

  /// The edge's signed height in each row, spread over the columns as the fraction of each pixel
  /// right of it (stored as differences: a row's running sum is the winding-weighted coverage).
  void accumulate(const Edge& e, int y0, int y1) {
    double ax = e.x0, ay = e.y0, bx = e.x1, by = e.y1, dir = 1;
    if (ay > by) std::swap(ax, bx), std::swap(ay, by), dir = -1;
    const double dxdy = (bx - ax) / (by - ay);
    const int r0 = std::max(y0, static_cast<int>(std::floor(ay))), r1 = std::min(y1, static_cast<int>(std::ceil(by)));
    for (int r = r0; r < r1; ++r) {
      const double ya = std::max(ay, static_cast<double>(r)), yb = std::min(by, static_cast<double>(r + 1));
      if (yb <= ya) continue;
      // Heights and widths are in 1/65536 pixel: y lies on Agg's 1/256 grid, so a piece's total
      // (its height) is an exact integer, and rounding the running coverage instead of each
      // difference keeps the row's sum exact.
      const Area d = static_cast<Area>(std::lround((yb - ya) * 65536)) * static_cast<Area>(dir);
      double xa = ax + (ya - ay) * dxdy, xb = ax + (yb - ay) * dxdy;
      if (xa > xb) std::swap(xa, xb);
      const std::size_t ri = static_cast<std::size_t>(r - by0_);
      Area* row = acc_.data() + ri * static_cast<std::size_t>(bw_);
      auto& span = span_[ri];
      const int i0 = static_cast<int>(std::floor(xa)), i1 = static_cast<int>(std::floor(xb));
      if (i0 == i1) {
        const double right = (i0 + 1) - (xa + xb) / 2;  // the part of pixel i0 right of the piece
        const auto c = static_cast<Area>(std::lround(d * right));
        add(row, span, i0, c);
        add(row, span, i0 + 1, d - c);
        continue;
      }
      // Across columns: coverage of column i = mean over the piece of clamp(i + 1 - x, 0, 1).
      const double inv = 1 / (xb - xa);
      Area prev = 0;
      const int last = std::min(i1, bx0_ + bw_ - 1);  // columns further right are not drawn
      for (int i = std::max(i0, bx0_ - 1); i <= last; ++i) {
        const double lo = std::max(xa, static_cast<double>(i)), hi = std::min(xb, static_cast<double>(i + 1));
        const double left_of = std::max(0.0, std::min(xb, static_cast<double>(i)) - xa);
        const double inside = hi > lo ? (hi - lo) * ((i + 1) - (lo + hi) / 2) : 0.0;
        const auto cov = static_cast<Area>(std::lround(d * (left_of + inside) * inv));
        add(row, span, i, cov - prev);
        prev = cov;
      }
      add(row, span, i1 + 1, d - prev);
    }
  }

  int width_, height_;
  std::vector<Edge> edges_;
  std::vector<Area> acc_;                ///< per row, differences of the winding-weighted coverage
  std::vector<std::pair<int, int>> span_;        ///< per row, the first and last column touched
  int bx0_ = 0, bw_ = 0, by0_ = 0;
  double min_x_ = INFINITY, min_y_ = INFINITY, max_x_ = -INFINITY, max_y_ = -INFINITY;
};

}  // namespace ecgbench::represent
