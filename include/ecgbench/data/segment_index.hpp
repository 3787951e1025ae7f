// One entry of a preprocessed data set's `index.jsonl`: which shard and row hold segment j of a
// record, with the record's report, patient and labels. This is the data model every later stage
// (tokenizer sampling, QA mapping, splits, training) joins on, by `id`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ecgbench/core/json.hpp"

namespace ecgbench::data {

struct SegmentEntry {
  std::string id;          ///< "<stem>_<j>", upstream's file-name stem
  std::string source;      ///< record path relative to the data dir
  std::size_t segment = 0; ///< j
  std::size_t shard = 0;   ///< segments-<shard>.npy
  std::size_t row = 0;     ///< row in that shard
  std::string report;
  std::string patient_id;
  std::vector<std::string> labels;
  double orig_sf = 0, target_sf = 0;
  std::size_t segment_len = 0;
  std::optional<int> strat_fold;
};

inline Json to_json(const SegmentEntry& e) {
  Json j{{"id", e.id},         {"source", e.source},         {"segment", e.segment},     {"shard", e.shard},
         {"row", e.row},       {"report", e.report},         {"patient_id", e.patient_id}, {"labels", e.labels},
         {"orig_sf", e.orig_sf}, {"target_sf", e.target_sf}, {"segment_len", e.segment_len}};
  if (e.strat_fold) j["strat_fold"] = *e.strat_fold;
  return j;
}

inline SegmentEntry segment_entry_from_json(const Json& j, const std::string& file, std::size_t line) {
  const std::string where = "line " + std::to_string(line);
  SegmentEntry e;
  e.id = json_get<std::string>(j, "id", file, where);
  e.source = json_get<std::string>(j, "source", file, where);
  e.segment = json_get<std::size_t>(j, "segment", file, where);
  e.shard = json_get<std::size_t>(j, "shard", file, where);
  e.row = json_get<std::size_t>(j, "row", file, where);
  e.report = json_get<std::string>(j, "report", file, where);
  e.patient_id = json_get<std::string>(j, "patient_id", file, where);
  e.labels = json_get<std::vector<std::string>>(j, "labels", file, where);
  e.orig_sf = json_get<double>(j, "orig_sf", file, where);
  e.target_sf = json_get<double>(j, "target_sf", file, where);
  e.segment_len = json_get<std::size_t>(j, "segment_len", file, where);
  if (j.contains("strat_fold")) e.strat_fold = json_get<int>(j, "strat_fold", file, where);
  return e;
}

inline std::vector<SegmentEntry> read_segment_index(const std::filesystem::path& path) {
  std::vector<SegmentEntry> out;
  for_each_jsonl(path, [&](Json&& j, std::size_t line) { out.push_back(segment_entry_from_json(j, path.string(), line)); });
  return out;
}

inline std::filesystem::path shard_path(const std::filesystem::path& out_dir, std::size_t shard) {
  char name[32];
  std::snprintf(name, sizeof name, "segments-%05zu.npy", shard);
  return out_dir / name;
}

}  // namespace ecgbench::data
