// NumPy's reductions as they round: `np.add.reduce` on a contiguous array sums pairwise (blocks of
// 128 with eight accumulators, halves split at multiples of 8) in the array's own dtype, so a float32
// mean or standard deviation is a float32 computation. Reproducing the order reproduces the last bit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

namespace ecgbench::signal::numpy {

/// numpy/core/src/umath/loops_utils.h.src: pairwise_sum (stride in elements).
template <class T, class Get>
T pairwise_sum(std::size_t n, Get&& get) {
  auto rec = [&](auto&& self, std::size_t begin, std::size_t len) -> T {
    if (len < 8) {
      T res = 0;  // numpy starts from -0.0 (keeps the sign of an all -0 sum); irrelevant here
      for (std::size_t i = 0; i < len; ++i) res += get(begin + i);
      return res;
    }
    if (len <= 128) {
      T r[8];
      for (std::size_t k = 0; k < 8; ++k) r[k] = get(begin + k);
      std::size_t i = 8;
      for (; i < len - (len % 8); i += 8)
        for (std::size_t k = 0; k < 8; ++k) r[k] += get(begin + i + k);
      T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
      for (; i < len; ++i) res += get(begin + i);
      return res;
    }
    std::size_t n2 = len / 2;
    n2 -= n2 % 8;
    return self(self, begin, n2) + self(self, begin + n2, len - n2);
  };
  return rec(rec, 0, n);
}

template <class T>
T sum(const T* x, std::size_t n) {
  return pairwise_sum<T>(n, [x](std::size_t i) { return x[i]; });
}

/// np.mean of a whole array: the sum in T; the scalar result divided as `ret.dtype.type(ret / n)`
/// (a double division, rounded to T).
template <class T>
T mean(const T* x, std::size_t n) {
  return static_cast<T>(static_cast<double>(sum(x, n)) / static_cast<double>(n));
}

/// np.std (ddof 0): the mean divided in T (array path), squared deviations in T, their sum / n as a
/// scalar (double division rounded to T), sqrt in T.
template <class T>
T stddev(const T* x, std::size_t n) {
  const T m = sum(x, n) / static_cast<T>(n);
  std::vector<T> d(n);
  for (std::size_t i = 0; i < n; ++i) {
    const T v = x[i] - m;
    d[i] = v * v;
  }
  return std::sqrt(static_cast<T>(static_cast<double>(sum(d.data(), n)) / static_cast<double>(n)));
}

/// The positions `percentile_sorted(v, q)` reads.
inline std::pair<std::size_t, std::size_t> percentile_positions(std::size_t n, double q) {
  const auto prev = static_cast<std::size_t>(std::floor((static_cast<double>(n) - 1) * q / 100.0));
  return {prev, std::min(prev + 1, n - 1)};
}

/// np.percentile(x, q) with the default linear method, NumPy 1.22+ (_lerp, float64 result), of an
/// already sorted array.
template <class T>
double percentile_sorted(const std::vector<T>& v, double q) {
  const double virtual_index = (static_cast<double>(v.size()) - 1) * q / 100.0;
  const auto [prev, next] = percentile_positions(v.size(), q);
  const double gamma = virtual_index - std::floor(virtual_index);
  const double a = v[prev], b = v[next];
  const double diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/// Puts into v[i], for each i in the ascending list [ib, ie), the value a full sort would put there
/// (nested nth_element: linear time for a few order statistics instead of a sort).
template <class T>
void select_sorted(std::vector<T>& v, std::size_t lo, std::size_t hi, const std::size_t* ib, const std::size_t* ie) {
  if (ib == ie || lo >= hi) return;
  const std::size_t* mid = ib + (ie - ib) / 2;
  std::nth_element(v.begin() + static_cast<std::ptrdiff_t>(lo), v.begin() + static_cast<std::ptrdiff_t>(*mid), v.begin() + static_cast<std::ptrdiff_t>(hi));
  select_sorted(v, lo, *mid, ib, mid);
  select_sorted(v, *mid + 1, hi, mid + 1, ie);
}

/// np.median of an already sorted array: the middle element, or the mean of the two middle ones (in T).
template <class T>
T median_sorted(const std::vector<T>& v) {
  const std::size_t n = v.size(), h = n / 2;
  return n % 2 ? v[h] : (v[h - 1] + v[h]) / static_cast<T>(2);
}

}  // namespace ecgbench::signal::numpy
