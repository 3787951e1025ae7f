// MIMIC-IV-ECG metadata: `record_list.csv` inner-joined with `machine_measurements.csv` on
// (subject_id, study_id); the report is report_0..report_17, empty ones skipped, joined with one
// space; rows whose report columns are all empty are dropped (upstream ECG-Bench's PrepareDF).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ecgbench/io/csv.hpp"
#include "ecgbench/io/ptbxl.hpp"

namespace ecgbench::io {

struct MimicRecordInfo {
  std::int64_t subject_id = 0, study_id = 0;
  std::string path;  ///< record path relative to the data set root, e.g. files/p1000/p10000032/s40689238/40689238
  std::string ecg_time;
  std::string report;
};

inline std::vector<MimicRecordInfo> read_mimic_records(const std::filesystem::path& record_list,
                                                       const std::filesystem::path& machine_measurements) {
  const auto rl = CsvTable::read(record_list);
  const auto mm = CsvTable::read(machine_measurements);
  std::vector<std::size_t> report_cols;
  for (int k = 0; k <= 17; ++k) {
    const std::string name = "report_" + std::to_string(k);
    if (mm.has_column(name)) report_cols.push_back(mm.column(name));
  }
  if (report_cols.empty()) throw Error({mm.name(), 1, {}, {}}, "missing columns report_0..report_17");
  std::map<std::pair<std::int64_t, std::int64_t>, std::string> reports;
  const auto m_sub = mm.column("subject_id"), m_study = mm.column("study_id");
  for (std::size_t r = 0; r < mm.size(); ++r) {
    std::string report;
    for (auto c : report_cols) {
      const auto& s = mm.row(r)[c];
      if (s.empty() || s == "nan" || s == "NaN") continue;
      if (!report.empty()) report += ' ';
      report += s;
    }
    if (report.empty()) continue;
    const auto line = mm.line_of(r);
    reports[{detail::required_id(mm.row(r)[m_sub], mm.name(), line, "subject_id"),
             detail::required_id(mm.row(r)[m_study], mm.name(), line, "study_id")}] = std::move(report);
  }
  const auto r_sub = rl.column("subject_id"), r_study = rl.column("study_id"), r_path = rl.column("path");
  const auto r_time = rl.has_column("ecg_time") ? std::optional(rl.column("ecg_time")) : std::nullopt;
  std::vector<MimicRecordInfo> out;
  for (std::size_t r = 0; r < rl.size(); ++r) {
    const auto line = rl.line_of(r);
    MimicRecordInfo info;
    info.subject_id = detail::required_id(rl.row(r)[r_sub], rl.name(), line, "subject_id");
    info.study_id = detail::required_id(rl.row(r)[r_study], rl.name(), line, "study_id");
    auto it = reports.find({info.subject_id, info.study_id});
    if (it == reports.end()) continue;
    info.path = rl.row(r)[r_path];
    if (r_time) info.ecg_time = rl.row(r)[*r_time];
    info.report = it->second;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace ecgbench::io
