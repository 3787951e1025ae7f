// What matplotlib's Agg backend does to a line's vertices (pixels, y down) before stroking it
// (src/path_converters.h, draw_path): clip to the canvas grown by a pixel, snap rectilinear paths
// to pixel centres, and simplify dense paths (>= 128 vertices, threshold 1/9 pixel) by merging
// vertices that stay within the threshold of the vector being built (PathSimplifier).
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "ecgbench/represent/raster.hpp"

namespace ecgbench::represent {

/// rcParams['path.simplify_threshold'].
inline constexpr double mpl_simplify_threshold = 1.0 / 9.0;

/// PathSnapper in SNAP_AUTO mode: a path of only horizontal / vertical segments (and at most 1024
/// vertices) moves to pixel centres for odd rounded widths, pixel edges for even ones.
inline void snap_if_rectilinear(std::vector<PointD>& line, double stroke_width) {
  if (line.empty() || line.size() > 1024) return;
  for (std::size_t i = 1; i < line.size(); ++i)
    if (std::abs(line[i - 1].x - line[i].x) >= 1e-4 && std::abs(line[i - 1].y - line[i].y) >= 1e-4) return;
  const double offset = static_cast<long>(std::floor(stroke_width + 0.5)) % 2 ? 0.5 : 0.0;
  for (auto& p : line) p = {std::floor(p.x + 0.5) + offset, std::floor(p.y + 0.5) + offset};
}

/// PathClipper: the parts of a polyline inside [-1, width + 1] x [-1, height + 1], each a subpath.
inline std::vector<std::vector<PointD>> clip_polyline(std::span<const PointD> line, int width, int height) {
  const double lo_x = -1, lo_y = -1, hi_x = width + 1.0, hi_y = height + 1.0;
  auto inside = [&](PointD p) { return p.x >= lo_x && p.x <= hi_x && p.y >= lo_y && p.y <= hi_y; };
  std::vector<std::vector<PointD>> parts;
  if (line.empty()) return parts;
  bool all_inside = true;
  for (const auto& p : line) all_inside &= inside(p);
  if (all_inside) return {std::vector<PointD>(line.begin(), line.end())};
  std::vector<PointD> cur;
  for (std::size_t i = 0; i + 1 < line.size(); ++i) {
    // Liang-Barsky on segment i.
    const PointD a = line[i], b = line[i + 1];
    double t0 = 0, t1 = 1;
    const double dx = b.x - a.x, dy = b.y - a.y;
    bool visible = true;
    for (auto [p, q] : {std::pair{-dx, a.x - lo_x}, std::pair{dx, hi_x - a.x}, std::pair{-dy, a.y - lo_y}, std::pair{dy, hi_y - a.y}}) {
      if (p == 0) {
        if (q < 0) visible = false;
        continue;
      }
      const double r = q / p;
      if (p < 0) t0 = std::max(t0, r);
      else t1 = std::min(t1, r);
    }
    if (!visible || t0 > t1) {
      if (cur.size() > 1) parts.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    const PointD ca{a.x + t0 * dx, a.y + t0 * dy}, cb{a.x + t1 * dx, a.y + t1 * dy};
    if (cur.empty() || t0 > 0) {
      if (cur.size() > 1) parts.push_back(std::move(cur));
      cur.assign({ca});
    }
    cur.push_back(cb);
    if (t1 < 1) {
      parts.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (cur.size() > 1) parts.push_back(std::move(cur));
  return parts;
}

/// PathSimplifier on one subpath: a vertex joins the vector being built while its perpendicular
/// distance stays under `threshold` pixels; the furthest points forward and backward are kept.
inline std::vector<PointD> simplify_polyline(std::span<const PointD> line, double threshold = mpl_simplify_threshold) {
  if (line.size() < 128) return {line.begin(), line.end()};
  const double thr2 = threshold * threshold;
  std::vector<PointD> out;
  out.reserve(line.size());
  double lastx = line[0].x, lasty = line[0].y;
  double origdx = 0, origdy = 0, orignorm2 = 0, fwdmax = 0, backmax = 0;
  bool last_fwd = false, last_back = false;
  double nextx = 0, nexty = 0, backx = 0, backy = 0, startx = 0, starty = 0;
  for (std::size_t k = 1; k < line.size(); ++k) {
    const double x = line[k].x, y = line[k].y;
    if (orignorm2 == 0.0) {
      if (out.empty()) out.push_back({lastx, lasty});  // the move_to
      origdx = x - lastx, origdy = y - lasty;
      orignorm2 = origdx * origdx + origdy * origdy;
      fwdmax = orignorm2, backmax = 0, last_fwd = true, last_back = false;
      startx = lastx, starty = lasty;
      nextx = lastx = x, nexty = lasty = y;
      continue;
    }
    const double totdx = x - startx, totdy = y - starty;
    const double totdot = origdx * totdx + origdy * totdy;
    const double paradx = totdot * origdx / orignorm2, parady = totdot * origdy / orignorm2;
    const double perpdx = totdx - paradx, perpdy = totdy - parady;
    if (perpdx * perpdx + perpdy * perpdy < thr2) {
      const double paranorm2 = paradx * paradx + parady * parady;
      last_fwd = last_back = false;
      if (totdot > 0.0) {
        if (paranorm2 > fwdmax) last_fwd = true, fwdmax = paranorm2, nextx = x, nexty = y;
      } else if (paranorm2 > backmax) {
        last_back = true, backmax = paranorm2, backx = x, backy = y;
      }
      lastx = x, lasty = y;
      continue;
    }
    // _push: draw the vector built so far and start the next one here.
    if (backmax > 0.0) {
      if (last_fwd) out.push_back({backx, backy}), out.push_back({nextx, nexty});
      else out.push_back({nextx, nexty}), out.push_back({backx, backy});
    } else {
      out.push_back({nextx, nexty});
    }
    if (!last_fwd && !last_back) out.push_back({lastx, lasty});
    origdx = x - lastx, origdy = y - lasty;
    orignorm2 = origdx * origdx + origdy * origdy;
    fwdmax = orignorm2, last_fwd = true;
    startx = out.back().x, starty = out.back().y;
    lastx = nextx = x, lasty = nexty = y;
    backmax = 0, last_back = false;
  }
  if (orignorm2 != 0.0) {
    out.push_back({nextx, nexty});
    if (backmax > 0.0) out.push_back({backx, backy});
  }
  if (out.empty()) out.push_back({lastx, lasty});
  out.push_back({lastx, lasty});
  return out;
}

}  // namespace ecgbench::represent
