// ECG-Byte's symbolic representation (Han et al., ECG-Byte; upstream ECG-Bench ecg_tokenizer_utils):
// one segment X [leads][L] is min-max normalised over the whole array, quantised into 26 levels and
// written as the letters 'a'..'z', lead by lead (C order). Arithmetic follows NumPy 1.x on float32
// data: the denominator (max - min) + 1e-6 is formed in double and rounded to float32, the rest is
// float32.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <string_view>

#include "ecgbench/core/error.hpp"

namespace ecgbench::tokenize {

inline constexpr std::string_view ecg_alphabet = "abcdefghijklmnopqrstuvwxyz";
inline constexpr int ecg_levels = 26;

struct SymbolizedEcg {
  std::string symbols;  ///< leads x L letters
  float min = 0, max = 0;
};

/// Appends the symbols of `x` to `out.symbols`; non-finite input is an Error (upstream skips such
/// segments).
inline SymbolizedEcg symbolize(std::span<const float> x) {
  if (x.empty()) throw Error("symbolize: empty segment");
  float mn = x[0], mx = x[0];
  for (float v : x) {
    if (!std::isfinite(v)) throw Error("symbolize: segment contains NaN or Inf");
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }
  const auto den = static_cast<float>(static_cast<double>(mx - mn) + 1e-6);
  SymbolizedEcg s;
  s.min = mn;
  s.max = mx;
  s.symbols.resize(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    float u = (x[i] - mn) / den;
    u = std::clamp(u, 0.0f, 1.0f);
    const int q = std::min(static_cast<int>(std::floor(u * 26.0f)), ecg_levels - 1);
    s.symbols[i] = static_cast<char>('a' + q);
  }
  return s;
}

/// Inverse used for verification: q / 25 * (max - min) + min (not bin-centred, as upstream).
inline std::vector<float> desymbolize(std::string_view symbols, float min, float max) {
  std::vector<float> out(symbols.size());
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    const int q = symbols[i] - 'a';
    if (q < 0 || q >= ecg_levels) throw Error("desymbolize: '" + std::string(1, symbols[i]) + "' at " + std::to_string(i) + " is not an ECG symbol");
    out[i] = static_cast<float>(q) / 25.0f * (max - min) + min;
  }
  return out;
}

}  // namespace ecgbench::tokenize
