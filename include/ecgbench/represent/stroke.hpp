// The outline of a stroked polyline as Agg's vcgen_stroke / math_stroke make it (the stroker behind
// matplotlib's lines): one closed polygon per open polyline (start cap, joins along one side, end
// cap, joins back along the other side), inner joins mitred within Agg's inner limit, round joins
// and caps approximated with Agg's angular step, nearly straight outer joins merged into one point.
#pragma once

#include <cmath>
#include <numbers>
#include <span>
#include <vector>

#include "ecgbench/represent/raster.hpp"

namespace ecgbench::represent {

enum class LineCap { butt, square, round };  ///< matplotlib: 'butt', 'projecting', 'round'
enum class LineJoin { round, bevel };

struct StrokeStyle {
  double width = 1;  ///< pixels
  LineCap cap = LineCap::square;
  LineJoin join = LineJoin::round;
};

namespace detail {

class AggStroker {
 public:
  explicit AggStroker(const StrokeStyle& s) : w_(s.width / 2), cap_(s.cap), join_(s.join) {
    w_abs_ = std::abs(w_);
    sign_ = w_ < 0 ? -1 : 1;
    eps_ = w_ / 1024;
  }

  struct V {
    double x, y, dist;  ///< dist: to the next vertex
  };

  void cap(std::vector<PointD>& out, const V& v0, const V& v1, double len) const {
    double dx1 = (v1.y - v0.y) / len * w_, dy1 = (v1.x - v0.x) / len * w_, dx2 = 0, dy2 = 0;
    if (cap_ != LineCap::round) {
      if (cap_ == LineCap::square) dx2 = dy1 * sign_, dy2 = dx1 * sign_;
      out.push_back({v0.x - dx1 - dx2, v0.y + dy1 - dy2});
      out.push_back({v0.x + dx1 - dx2, v0.y - dy1 - dy2});
      return;
    }
    double da = std::acos(w_abs_ / (w_abs_ + 0.125)) * 2;
    const int n = static_cast<int>(std::numbers::pi / da);
    da = std::numbers::pi / (n + 1);
    out.push_back({v0.x - dx1, v0.y + dy1});
    double a1 = sign_ > 0 ? std::atan2(dy1, -dx1) + da : std::atan2(-dy1, dx1) - da;
    for (int i = 0; i < n; ++i) {
      out.push_back({v0.x + std::cos(a1) * w_, v0.y + std::sin(a1) * w_});
      a1 += sign_ > 0 ? da : -da;
    }
    out.push_back({v0.x + dx1, v0.y - dy1});
  }

  void join(std::vector<PointD>& out, const V& v0, const V& v1, const V& v2, double len1, double len2) const {
    const double dx1 = w_ * (v1.y - v0.y) / len1, dy1 = w_ * (v1.x - v0.x) / len1;
    const double dx2 = w_ * (v2.y - v1.y) / len2, dy2 = w_ * (v2.x - v1.x) / len2;
    const double cp = cross(v0.x, v0.y, v1.x, v1.y, v2.x, v2.y);
    if (cp != 0 && (cp > 0) == (w_ > 0)) {  // inner join: Agg's inner_miter (reverting to a bevel)
      const double limit = std::max(std::min(len1, len2) / w_abs_, 1.01);
      miter_revert(out, v0, v1, v2, dx1, dy1, dx2, dy2, limit);
      return;
    }
    const double dx = (dx1 + dx2) / 2, dy = (dy1 + dy2) / 2;
    const double dbevel = std::sqrt(dx * dx + dy * dy);
    if (w_abs_ - dbevel < eps_) {  // no visible bevel: one point
      double xi, yi;
      if (intersection(v0.x + dx1, v0.y - dy1, v1.x + dx1, v1.y - dy1, v1.x + dx2, v1.y - dy2, v2.x + dx2, v2.y - dy2, xi, yi)) out.push_back({xi, yi});
      else out.push_back({v1.x + dx1, v1.y - dy1});
      return;
    }
    if (join_ == LineJoin::round) arc(out, v1.x, v1.y, dx1, -dy1, dx2, -dy2);
    else out.push_back({v1.x + dx1, v1.y - dy1}), out.push_back({v1.x + dx2, v1.y - dy2});
  }

 private:
  static double cross(double x1, double y1, double x2, double y2, double x, double y) { return (x - x2) * (y2 - y1) - (y - y2) * (x2 - x1); }

