// PTB-XL metadata: `ptbxl_database.csv` (one row per ECG: report, scp_codes, patient, fold, file
// names) and `scp_statements.csv` (the SCP-ECG statement table). Wagner et al., Sci Data 2020.
#pragma once

#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/io/csv.hpp"
#include "ecgbench/io/wfdb_header.hpp"

namespace ecgbench::io {

struct PtbxlRecordInfo {
  std::int64_t ecg_id = 0;
  std::int64_t patient_id = 0;
  std::optional<double> age;
  std::optional<int> sex;  ///< 0 male, 1 female (PTB-XL convention)
  std::string report;
  std::vector<std::pair<std::string, double>> scp_codes;  ///< statement -> likelihood, file order
  int strat_fold = 0;
  std::string filename_lr, filename_hr;  ///< relative to the data set root, without extension
};

/// Parses the Python dict literal in `scp_codes`, e.g. "{'NORM': 100.0, 'SR': 0.0}".
inline std::vector<std::pair<std::string, double>> parse_scp_codes(std::string_view s, const std::string& file, std::size_t line) {
  auto fail = [&](const std::string& why) -> Error { return Error({file, line, {}, "scp_codes"}, why + " in '" + std::string(s) + "'"); };
  std::vector<std::pair<std::string, double>> out;
  std::size_t i = 0;
  auto skip = [&] { while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i; };
  skip();
  if (i >= s.size() || s[i] != '{') throw fail("scp_codes is not a dict literal");
  ++i;
  skip();
  if (i < s.size() && s[i] == '}') return out;
  while (true) {
    skip();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) throw fail("expected a quoted statement code");
    const char q = s[i++];
    const auto end = s.find(q, i);
    if (end == std::string_view::npos) throw fail("unterminated statement code");
    std::string key(s.substr(i, end - i));
    i = end + 1;
    skip();
    if (i >= s.size() || s[i] != ':') throw fail("expected ':'");
    ++i;
    skip();
    std::size_t j = i;
    while (j < s.size() && s[j] != ',' && s[j] != '}') ++j;
    std::string_view num = s.substr(i, j - i);
    while (!num.empty() && num.back() == ' ') num.remove_suffix(1);
    double v = 0;
    if (!detail::parse_number(num, v)) throw fail("invalid likelihood '" + std::string(num) + "'");
    out.emplace_back(std::move(key), v);
    i = j;
    if (i >= s.size()) throw fail("unterminated dict");
    if (s[i] == '}') return out;
    ++i;  // ','
    skip();
    if (i < s.size() && s[i] == '}') return out;
  }
}

namespace detail {
inline std::optional<double> optional_number(const std::string& s, const std::string& file, std::size_t line, const char* field) {
  if (s.empty() || s == "nan" || s == "NaN") return std::nullopt;
  double v = 0;
  if (!parse_number(std::string_view(s), v)) throw Error({file, line, {}, field}, "invalid number '" + s + "'");
  return v;
}
inline std::int64_t required_id(const std::string& s, const std::string& file, std::size_t line, const char* field) {
  const auto v = optional_number(s, file, line, field);
  if (!v || *v != std::floor(*v)) throw Error({file, line, {}, field}, "invalid " + std::string(field) + " '" + s + "'");
  return static_cast<std::int64_t>(*v);  // PTB-XL stores patient ids as floats ("15709.0")
}
}  // namespace detail

inline std::vector<PtbxlRecordInfo> read_ptbxl_database(const std::filesystem::path& csv) {
  const auto t = CsvTable::read(csv);
  const auto c_id = t.column("ecg_id"), c_pat = t.column("patient_id"), c_rep = t.column("report"),
             c_scp = t.column("scp_codes"), c_fold = t.column("strat_fold"), c_lr = t.column("filename_lr"),
             c_hr = t.column("filename_hr");
  const auto c_age = t.has_column("age") ? std::optional(t.column("age")) : std::nullopt;
  const auto c_sex = t.has_column("sex") ? std::optional(t.column("sex")) : std::nullopt;
  std::vector<PtbxlRecordInfo> out;
  out.reserve(t.size());
  for (std::size_t r = 0; r < t.size(); ++r) {
    const auto& row = t.row(r);
    const auto line = t.line_of(r);
    PtbxlRecordInfo info;
    info.ecg_id = detail::required_id(row[c_id], t.name(), line, "ecg_id");
    info.patient_id = detail::required_id(row[c_pat], t.name(), line, "patient_id");
    if (c_age) info.age = detail::optional_number(row[*c_age], t.name(), line, "age");
    if (c_sex) {
      if (auto s = detail::optional_number(row[*c_sex], t.name(), line, "sex")) info.sex = static_cast<int>(*s);
    }
    info.report = row[c_rep];
    info.scp_codes = parse_scp_codes(row[c_scp], t.name(), line);
    info.strat_fold = static_cast<int>(detail::required_id(row[c_fold], t.name(), line, "strat_fold"));
    info.filename_lr = row[c_lr];
    info.filename_hr = row[c_hr];
    out.push_back(std::move(info));
  }
  return out;
}

struct ScpStatement {
  std::string code, description, diagnostic_class, diagnostic_subclass, category;
  bool diagnostic = false, form = false, rhythm = false;
};

/// `scp_statements.csv`: the first (unnamed) column holds the statement code.
inline std::map<std::string, ScpStatement> read_scp_statements(const std::filesystem::path& csv) {
  const auto t = CsvTable::read(csv);
  const auto c_desc = t.column("description");
  auto flag = [](const std::string& s) { return !s.empty() && s != "0" && s != "0.0"; };
  std::map<std::string, ScpStatement> out;
  for (std::size_t r = 0; r < t.size(); ++r) {
    const auto& row = t.row(r);
    ScpStatement s;
    s.code = row[0];
    if (s.code.empty()) throw Error({t.name(), t.line_of(r), {}, {}}, "empty SCP statement code");
    s.description = row[c_desc];
    if (t.has_column("diagnostic")) s.diagnostic = flag(row[t.column("diagnostic")]);
    if (t.has_column("form")) s.form = flag(row[t.column("form")]);
    if (t.has_column("rhythm")) s.rhythm = flag(row[t.column("rhythm")]);
    if (t.has_column("diagnostic_class")) s.diagnostic_class = row[t.column("diagnostic_class")];
    if (t.has_column("diagnostic_subclass")) s.diagnostic_subclass = row[t.column("diagnostic_subclass")];
    if (t.has_column("Statement Category")) s.category = row[t.column("Statement Category")];
    out.emplace(s.code, std::move(s));
  }
  return out;
}

}  // namespace ecgbench::io
