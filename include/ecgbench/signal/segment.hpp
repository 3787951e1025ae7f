// Non-finite cleaning and non-overlapping segmentation, as upstream ECG-Bench's preprocessing:
// NaN/Inf -> 0 (counted, so callers can warn), segments [j L, (j+1) L) for j < floor(T / L), tail dropped.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <cstddef>
#include <span>

namespace ecgbench::signal {

/// Replaces NaN and +-Inf by 0; returns how many values were replaced.
template <class T>
std::size_t replace_non_finite(std::span<T> x) {
  // Fast path: a value is non-finite iff its exponent bits are all ones. Adding one unit of the
  // exponent's lowest bit carries into the sign bit exactly then, so an add/or reduction (which
  // vectorises even on baseline SSE2, unlike a compare or a floating-point sum) finds any of them.
  using Bits = std::conditional_t<sizeof(T) == 8, std::uint64_t, std::uint32_t>;
  constexpr Bits exponent = sizeof(T) == 8 ? Bits{0x7ff0000000000000ull} : Bits{0x7f800000u};
  constexpr Bits lowest = sizeof(T) == 8 ? Bits{1ull << 52} : Bits{1u << 23};
  constexpr Bits sign = Bits{1} << (8 * sizeof(T) - 1);
  Bits bad = 0;
  for (const T v : x) bad |= (std::bit_cast<Bits>(v) & exponent) + lowest;
  bad &= sign;
  if (bad == 0) return 0;
  std::size_t n = 0;
  for (auto& v : x)
    if (!std::isfinite(v)) {
      v = 0;
      ++n;
    }
  return n;
}

/// Number of whole segments of `segment_len` in `n` samples.
constexpr std::size_t segment_count(std::size_t n, std::size_t segment_len) { return segment_len == 0 ? 0 : n / segment_len; }

/// Copies segment `j` of a frame-major [n][leads] signal into `out`, lead-major [leads][segment_len]
/// (the layout of the segment shards), converting the element type.
template <class In, class Out>
void copy_segment(std::span<const In> x, std::size_t leads, std::size_t segment_len, std::size_t j, std::span<Out> out) {
  const In* src = x.data() + j * segment_len * leads;
  for (std::size_t t = 0; t < segment_len; ++t)
    for (std::size_t l = 0; l < leads; ++l) out[l * segment_len + t] = static_cast<Out>(src[t * leads + l]);
}

}  // namespace ecgbench::signal
