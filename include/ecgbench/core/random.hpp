// Seeded, reproducible randomness. std::mt19937_64 is specified bit-for-bit by the standard, but
// the std distributions are not, so the helpers here derive values from raw engine output to give
// the same numbers on every compiler and library.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <utility>
#include <vector>

namespace ecgbench {

using Rng = std::mt19937_64;

/// SplitMix64 step: derives independent child seeds (per worker, per record) from one user seed.
constexpr std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream = 0) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline Rng make_rng(std::uint64_t seed, std::uint64_t stream = 0) { return Rng(mix_seed(seed, stream)); }

/// Uniform double in [0, 1) from the top 53 bits.
inline double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

inline double uniform(Rng& rng, double lo, double hi) { return lo + (hi - lo) * uniform01(rng); }

/// Uniform integer in [0, n) without modulo bias (Lemire's method); n > 0.
inline std::uint64_t uniform_index(Rng& rng, std::uint64_t n) {
  unsigned __int128 m = static_cast<unsigned __int128>(rng()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(rng()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

/// Standard normal by Box-Muller (portable, unlike std::normal_distribution).
inline double normal(Rng& rng, double mean = 0.0, double stddev = 1.0) {
  double u1 = uniform01(rng);
  while (u1 <= 0.0) u1 = uniform01(rng);
  const double u2 = uniform01(rng);
  return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

/// Fisher-Yates shuffle with `uniform_index`, reproducible across standard libraries.
template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[uniform_index(rng, i)]);
}

}  // namespace ecgbench
