// The retrieved ECGs as prompt text, byte for byte as upstream writes them (rag_utils.format_search),
// with Python's formatting of numbers (`round(float(v), 6)` printed by repr; lists as "[a, b]").
//  - `format_search` ([P]): results filtered (dropped when > 50 % of features have |f| < 1e-3 or
//    sum |f| < 0.5), "Retrieved ECG i", diagnosis, then features. Upstream zips the 24 feature names
//    with the first 24 values, so only lead I's features appear (quirk 14): `upstream_lead_i_only`.
//    Fixed by default: every feature as a list of 12 leads, with the lead order stated (PR #3's form).
//  - PR #3's user-query mode: the query's own features and the retrieved text before "Question:".
#pragma once

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/rag/database.hpp"
#include "ecgbench/signal/ecg_features.hpp"

namespace ecgbench::rag {

/// Python's repr of a float (shortest round-trip digits; exponent form below 1e-4 or from 1e16).
inline std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, res.ptr);
  const auto epos = s.find('e');
  std::string mant = s.substr(0, epos);
  const int exp = std::stoi(s.substr(epos + 1));
  const bool neg = mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return out + e;
  }
  if (exp < 0) return out + "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
  const auto point = static_cast<std::size_t>(exp + 1);
  if (digits.size() <= point) return out + digits + std::string(point - digits.size(), '0') + ".0";
  return out + digits.substr(0, point) + "." + digits.substr(point);
}

/// Python's round(x, 6) (correctly rounded to 6 decimals, half-even on the exact binary value).
inline double python_round6(double x) {
  if (!std::isfinite(x)) return x;
  char buf[512];
  auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed, 6);
  return std::strtod(std::string(buf, res.ptr).c_str(), nullptr);
}

/// A retrieved ECG for the prompt: its report and its features (lead-major).
struct Retrieved {
  std::string report;
  std::vector<double> features;
  float distance = 0;
};

/// Upstream's filter_results: drop results whose features are mostly ~0 or tiny in total.
inline bool keep_result(const std::vector<double>& f) {
  if (f.empty()) return false;
  std::size_t small = 0;
  double total = 0;
  for (double v : f) small += std::abs(v) < 1e-3, total += std::abs(v);
  return !(static_cast<double>(small) / static_cast<double>(f.size()) > 0.5 || total < 0.5);
}

enum class Information { feature, report, combined };
inline Information parse_information(const std::string& s) {
  if (s == "feature") return Information::feature;
  if (s == "report") return Information::report;
  if (s == "combined") return Information::combined;
  throw Error("unknown retrieved information '" + s + "' (feature, report, combined)");
}

/// Features as "name: [v_I, v_II, ...]" lines (PR #3's convert_features_to_structured).
inline std::string features_by_lead(const std::vector<double>& f, const std::vector<std::string>& names) {
  if (names.empty() || f.size() != 12 * names.size()) throw Error("features_by_lead: expected 12 x " + std::to_string(names.size()) + " values");
  std::string out;
  for (std::size_t k = 0; k < names.size(); ++k) {
    out += names[k] + ": [";
    for (std::size_t l = 0; l < 12; ++l) out += (l ? ", " : "") + python_float_repr(python_round6(f[l * names.size() + k]));
    out += "]\n";
  }
  return out;
}

/// format_search. `names`: the feature names of the database's set (24 or 19 per lead).
inline std::string format_search(const std::vector<Retrieved>& results, Information info, const std::vector<std::string>& names, bool upstream_lead_i_only = false) {
  std::vector<const Retrieved*> kept;
  for (const auto& r : results)
    if (keep_result(r.features)) kept.push_back(&r);
  std::string out = "The following is the top " + std::to_string(kept.size()) + " retrieved ECGs and their corresponding ";
  const std::string lead_order = upstream_lead_i_only ? "" : " The lead order is I, II, III, aVL, aVR, aVF, V1, V2, V3, V4, V5, V6.";
  if (info == Information::feature) out += "features. Utilize this information to further enhance your response." + lead_order + "\n\n";
  else if (info == Information::report) out += "diagnosis. Utilize this information to further enhance your response.\n\n";
  else out += "features and diagnosis. Utilize this information to further enhance your response." + lead_order + "\n\n";
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const auto& r = *kept[i];
    if (std::all_of(r.features.begin(), r.features.end(), [](double v) { return v == 0; })) continue;
    out += "Retrieved ECG " + std::to_string(i + 1) + "\n";
    if (info != Information::feature) out += "Diagnosis Information:\n" + r.report + "\n\n";
    if (info != Information::report) {
      out += "Feature Information:\n";
      if (upstream_lead_i_only) {
        for (std::size_t k = 0; k < names.size() && k < r.features.size(); ++k) out += names[k] + ": " + python_float_repr(python_round6(r.features[k])) + "\n";
      } else {
        out += features_by_lead(r.features, names);
      }
      out += "\n";
    }
  }
  return out;
}

/// Where the retrieved text goes: the system prompt (upstream; Llama and Qwen, not Gemma) or, as
/// PR #3's user-query mode, the first user turn ("Feature Information: ... Question: ...").
enum class RagMode { system_prompt, user_query };

inline std::string system_prompt_with(const std::string& system_prompt, const std::string& rag_text) { return system_prompt + "\n" + rag_text; }

inline std::string user_query_with(const std::string& question, const std::vector<double>& own_features, const std::vector<std::string>& names, const std::string& rag_text,
                                   Information info) {
  if (info == Information::report) return rag_text + "Question:\n" + question;
  return "Feature Information:\n" + features_by_lead(own_features, names) + "\n\n" + rag_text + "Question:\n" + question;
}

}  // namespace ecgbench::rag