  static bool intersection(double ax, double ay, double bx, double by, double cx, double cy, double dx, double dy, double& x, double& y) {
    const double num = (ay - cy) * (dx - cx) - (ax - cx) * (dy - cy);
    const double den = (bx - ax) * (dy - cy) - (by - ay) * (dx - cx);
    if (std::abs(den) < 1.0e-30) return false;
    const double r = num / den;
    x = ax + r * (bx - ax), y = ay + r * (by - ay);
    return true;
  }

  void arc(std::vector<PointD>& out, double x, double y, double dx1, double dy1, double dx2, double dy2) const {
    double a1 = std::atan2(dy1 * sign_, dx1 * sign_), a2 = std::atan2(dy2 * sign_, dx2 * sign_);
    double da = std::acos(w_abs_ / (w_abs_ + 0.125)) * 2;
    out.push_back({x + dx1, y + dy1});
    if (sign_ > 0) {
      if (a1 > a2) a2 += 2 * std::numbers::pi;
      const int n = static_cast<int>((a2 - a1) / da);
      da = (a2 - a1) / (n + 1);
      a1 += da;
      for (int i = 0; i < n; ++i, a1 += da) out.push_back({x + std::cos(a1) * w_, y + std::sin(a1) * w_});
    } else {
      if (a1 < a2) a2 -= 2 * std::numbers::pi;
      const int n = static_cast<int>((a1 - a2) / da);
      da = (a1 - a2) / (n + 1);
      a1 -= da;
      for (int i = 0; i < n; ++i, a1 -= da) out.push_back({x + std::cos(a1) * w_, y + std::sin(a1) * w_});
    }
    out.push_back({x + dx2, y + dy2});
  }

  void miter_revert(std::vector<PointD>& out, const V& v0, const V& v1, const V& v2, double dx1, double dy1, double dx2, double dy2, double mlimit) const {
    double xi = v1.x, yi = v1.y;
    bool exceeded = true;
    if (intersection(v0.x + dx1, v0.y - dy1, v1.x + dx1, v1.y - dy1, v1.x + dx2, v1.y - dy2, v2.x + dx2, v2.y - dy2, xi, yi)) {
      if (std::hypot(xi - v1.x, yi - v1.y) <= w_abs_ * mlimit) out.push_back({xi, yi}), exceeded = false;
    } else {
      const double x2 = v1.x + dx1, y2 = v1.y - dy1;  // collinear: continuing, or turning back?
      if ((cross(v0.x, v0.y, v1.x, v1.y, x2, y2) < 0.0) == (cross(v1.x, v1.y, v2.x, v2.y, x2, y2) < 0.0))
        out.push_back({v1.x + dx1, v1.y - dy1}), exceeded = false;
    }
    if (exceeded) out.push_back({v1.x + dx1, v1.y - dy1}), out.push_back({v1.x + dx2, v1.y - dy2});
  }

  double w_, w_abs_, eps_;
  int sign_;
  LineCap cap_;
  LineJoin join_;
};

}  // namespace detail

/// The closed outline of an open polyline (pixels); empty when fewer than two distinct points.
inline std::vector<PointD> stroke_outline(std::span<const PointD> line, const StrokeStyle& style) {
  using V = detail::AggStroker::V;
  std::vector<V> v;  // Agg's vertex_sequence: coincident neighbours collapse
  v.reserve(line.size());
  for (const auto& p : line) {
    if (!v.empty() && std::hypot(p.x - v.back().x, p.y - v.back().y) <= 1e-14) continue;
    v.push_back({p.x, p.y, 0});
  }
  if (v.size() < 2) return {};
  for (std::size_t i = 0; i + 1 < v.size(); ++i) v[i].dist = std::hypot(v[i + 1].x - v[i].x, v[i + 1].y - v[i].y);
  const std::size_t n = v.size();
  v[n - 1].dist = std::hypot(v[0].x - v[n - 1].x, v[0].y - v[n - 1].y);
  const detail::AggStroker s(style);
  std::vector<PointD> out;
  out.reserve(n * 5 + 8);
  s.cap(out, v[0], v[1], v[0].dist);
  for (std::size_t i = 1; i + 1 < n; ++i) s.join(out, v[i - 1], v[i], v[i + 1], v[i - 1].dist, v[i].dist);
  s.cap(out, v[n - 1], v[n - 2], v[n - 2].dist);
  for (std::size_t i = n - 2; i >= 1; --i) s.join(out, v[i + 1], v[i], v[i - 1], v[i].dist, v[i - 1].dist);
  return out;
}

}  // namespace ecgbench::represent
