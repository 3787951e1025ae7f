// The plotted 12-lead image upstream's vision encoders saw: `ecg_plot.get_plot_as_image(ecg,
// sample_rate=250, title="")` of the fork willxxy/ecg-plot @d7eb9ac on matplotlib 3.6 (Agg),
// re-drawn the way Agg draws it (mpl_path.hpp, stroke.hpp, raster.hpp; Cairo only rasterises the
// label glyphs). Geometry as matplotlib computes it: figure (2 secs x 7.2) in at 100 dpi, axes
// filling it, x in [0, 2 secs], y in [-16.5, 1.5]; grid at MaxNLocator(10) majors and
// AutoMinorLocator minors (5 per x major, 4 per y major of 2), 0.5-pt lines snapped to pixel
// centres as Agg snaps axis-aligned paths, and the y axis's tick marks (ecg_plot blanks only the
// tick labels); leads column-major (0-5 left, 6-11 right) at -3 i, raw mV; labels in ecg_plot's
// order (I II III aVL aVR aVF ...: on PTB-XL-order data rows 3 and 4 are labelled the wrong way
// round; kept, since it is what upstream's encoders saw); the column separator at x = secs drawn
// from the previous lead's first value (ecg_plot's stale variable).
#pragma once

#include <cairo.h>

#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/represent/image.hpp"
#include "ecgbench/represent/mpl_path.hpp"
#include "ecgbench/represent/raster.hpp"
#include "ecgbench/represent/stroke.hpp"

namespace ecgbench::represent {

namespace detail {

/// Python's float floor division (CPython's float_floor_div; NumPy's floor_divide agrees).
inline double pyfloordiv(double vx, double wx) {
  double mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0) {
    if ((wx < 0) != (mod < 0)) div -= 1.0;
  }
  if (div != 0) {
    double f = std::floor(div);
    if (div - f > 0.5) f += 1.0;
    return f;
  }
  return std::copysign(0.0, vx / wx);
}

/// matplotlib's MaxNLocator(nbins) tick values for [vmin, vmax], with its default steps
/// (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 when none are given).
inline std::vector<double> max_n_locator(double vmin, double vmax, int nbins) {
  const double dv = std::abs(vmax - vmin), meanv = (vmax + vmin) / 2;
  double offset = 0;
  if (dv > 0 && std::abs(meanv) / dv >= 100) offset = std::copysign(std::pow(10.0, std::floor(std::log10(std::abs(meanv)))), meanv);
  const double scale = std::pow(10.0, std::floor(std::log10(dv / nbins)));
  const double vmin_ = vmin - offset, vmax_ = vmax - offset;
  const double raw_step = (vmax_ - vmin_) / nbins;
  const double base[] = {1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10};
  std::vector<double> steps;  // _staircase: 0.1 steps[:-1], steps, 10 steps[1]
  for (int i = 0; i < 9; ++i) steps.push_back(0.1 * base[i]);
  for (double s : base) steps.push_back(s);
  steps.push_back(10 * base[1]);
  for (auto& s : steps) s *= scale;
  std::size_t istep = 0;
  while (istep + 1 < steps.size() && steps[istep] < raw_step) ++istep;
  std::vector<double> ticks;
  for (std::size_t k = istep + 1; k-- > 0;) {
    const double step = steps[k];
    const double best_vmin = pyfloordiv(vmin_, step) * step;
    // _Edge_integer(step, offset).le / .ge with closeto tolerance
    const double tol = offset > 0 ? std::min(0.4999, std::max(1e-10, std::pow(10.0, std::log10(offset / step) - 12))) : 1e-10;
    auto closeto = [&](double ms, double edge) { return std::abs(ms - edge) < tol; };
    auto le = [&](double x) {
      const double d = pyfloordiv(x, step), m = x - d * step;
      return closeto(m / step, 1) ? d + 1 : d;
    };
    auto ge = [&](double x) {
      const double d = pyfloordiv(x, step), m = x - d * step;
      return closeto(m / step, 0) ? d : d + 1;
    };
    const double low = le(vmin_ - best_vmin), high = ge(vmax_ - best_vmin);
    ticks.clear();
    for (double i = low; i <= high; i += 1) ticks.push_back(i * step + best_vmin);
    int n = 0;
    for (double t : ticks) n += (t <= vmax_ && t >= vmin_);
    if (n >= 2) break;
  }
  for (auto& t : ticks) t += offset;
  return ticks;
}

/// matplotlib's AutoMinorLocator(ndivs) for the given majors and view interval; minors on majors removed.
inline std::vector<double> auto_minor_locator(const std::vector<double>& majors, double vmin, double vmax, int ndivs) {
  if (majors.size() < 2) return {};
  const double majorstep = majors[1] - majors[0];
  if (ndivs <= 0) {
    const double ne = std::pow(10.0, std::fmod(std::log10(majorstep), 1.0) + (std::fmod(std::log10(majorstep), 1.0) < 0 ? 1.0 : 0.0));
    ndivs = 4;
    for (double v : {1.0, 2.5, 5.0, 10.0})
      if (std::abs(ne - v) <= 1e-8 + 1e-5 * v) ndivs = 5;
  }
  const double minorstep = majorstep / ndivs;
  const double t0 = majors[0];
  const double tmin = (pyfloordiv(vmin - t0, minorstep) + 1) * minorstep;
  const double tmax = (pyfloordiv(vmax - t0, minorstep) + 1) * minorstep;
  std::vector<double> out;
  const auto n = static_cast<long>(std::ceil((tmax - tmin) / minorstep));
  const double tol = (vmax - vmin) * 1e-5;
  for (long i = 0; i < n; ++i) {
    const double v = tmin + static_cast<double>(i) * minorstep + t0;
    bool on_major = false;
    for (double m : majors) on_major |= std::abs(m - v) <= tol;
    if (!on_major) out.push_back(v);
  }
  return out;
}

inline bool in_view(double v, double vmin, double vmax) {
  const double tol = (vmax - vmin) * 1e-10;
  return v >= vmin - tol && v <= vmax + tol;
}

}  // namespace detail

