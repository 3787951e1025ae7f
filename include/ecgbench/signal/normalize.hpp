// Instance normalisation of a segment as upstream feeds ECG encoders and builds stacked images:
// global min-max over all leads, clip((x - min) / (max - min + 1e-6), 0, 1), in float32 with the denominator
// rounded from double exactly as NumPy computes `arr.max() - arr.min() + 1e-6` on float32 scalars.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "ecgbench/core/error.hpp"

namespace ecgbench::signal {

inline std::vector<float> instance_normalize(std::span<const float> x) {
  if (x.empty()) throw Error("instance_normalize: empty segment");
  float mn = x[0], mx = x[0];
  for (float v : x) {
    if (!std::isfinite(v)) throw Error("instance_normalize: segment contains NaN or Inf");
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }
  const auto den = static_cast<float>(static_cast<double>(mx - mn) + 1e-6);
  std::vector<float> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = std::clamp((x[i] - mn) / den, 0.0f, 1.0f);  // upstream clips to [0, 1]
  return out;
}

}  // namespace ecgbench::signal
