// A segment made into a vision encoder's input: the plotted 12-lead image (upstream-compatible) or
// the stacked signal, optionally augmented as upstream's --augment_image, through the encoder's
// image processor -> pixel values [3, H, W].
#pragma once

#include <span>

#include "ecgbench/core/random.hpp"
#include "ecgbench/represent/augment.hpp"
#include "ecgbench/represent/ecg_plot.hpp"
#include "ecgbench/represent/processor.hpp"
#include "ecgbench/represent/stacked.hpp"

namespace ecgbench::represent {

inline PixelValues pixel_input(std::span<const float> segment, std::size_t segment_len, bool plotted_image, bool augment, std::uint64_t seed,
                               const ImageProcessor& processor, double sample_rate = 250) {
  if (segment_len == 0 || segment.size() != 12 * segment_len) throw Error("pixel input: the segment is not [12, " + std::to_string(segment_len) + "]");
  EcgPlotOptions po;
  po.sample_rate = sample_rate;
  RgbImage img = plotted_image ? upstream_ecg_plot(segment, 12, po) : stacked_signal(segment, 12);
  if (augment) {
    Rng rng = make_rng(seed, 0x41554700ull);  // "AUG"
    augment_image(img, rng);
  }
  return processor(img);
}

}  // namespace ecgbench::represent
