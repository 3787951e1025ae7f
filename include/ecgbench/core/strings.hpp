// Small string helpers shared by the parsers and apps.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ecgbench {

/// Splits at every `sep`, keeping empty pieces ("a//b" -> a, "", b; "" -> one empty piece), like
/// Python's str.split(sep).
inline std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto pos = s.find(sep, start);
    parts.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return parts;
    start = pos + 1;
  }
}

}  // namespace ecgbench