struct EcgPlotOptions {
  double sample_rate = 250;
  int columns = 2;
  double row_height = 6;
  double dpi = 100;
  std::vector<std::string> lead_names{"I", "II", "III", "aVL", "aVR", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};  ///< ecg_plot's order
  bool show_lead_name = true, show_grid = true, show_separate_line = true;
};

namespace detail {

/// ecg_plot's figure in pixels: axes filling a W x H canvas, x in [0, x_max], y in [y_min, y_max],
/// 0.5-pt lines ('projecting' caps, 'round' joins); the same for every segment of a length.
struct PlotGeometry {
  int W = 0, H = 0;
  double x_max = 0, y_min = 0, y_max = 0, dpi = 100;

  [[nodiscard]] double px(double x) const { return x / x_max * W; }
  [[nodiscard]] double py(double y) const { return H - (y - y_min) / (y_max - y_min) * H; }  // Agg: y down
  [[nodiscard]] StrokeStyle line_style() const { return {0.5 * dpi / 72.0, LineCap::square, LineJoin::round}; }
  [[nodiscard]] auto key() const { return std::make_tuple(W, H, x_max, y_min, y_max, dpi); }
};

/// A text label's coverage as Cairo rasterises it (DejaVu Sans, grey anti-aliasing), kept per
/// (text, size): labels repeat in every image, and this is the only part still drawn by Cairo.
struct TextMask {
  int width = 0, height = 0, origin_x = 0, origin_y = 0;  ///< the baseline start inside the mask
  std::vector<std::uint8_t> alpha;
};

inline const TextMask& text_mask(const std::string& text, double size_px) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, double>, TextMask> cache;
  const std::lock_guard lock(mutex);
  auto [it, fresh] = cache.try_emplace({text, size_px});
  if (!fresh) return it->second;
  auto set_font = [&](cairo_t* c) {
    cairo_select_font_face(c, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(c, size_px);
  };
  cairo_surface_t* probe = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1);  // extents first: they size the mask
  cairo_t* pc = cairo_create(probe);
  set_font(pc);
  cairo_text_extents_t ext;
  cairo_text_extents(pc, text.c_str(), &ext);
  cairo_destroy(pc);
  cairo_surface_destroy(probe);
  TextMask& m = it->second;
  m.origin_x = static_cast<int>(std::ceil(-ext.x_bearing)) + 2, m.origin_y = static_cast<int>(std::ceil(-ext.y_bearing)) + 2;
  m.width = m.origin_x + static_cast<int>(std::ceil(ext.x_bearing + ext.width)) + 2;
  m.height = m.origin_y + static_cast<int>(std::ceil(ext.y_bearing + ext.height)) + 2;
  cairo_surface_t* surf = cairo_image_surface_create(CAIRO_FORMAT_A8, m.width, m.height);
  cairo_t* cr = cairo_create(surf);
  set_font(cr);
  cairo_move_to(cr, m.origin_x, m.origin_y);
  cairo_show_text(cr, text.c_str());
  cairo_destroy(cr);
  cairo_surface_flush(surf);
  const unsigned char* d = cairo_image_surface_get_data(surf);
  const int stride = cairo_image_surface_get_stride(surf);
  m.alpha.resize(static_cast<std::size_t>(m.width) * static_cast<std::size_t>(m.height));
  for (int y = 0; y < m.height; ++y) std::memcpy(m.alpha.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(m.width), d + static_cast<std::size_t>(y) * static_cast<std::size_t>(stride), static_cast<std::size_t>(m.width));
  cairo_surface_destroy(surf);
  return m;
}

