// The canonical 12-lead order used everywhere in ecgbench: I, II, III, aVR, aVL, aVF, V1..V6
// (PTB-XL's native order). Upstream ECG-Bench leaves PTB-XL in this order but reorders MIMIC and
// CODE-15 to I, II, III, aVL, aVR, aVF; we map every source onto this one order instead.
#pragma once

#include <array>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>

namespace ecgbench::io {

inline constexpr std::array<std::string_view, 12> canonical_leads = {"I",  "II", "III", "aVR", "aVL", "aVF",
                                                                     "V1", "V2", "V3",  "V4",  "V5",  "V6"};

/// Index of `name` in `canonical_leads`, tolerant of case and spacing ("AVR", "avr", " V1",
/// "lead II"); nullopt for anything else (e.g. "MLII", "vx").
inline std::optional<int> canonical_lead_index(std::string_view name) {
  std::string n;
  for (char c : name)
    if (!std::isspace(static_cast<unsigned char>(c)) && c != '_' && c != '-') n += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (n.starts_with("LEAD")) n.erase(0, 4);
  for (std::size_t i = 0; i < canonical_leads.size(); ++i) {
    std::string c;
    for (char ch : canonical_leads[i]) c += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (n == c) return static_cast<int>(i);
  }
  return std::nullopt;
}

}  // namespace ecgbench::io
