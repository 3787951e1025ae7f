// Text helpers with Python's semantics, for metrics that must match Python packages: str.split()
// (runs of Unicode whitespace) and numpy's pairwise-summation mean.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <unicode/locid.h>
#include <unicode/unistr.h>

#include "ecgbench/core/error.hpp"
#include "ecgbench/tokenize/utf8.hpp"

namespace ecgbench::eval {

namespace detail {
// Decodes one UTF-8 code point at s[i]; advances i. Invalid UTF-8 is an Error (never guessed).
inline char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + static_cast<std::size_t>(len) > s.size()) throw Error("invalid UTF-8 at byte " + std::to_string(i));
  char32_t cp = len == 1 ? b0 : (b0 & (0x7f >> len));
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b >> 6) != 2) throw Error("invalid UTF-8 at byte " + std::to_string(i));
    cp = (cp << 6) | (b & 0x3f);
  }
  i += static_cast<std::size_t>(len);
  return cp;
}

// Python's str.isspace() for the code points str.split() splits on.
inline bool python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
         c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}
}  // namespace detail

/// Appends the UTF-8 encoding of a code point.
inline void append_code_point(std::string& out, char32_t cp) { tokenize::append_utf8(out, static_cast<std::uint32_t>(cp)); }

/// Decodes one code point at s[i] and advances i (Error on invalid UTF-8).
inline char32_t next_code_point(std::string_view s, std::size_t& i) { return detail::next_code_point(s, i); }

/// Python `s.lower()`: full Unicode lower-case mapping (ICU, root locale; final sigma included).
inline std::string python_lower(std::string_view s) {
  bool ascii = true;
  for (char c : s) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    std::string out(s);
    for (char& c : out) if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  }
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  u.toLower(icu::Locale::getRoot());
  std::string out;
  u.toUTF8String(out);
  return out;
}

/// Python `s.split()`: words separated by runs of Unicode whitespace (UTF-8 in and out).
inline std::vector<std::string> python_split(std::string_view s) {
  std::vector<std::string> words;
  std::size_t i = 0, start = std::string_view::npos;
  while (i < s.size()) {
    const std::size_t at = i;
    const char32_t c = detail::next_code_point(s, i);
    if (detail::python_space(c)) {
      if (start != std::string_view::npos) words.emplace_back(s.substr(start, at - start));
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = at;
    }
  }
  if (start != std::string_view::npos) words.emplace_back(s.substr(start));
  return words;
}

/// Lines of a text file as the metric tools read them: split at "\n" only, nothing stripped, a
/// final "\n" ends the last line instead of starting an empty one.
inline std::vector<std::string> text_lines(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    out.emplace_back(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

/// numpy's sum of float64 (pairwise summation: 8 running partial sums per 128-element block,
/// recursive halving above that), so that means match numpy to the last bit.
inline double numpy_sum(std::span<const double> v) {
  const std::size_t n = v.size();
  if (n < 8) {
    double s = 0.0;  // numpy starts from -0.0 and adds in order; for our inputs the sign of 0 is moot
    for (double x : v) s += x;
    return s;
  }
  if (n <= 128) {
    double r[8];
    for (int k = 0; k < 8; ++k) r[k] = v[static_cast<std::size_t>(k)];
    std::size_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (int k = 0; k < 8; ++k) r[k] += v[i + static_cast<std::size_t>(k)];
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) s += v[i];
    return s;
  }
  std::size_t half = n / 2;
  half -= half % 8;
  return numpy_sum(v.subspan(0, half)) + numpy_sum(v.subspan(half));
}

inline double numpy_mean(std::span<const double> v) { return v.empty() ? 0.0 : numpy_sum(v) / static_cast<double>(v.size()); }

}  // namespace ecgbench::eval