/// Blends a text mask with its baseline start at pixel (x, y), as matplotlib's draw_text_image
/// does (alpha = 255 * coverage >> 8, then the plain blender).
inline void draw_text(RgbImage& img, const TextMask& m, int x, int y, Rgb8 colour) {
  for (int j = 0; j < m.height; ++j) {
    const int py = y - m.origin_y + j;
    if (py < 0 || py >= img.height) continue;
    for (int i = 0; i < m.width; ++i) {
      const int px = x - m.origin_x + i;
      const unsigned a = (255u * m.alpha[static_cast<std::size_t>(j) * static_cast<std::size_t>(m.width) + static_cast<std::size_t>(i)]) >> 8;
      if (px < 0 || px >= img.width || a == 0) continue;
      blend_plain(&img.rgb[(static_cast<std::size_t>(py) * static_cast<std::size_t>(img.width) + static_cast<std::size_t>(px)) * 3], colour, a);
    }
  }
}

/// One matplotlib Line2D drawn by Agg: clip, snap, simplify, stroke, fill with its colour.
inline void draw_line(RgbImage& img, Rasterizer& ras, std::vector<PointD> line, const StrokeStyle& style, Rgb8 colour) {
  for (auto& part : clip_polyline(line, img.width, img.height)) {
    snap_if_rectilinear(part, style.width);
    ras.add_polygon(stroke_outline(simplify_polyline(part), style));
  }
  ras.render(img, colour);
}

/// The figure before any trace: white, the grid lines and the y axis's tick marks, drawn in
/// matplotlib's order (x majors, x minors, y majors, y minors; each y tick's mark after its line).
/// The same for every segment of a length, so it is drawn once per geometry and copied.
inline RgbImage grid_layer(const PlotGeometry& g) {
  static std::mutex mutex;
  static std::map<decltype(g.key()), RgbImage> cache;
  {
    const std::lock_guard lock(mutex);
    if (auto it = cache.find(g.key()); it != cache.end()) return it->second;
  }
  const double x_min = 0, x_max = g.x_max, y_min = g.y_min, y_max = g.y_max, dpi = g.dpi;
  const StrokeStyle style = g.line_style();
  RgbImage img(g.W, g.H, 255);
  Rasterizer ras(g.W, g.H);
  const auto xmaj = max_n_locator(x_min, x_max, 10), ymaj = max_n_locator(y_min, y_max, 10);
  const auto xmin_ticks = auto_minor_locator(xmaj, x_min, x_max, 5), ymin_ticks = auto_minor_locator(ymaj, y_min, y_max, 0);
  const Rgb8 major = rgb8_from_float(0.9, 0.3, 0.3), minor = rgb8_from_float(0.95, 0.85, 0.85);
  auto vlines = [&](const std::vector<double>& ticks, Rgb8 c) {
    for (double t : ticks)
      if (in_view(t, x_min, x_max)) draw_line(img, ras, {{g.px(t), g.py(y_min)}, {g.px(t), g.py(y_max)}}, style, c);
  };
  // ecg_plot only blanks the tick labels: the y axis's tick marks (black, 'out', butt caps;
  // 3.5 / 2 pt long, 0.8 / 0.6 pt wide) still point left of x = 0 and shade half of column 0
  // (the x axis's point below the canvas). Agg draws a marker snapped around the origin, then
  // at the tick's pixel (floor(position + 0.5)).
  auto tick_mark = [&](double y, double length_pt, double width_pt) {
    const double len = length_pt * dpi / 72.0, wid = width_pt * dpi / 72.0;
    std::vector<PointD> mark{{0, 0}, {-len, 0}};
    snap_if_rectilinear(mark, wid);
    const double ox = std::floor(g.px(x_min) + 0.5), oy = std::floor(g.py(y) + 0.5);
    for (auto& p : mark) p.x += ox, p.y += oy;
    ras.add_polygon(stroke_outline(mark, {wid, LineCap::butt, LineJoin::round}));
    ras.render(img, Rgb8{0, 0, 0});
  };
  auto hlines = [&](const std::vector<double>& ticks, Rgb8 c, bool is_major) {
    for (double t : ticks)
      if (in_view(t, y_min, y_max)) {
        draw_line(img, ras, {{g.px(x_min), g.py(t)}, {g.px(x_max), g.py(t)}}, style, c);
        tick_mark(t, is_major ? 3.5 : 2.0, is_major ? 0.8 : 0.6);
      }
  };
  vlines(xmaj, major), vlines(xmin_ticks, minor), hlines(ymaj, major, true), hlines(ymin_ticks, minor, false);
  const std::lock_guard lock(mutex);
  if (cache.size() >= 16) cache.clear();  // a handful of lengths in practice
  cache.emplace(g.key(), img);
  return img;
}

}  // namespace detail

