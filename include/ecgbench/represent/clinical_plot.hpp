// A 12-lead ECG printed the way a clinician reads one: standard ECG paper (25 mm/s, 10 mm/mV, 1 mm
// minor and 5 mm major grid), a 3 x 4 layout (I aVR V1 V4 / II aVL V2 V5 / III aVF V3 V6) of
// consecutive quarters of the record plus a lead-II rhythm strip over the whole record, a 1 mV x
// 0.2 s calibration pulse at the start of every row, correct lead labels, and the record id, speed,
// gain and sampling rate in the top margin. Rendered with Cairo at `px_per_mm` (4 = about 100 dpi).
#pragma once

#include <cairo.h>

#include <cmath>
#include <cstdio>
#include <span>
#include <string>

#include "ecgbench/core/error.hpp"
#include "ecgbench/represent/image.hpp"

namespace ecgbench::represent {

struct ClinicalPlotOptions {
  double sample_rate = 250;
  double px_per_mm = 4;
  double mm_per_s = 25, mm_per_mv = 10;
  double row_mm = 30;  ///< height of one row (+-1.5 mV)
  double left_mm = 12, right_mm = 5, top_mm = 14, bottom_mm = 5;
  std::string title;  ///< record id
};

/// The geometry of a clinical plot (for drawing and for tests that read the image).
struct ClinicalLayout {
  int width = 0, height = 0;
  double px_per_mm = 4, x0 = 0, top = 0, row_px = 0, seconds = 0;
  /// Baseline (0 mV) row in pixels of row r (0..3; 3 = rhythm strip).
  [[nodiscard]] double baseline(int r) const { return top + (r + 0.5) * row_px; }
  /// Pixel column of time t (s) from the start of the paper.
  [[nodiscard]] double x_of(double t, double mm_per_s) const { return x0 + t * mm_per_s * px_per_mm; }
};

inline ClinicalLayout clinical_layout(std::size_t samples, const ClinicalPlotOptions& o) {
  ClinicalLayout l;
  l.px_per_mm = o.px_per_mm;
  l.seconds = static_cast<double>(samples) / o.sample_rate;
  const double paper_mm = l.seconds * o.mm_per_s;
  l.x0 = o.left_mm * o.px_per_mm;
  l.top = o.top_mm * o.px_per_mm;
  l.row_px = o.row_mm * o.px_per_mm;
  l.width = static_cast<int>(std::lround((o.left_mm + paper_mm + o.right_mm) * o.px_per_mm));
  l.height = static_cast<int>(std::lround((o.top_mm + 4 * o.row_mm + o.bottom_mm) * o.px_per_mm));
  return l;
}

/// `ecg`: 12 x L, lead-major, canonical order I, II, III, aVR, aVL, aVF, V1-V6 (mV).
inline RgbImage clinical_ecg_plot(std::span<const float> ecg, const ClinicalPlotOptions& o = {}) {
  if (ecg.empty() || ecg.size() % 12) throw Error("clinical plot: the signal is not [12, samples] (got " + std::to_string(ecg.size()) + " values)");
  for (float v : ecg)
    if (!std::isfinite(v)) throw Error("clinical plot: the signal contains NaN or Inf");
  const std::size_t L = ecg.size() / 12;
  if (L < 8) throw Error("clinical plot: the signal is too short (" + std::to_string(L) + " samples)");
  const ClinicalLayout g = clinical_layout(L, o);
  if (g.width > 20000) throw Error("clinical plot: the record is too long to print on one page");
  cairo_surface_t* surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, g.width, g.height);
  cairo_t* cr = cairo_create(surf);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  const double mm = o.px_per_mm;
  const double paper_w = g.seconds * o.mm_per_s * mm, paper_top = g.top, paper_h = 4 * g.row_px;
  // Grid: 1 mm minor lines, then 5 mm major lines on top, one pixel wide at pixel centres.
  cairo_set_line_width(cr, 1.0);
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 0) cairo_set_source_rgb(cr, 1.0, 0.86, 0.86);
    else cairo_set_source_rgb(cr, 0.94, 0.55, 0.55);
    const int step = pass == 0 ? 1 : 5;
    for (int k = 0; k * mm <= paper_w + 0.01; k += step) {
      if (pass == 0 && k % 5 == 0) continue;
      const double x = std::floor(g.x0 + k * mm) + 0.5;
      cairo_move_to(cr, x, paper_top);
      cairo_line_to(cr, x, paper_top + paper_h);
    }
    for (int k = 0; k * mm <= paper_h + 0.01; k += step) {
      if (pass == 0 && k % 5 == 0) continue;
      const double y = std::floor(paper_top + k * mm) + 0.5;
      cairo_move_to(cr, g.x0, y);
      cairo_line_to(cr, g.x0 + paper_w, y);
    }
    cairo_stroke(cr);
  }
  static const char* names[12] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
  static const int layout[3][4] = {{0, 3, 6, 9}, {1, 4, 7, 10}, {2, 5, 8, 11}};
  const double px_per_s = o.mm_per_s * mm, px_per_mv = o.mm_per_mv * mm;
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1.2);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  auto trace = [&](int lead, std::size_t from, std::size_t to, double y0) {
    for (std::size_t k = from; k < to; ++k) {
      const double x = g.x0 + static_cast<double>(k) / o.sample_rate * px_per_s;
      const double y = y0 - ecg[static_cast<std::size_t>(lead) * L + k] * px_per_mv;
      if (k == from) cairo_move_to(cr, x, y);
      else cairo_line_to(cr, x, y);
    }
    cairo_stroke(cr);
  };
  // Calibration pulses (in the left margin) and traces.
  for (int r = 0; r < 4; ++r) {
    const double y0 = g.baseline(r);
    const double cx = g.x0 - 7 * mm;
    cairo_move_to(cr, cx - 1 * mm, y0);
    cairo_line_to(cr, cx, y0);
    cairo_line_to(cr, cx, y0 - px_per_mv);
    cairo_line_to(cr, cx + 0.2 * px_per_s, y0 - px_per_mv);
    cairo_line_to(cr, cx + 0.2 * px_per_s, y0);
    cairo_line_to(cr, cx + 0.2 * px_per_s + 1 * mm, y0);
    cairo_stroke(cr);
  }
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) {
      const std::size_t from = L * static_cast<std::size_t>(c) / 4, to = std::min(L, L * static_cast<std::size_t>(c + 1) / 4 + 1);
      trace(layout[r][c], from, to, g.baseline(r));
    }
  trace(1, 0, L, g.baseline(3));  // lead II rhythm strip
  // Column separators between the quarters.
  for (int c = 1; c < 4; ++c) {
    const double x = std::floor(g.x0 + static_cast<double>(L * static_cast<std::size_t>(c) / 4) / o.sample_rate * px_per_s) + 0.5;
    for (int r = 0; r < 3; ++r) {
      cairo_move_to(cr, x, g.baseline(r) - 4 * mm);
      cairo_line_to(cr, x, g.baseline(r) + 4 * mm);
    }
  }
  cairo_stroke(cr);
  // Labels and header.
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, 3.5 * mm);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) {
      const double x = g.x0 + static_cast<double>(L * static_cast<std::size_t>(c) / 4) / o.sample_rate * px_per_s + 1.5 * mm;
      cairo_move_to(cr, x, g.baseline(r) - 9 * mm);
      cairo_show_text(cr, names[layout[r][c]]);
    }
  cairo_move_to(cr, g.x0 + 1.5 * mm, g.baseline(3) - 9 * mm);
  cairo_show_text(cr, "II");
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 3.2 * mm);
  char info[256];
  std::snprintf(info, sizeof info, "%s   %.0f mm/s   %.0f mm/mV   %.0f Hz   %.1f s", o.title.empty() ? "ECG" : o.title.c_str(), o.mm_per_s, o.mm_per_mv,
                o.sample_rate, g.seconds);
  cairo_move_to(cr, g.x0, g.top - 4 * mm);
  cairo_show_text(cr, info);
  cairo_destroy(cr);
  RgbImage img = from_cairo(surf);
  cairo_surface_destroy(surf);
  return img;
}

}  // namespace ecgbench::represent
