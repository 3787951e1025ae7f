// The plotted 12-lead image upstream's vision encoders saw: `ecg_plot.get_plot_as_image(ecg,
// sample_rate=250, title="")` of the fork willxxy/ecg-plot @d7eb9ac on matplotlib 3.6 (Agg),
// re-drawn with Cairo. Geometry as matplotlib computes it: figure (2 secs x 7.2) in at 100 dpi, axes
// filling it, x in [0, 2 secs], y in [-16.5, 1.5]; grid at MaxNLocator(10) majors and
// AutoMinorLocator minors (5 per x major, 4 per y major of 2), 0.5-pt lines snapped to pixel
// centres as Agg snaps axis-aligned paths; leads column-major (0-5 left, 6-11 right) at -3 i, raw
// mV; labels in ecg_plot's order (I II III aVL aVR aVF ...: on PTB-XL-order data rows 3 and 4 are
// labelled the wrong way round; kept, since it is what upstream's encoders saw); the column
// separator at x = secs drawn from the previous lead's first value (ecg_plot's stale variable).
#pragma once

#include <cairo.h>

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/represent/image.hpp"

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

/// `ecg`: leads x L, lead-major (mV).
inline RgbImage upstream_ecg_plot(std::span<const float> ecg, std::size_t leads = 12, const EcgPlotOptions& o = {}) {
  if (leads == 0 || ecg.empty() || ecg.size() % leads) throw Error("ecg plot: the signal is not [leads, samples]");
  for (float v : ecg)
    if (!std::isfinite(v)) throw Error("ecg plot: the signal contains NaN or Inf");
  const std::size_t L = ecg.size() / leads;
  const double secs = static_cast<double>(L) / o.sample_rate;
  const int rows = static_cast<int>(std::ceil(static_cast<double>(leads) / o.columns));
  const int W = static_cast<int>(secs * o.columns * o.dpi + 1e-9), H = static_cast<int>(rows * o.row_height / 5 * o.dpi + 1e-9);
  if (W <= 0 || H <= 0 || W > 20000) throw Error("ecg plot: " + std::to_string(L) + " samples make an image of unusable width");
  const double x_min = 0, x_max = o.columns * secs;
  const double y_min = o.row_height / 4 - (rows / 2.0) * o.row_height, y_max = o.row_height / 4;
  auto px = [&](double x) { return (x - x_min) / (x_max - x_min) * W; };
  auto py = [&](double y) { return H - (y - y_min) / (y_max - y_min) * H; };  // Agg: y down
  const double lw = 0.5 * o.dpi / 72.0;
  auto snap = [&](double v) { return std::floor(v + 0.5) + (static_cast<long>(std::lround(lw)) % 2 ? 0.5 : 0.0); };

  cairo_surface_t* surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t* cr = cairo_create(surf);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT);
  cairo_set_line_width(cr, lw);
  auto rgb8 = [&](double r, double g, double b) {  // Agg converts float colours to 8 bits
    cairo_set_source_rgb(cr, std::floor(r * 255 + 0.5) / 255, std::floor(g * 255 + 0.5) / 255, std::floor(b * 255 + 0.5) / 255);
  };
  // Snapped axis-aligned stroke = a filled band lw wide at the pixel centre (projecting caps).
  auto vband = [&](double x, double y0, double y1) {
    cairo_rectangle(cr, x - lw / 2, std::min(y0, y1) - lw / 2, lw, std::abs(y1 - y0) + lw);
    cairo_fill(cr);
  };
  auto hband = [&](double y, double x0, double x1) {
    cairo_rectangle(cr, std::min(x0, x1) - lw / 2, y - lw / 2, std::abs(x1 - x0) + lw, lw);
    cairo_fill(cr);
  };
  if (o.show_grid) {
    const auto xmaj = detail::max_n_locator(x_min, x_max, 10), ymaj = detail::max_n_locator(y_min, y_max, 10);
    const auto xmin_ticks = detail::auto_minor_locator(xmaj, x_min, x_max, 5), ymin_ticks = detail::auto_minor_locator(ymaj, y_min, y_max, 0);
    const double top = snap(py(y_max)), bottom = snap(py(y_min)), left = snap(px(x_min)), right = snap(px(x_max));
    rgb8(0.9, 0.3, 0.3);
    for (double t : xmaj)
      if (detail::in_view(t, x_min, x_max)) vband(snap(px(t)), top, bottom);
    rgb8(0.95, 0.85, 0.85);
    for (double t : xmin_ticks)
      if (detail::in_view(t, x_min, x_max)) vband(snap(px(t)), top, bottom);
    rgb8(0.9, 0.3, 0.3);
    for (double t : ymaj)
      if (detail::in_view(t, y_min, y_max)) hband(snap(py(t)), left, right);
    rgb8(0.95, 0.85, 0.85);
    for (double t : ymin_ticks)
      if (detail::in_view(t, y_min, y_max)) hband(snap(py(t)), left, right);
  }
  rgb8(0, 0, 0.7);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_SQUARE);
  std::size_t t_lead = 0;
  struct Label {
    double x, y;
    std::string text;
  };
  std::vector<Label> labels;
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
          vband(snap(px(x_offset)), snap(py(v - 0.3)), snap(py(v + 0.3)));
        }
      }
      t_lead = idx;
      if (o.show_lead_name && t_lead < o.lead_names.size()) labels.push_back({px(x_offset + 0.07), py(y_offset - 0.5), o.lead_names[t_lead]});
      for (std::size_t k = 0; k < L; ++k) {
        const double x = px(static_cast<double>(k) / o.sample_rate + x_offset), y = py(ecg[t_lead * L + k] + y_offset);
        if (k == 0) cairo_move_to(cr, x, y);
        else cairo_line_to(cr, x, y);
      }
      cairo_stroke(cr);
    }
  if (!labels.empty()) {  // DejaVu Sans 9 pt (matplotlib's default font), baseline at the point
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 9.0 * o.dpi / 72.0);
    for (const auto& l : labels) {
      cairo_move_to(cr, std::round(l.x), std::round(l.y));
      cairo_show_text(cr, l.text.c_str());
    }
  }
  cairo_destroy(cr);
  RgbImage img = from_cairo(surf);
  cairo_surface_destroy(surf);
  return img;
}

}  // namespace ecgbench::represent
