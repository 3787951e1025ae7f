// What the encoder of a run receives for one segment: the instance-normalised signal (ECG encoders,
// encoder-free), or for the vision encoders the pixel values of the stacked signal or the plotted
// 12-lead image after the encoder's own image processor (preprocessor_config.json).
#pragma once

#include "ecgbench/data/elm_dataset.hpp"
#include "ecgbench/elm/config.hpp"
#include "ecgbench/represent/pixel_input.hpp"

namespace ecgbench::elm {

inline data::EncoderInputFn encoder_input_fn(const ElmConfig& c, bool augment_image) {
  if (c.representation == "signal" || c.representation == "ecg-tokens") return data::normalized_signal;
  const bool image = c.representation == "image";
  const auto processor = represent::ImageProcessor::from_directory(c.encoder_checkpoint);
  return [processor, image, augment_image](std::span<const float> seg, std::size_t len, std::uint64_t item_seed) {
    represent::PixelValues px = represent::pixel_input(seg, len, image, augment_image, item_seed, processor);
    return data::EncoderInput{std::move(px.values), {px.channels, px.height, px.width}};
  };
}

}  // namespace ecgbench::elm