/// `ecg`: leads x L, lead-major (mV). Drawn as matplotlib's Agg backend draws the figure: grid lines
/// (x majors, x minors, y majors, y minors), then each lead's trace and the column separator, then
/// the labels; lines go through matplotlib's path converters and Agg's stroker and rasteriser.
inline RgbImage upstream_ecg_plot(std::span<const float> ecg, std::size_t leads = 12, const EcgPlotOptions& o = {}) {
  if (leads == 0 || ecg.empty() || ecg.size() % leads) throw Error("ecg plot: the signal is not [leads, samples]");
  for (float v : ecg)
    if (!std::isfinite(v)) throw Error("ecg plot: the signal contains NaN or Inf");
  const std::size_t L = ecg.size() / leads;
  const double secs = static_cast<double>(L) / o.sample_rate;
  const int rows = static_cast<int>(std::ceil(static_cast<double>(leads) / o.columns));
  const int W = static_cast<int>(secs * o.columns * o.dpi + 1e-9), H = static_cast<int>(rows * o.row_height / 5 * o.dpi + 1e-9);
  if (W <= 0 || H <= 0 || W > 20000) throw Error("ecg plot: " + std::to_string(L) + " samples make an image of unusable width");
  const detail::PlotGeometry g{W, H, o.columns * secs, o.row_height / 4 - (rows / 2.0) * o.row_height, o.row_height / 4, o.dpi};
  const StrokeStyle style = g.line_style();

  Rasterizer ras(W, H);
  RgbImage img = o.show_grid ? detail::grid_layer(g) : RgbImage(W, H, 255);
  const Rgb8 trace = rgb8_from_float(0, 0, 0.7);
  std::size_t t_lead = 0;
  struct Label {
    double x, y;
    std::string text;
  };
  std::vector<Label> labels;
  std::vector<PointD> line(L);
  for (int c = 0; c < o.columns; ++c)
    for (int i = 0; i < rows; ++i) {
      const std::size_t idx = static_cast<std::size_t>(c * rows + i);
      if (idx >= leads) continue;
      const double y_offset = -(o.row_height / 2) * i;
      double x_offset = 0;
      if (c > 0) {
        x_offset = secs * c;
        if (o.show_separate_line) {
          const double v = ecg[t_lead * L] + y_offset;  // ecg_plot uses the previous lead here
          detail::draw_line(img, ras, {{g.px(x_offset), g.py(v - 0.3)}, {g.px(x_offset), g.py(v + 0.3)}}, style, trace);
        }
      }
      t_lead = idx;
      if (o.show_lead_name && t_lead < o.lead_names.size()) labels.push_back({g.px(x_offset + 0.07), g.py(y_offset - 0.5), o.lead_names[t_lead]});
      for (std::size_t k = 0; k < L; ++k) line[k] = {g.px(static_cast<double>(k) / o.sample_rate + x_offset), g.py(ecg[t_lead * L + k] + y_offset)};
      detail::draw_line(img, ras, line, style, trace);
    }
  for (const auto& l : labels)  // DejaVu Sans 9 pt (matplotlib's default font), baseline at the point
    detail::draw_text(img, detail::text_mask(l.text, 9.0 * o.dpi / 72.0), static_cast<int>(std::round(l.x)), static_cast<int>(std::round(l.y)), Rgb8{0, 0, 0});
  return img;
}

}  // namespace ecgbench::represent
