// The evaluation probes of ECG-Bench (upstream-inventory §4.5), torch-free and seeded:
//  - noise: with p 0.5, Gaussian noise of sigma 0.05 std(x); inside that branch, with p 0.5, also a
//    baseline wander 0.07 max|x| sin(linspace(0, k pi, L)) with k in 1..5, the same for every lead;
//  - blackout: the signal replaced by zeros;
//  - no_signal: text only (the ECG is left out of the prompt; handled by the data pipeline).
// Upstream [P] perturbs the raw signal before normalisation (what we do); [H] normalises first.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/random.hpp"

namespace ecgbench::represent {

enum class Perturbation { none, noise, blackout, no_signal };

inline Perturbation parse_perturbation(const std::string& s) {
  if (s.empty() || s == "none") return Perturbation::none;
  if (s == "noise") return Perturbation::noise;
  if (s == "blackout") return Perturbation::blackout;
  if (s == "no-signal" || s == "no_signal") return Perturbation::no_signal;
  throw Error("unknown perturbation '" + s + "' (none, noise, blackout, no-signal)");
}
inline const char* to_string(Perturbation p) {
  switch (p) {
    case Perturbation::none: return "none";
    case Perturbation::noise: return "noise";
    case Perturbation::blackout: return "blackout";
    case Perturbation::no_signal: return "no-signal";
  }
  return "?";
}

/// What one application of the noise probe did (for tests and reports).
struct NoiseDraw {
  bool noise = false, wander = false;
  int k = 0;        ///< wander half-periods
  double sigma = 0;  ///< noise standard deviation
};

/// Applies `p` in place to a [leads x L] lead-major signal. `rng` decides the random branches.
inline NoiseDraw perturb(std::span<float> x, std::size_t leads, Perturbation p, Rng& rng) {
  NoiseDraw d;
  if (leads == 0 || x.size() % leads) throw Error("perturb: the signal is not [leads, samples]");
  const std::size_t L = x.size() / leads;
  if (p == Perturbation::blackout) {
    for (auto& v : x) v = 0.0f;
    return d;
  }
  if (p != Perturbation::noise || x.empty()) return d;
  if (uniform01(rng) >= 0.5) return d;
  // std over the whole segment (numpy's np.std: population), max |x|.
  double mean = 0;
  for (float v : x) mean += v;
  mean /= static_cast<double>(x.size());
  double var = 0, amax = 0;
  for (float v : x) var += (v - mean) * (v - mean), amax = std::max(amax, std::abs(static_cast<double>(v)));
  d.noise = true;
  d.sigma = 0.05 * std::sqrt(var / static_cast<double>(x.size()));
  for (auto& v : x) v = static_cast<float>(v + normal(rng, 0.0, d.sigma));
  if (uniform01(rng) < 0.5) {
    d.wander = true;
    d.k = 1 + static_cast<int>(uniform_index(rng, 5));
    for (std::size_t t = 0; t < L; ++t) {
      const double phase = L > 1 ? static_cast<double>(d.k) * std::numbers::pi * static_cast<double>(t) / static_cast<double>(L - 1) : 0.0;
      const auto w = static_cast<float>(0.07 * amax * std::sin(phase));
      for (std::size_t c = 0; c < leads; ++c) x[c * L + t] += w;
    }
  }
  return d;
}

}  // namespace ecgbench::represent
