// The stacked-signal representation (upstream's `signal_to_stacked_signal`): the segment normalised
// globally (min-max, eps 1e-6, clipped to [0, 1]), times 255, truncated to uint8, as a gray image of
// 12 rows x L columns repeated in 3 channels.
#pragma once

#include <span>

#include "ecgbench/core/error.hpp"
#include "ecgbench/represent/image.hpp"
#include "ecgbench/signal/normalize.hpp"

namespace ecgbench::represent {

/// `segment`: leads x L, lead-major.
inline RgbImage stacked_signal(std::span<const float> segment, std::size_t leads = 12) {
  if (leads == 0 || segment.empty() || segment.size() % leads) throw Error("stacked signal: the segment is not [leads, samples]");
  const auto norm = signal::instance_normalize(segment);
  const int L = static_cast<int>(segment.size() / leads);
  RgbImage img(L, static_cast<int>(leads));
  for (int r = 0; r < static_cast<int>(leads); ++r)
    for (int t = 0; t < L; ++t) {
      const auto v = static_cast<std::uint8_t>(norm[static_cast<std::size_t>(r) * static_cast<std::size_t>(L) + static_cast<std::size_t>(t)] * 255.0f);
      for (int c = 0; c < 3; ++c) img.at(t, r, c) = v;
    }
  return img;
}

}  // namespace ecgbench::represent
