// The base ECG data sets as distributed (PTB-XL, MIMIC-IV-ECG, CODE-15%, CSN, CPSC): listing their
// records with report, patient and labels, and loading one record as a canonical 12-lead ECG.
// Naming follows upstream ECG-Bench: a record's stem is its path with '/' replaced by '_'
// (CODE-15: the exam id), and segment j of it is `<stem>_<j>`.
#pragma once

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/io/code15.hpp"
#include "ecgbench/io/mimic.hpp"
#include "ecgbench/io/ptbxl.hpp"
#include "ecgbench/io/snomed.hpp"
#include "ecgbench/io/wfdb.hpp"

namespace ecgbench::data {

enum class BaseDataset { ptb, mimic, code15, csn, cpsc };

inline BaseDataset parse_base_dataset(const std::string& s) {
  if (s == "ptb" || s == "ptbxl" || s == "ptb-xl") return BaseDataset::ptb;
  if (s == "mimic") return BaseDataset::mimic;
  if (s == "code15") return BaseDataset::code15;
  if (s == "csn") return BaseDataset::csn;
  if (s == "cpsc") return BaseDataset::cpsc;
  throw Error("unknown base data set '" + s + "' (expected ptb, mimic, code15, csn or cpsc)");
}

inline std::string to_string(BaseDataset d) {
  switch (d) {
    case BaseDataset::ptb: return "ptb";
    case BaseDataset::mimic: return "mimic";
    case BaseDataset::code15: return "code15";
    case BaseDataset::csn: return "csn";
    case BaseDataset::cpsc: return "cpsc";
  }
  return "?";
}

/// The rate each data set is distributed at (upstream asserts it).
inline double native_sampling_frequency(BaseDataset d) { return d == BaseDataset::code15 ? io::code15_sampling_frequency : 500.0; }

struct BaseRecord {
  std::string source;      ///< path relative to the data dir (CODE-15: "<trace_file>#<exam_id>")
  std::string stem;        ///< upstream file-name stem
  std::string report;
  std::string patient_id;  ///< grouping key for patient-level splits
  std::vector<std::string> labels;
  std::optional<int> strat_fold;  ///< PTB-XL's recommended fold (1..10)
  std::string hdf5_file;   ///< CODE-15 only
  std::int64_t exam_id = 0;
};

inline std::string path_stem(const std::string& rel) {
  std::string s = rel;
  std::replace(s.begin(), s.end(), '/', '_');
  return s;
}

/// First existing file among candidates, or an Error listing what was looked for.
inline std::filesystem::path find_one(const std::filesystem::path& dir, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (std::filesystem::exists(dir / n)) return dir / n;
  std::string list;
  for (const char* n : names) list += (list.empty() ? "" : " or ") + std::string(n);
  throw Error({dir.string(), {}, {}, {}}, "data directory lacks " + list);
}

/// Lists the records of a data set in a deterministic order.
inline std::vector<BaseRecord> list_base_records(BaseDataset d, const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw Error({dir.string(), {}, {}, {}}, "data directory does not exist");
  std::vector<BaseRecord> out;
  switch (d) {
    case BaseDataset::ptb: {
      for (auto& r : io::read_ptbxl_database(find_one(dir, {"ptbxl_database.csv", "ptbxl_database_excerpt.csv"}))) {
        BaseRecord b;
        b.source = r.filename_hr;
        b.stem = path_stem(r.filename_hr);
        b.report = r.report;
        b.patient_id = std::to_string(r.patient_id);
        for (auto& [code, likelihood] : r.scp_codes) b.labels.push_back(code);
        b.strat_fold = r.strat_fold;
        out.push_back(std::move(b));
      }
      break;
    }
    case BaseDataset::mimic: {
      for (auto& r : io::read_mimic_records(find_one(dir, {"record_list.csv"}), find_one(dir, {"machine_measurements.csv"}))) {
        BaseRecord b;
        b.source = r.path;
        b.stem = path_stem(r.path);
        b.report = r.report;
        b.patient_id = std::to_string(r.subject_id);
        out.push_back(std::move(b));
      }
      break;
    }
    case BaseDataset::code15: {
      for (auto& e : io::read_code15_exams(find_one(dir, {"exams.csv"}))) {
        BaseRecord b;
        b.source = e.trace_file + "#" + std::to_string(e.exam_id);
        b.stem = std::to_string(e.exam_id);
        b.report = "placeholder report";  // CODE-15 has no text reports; upstream uses this literal
        b.patient_id = std::to_string(e.patient_id);
        b.labels = e.labels;
        b.hdf5_file = e.trace_file;
        b.exam_id = e.exam_id;
        out.push_back(std::move(b));
      }
      break;
    }
    case BaseDataset::csn:
    case BaseDataset::cpsc: {
      // Every WFDB header below the folder; the report is the diagnosis names from `#Dx`.
      std::vector<fs::path> heads;
      for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied); it != fs::recursive_directory_iterator(); ++it)
        if (it->is_regular_file() && it->path().extension() == ".hea") heads.push_back(it->path());
      std::sort(heads.begin(), heads.end());
      for (auto& h : heads) {
        const auto rel = fs::relative(h, dir).replace_extension().generic_string();
        BaseRecord b;
        b.source = rel;
        b.stem = path_stem(rel);
        b.patient_id = b.stem;  // no patient ids: each record is its own group
        try {
          b.labels = io::dx_labels(io::read_wfdb_header(h));
        } catch (const Error&) {
          // An unreadable header is reported when the record itself is loaded.
        }
        for (const auto& l : b.labels) b.report += (b.report.empty() ? "" : ", ") + l;
        out.push_back(std::move(b));
      }
      if (heads.empty()) throw Error({dir.string(), {}, {}, {}}, "no WFDB headers (*.hea) found");
      break;
    }
  }
  return out;
}

/// Loads records as canonical 12-lead ECGs; keeps CODE-15 HDF5 parts open between calls.
class BaseRecordLoader {
 public:
  BaseRecordLoader(BaseDataset d, std::filesystem::path dir) : dataset_(d), dir_(std::move(dir)) {}

  /// Loads frame-major (the layout of the files and of the preprocessing kernels).
  void load_frames_into(const BaseRecord& r, io::EcgFrames& ecg, io::WfdbRecord& scratch) {
    if (dataset_ != BaseDataset::code15) {
      io::read_ecg12_frames_into(dir_ / r.source, ecg, scratch);
      return;
    }
    const auto& part = code15_part(r.hdf5_file);
    auto it = part.row_of.find(r.exam_id);
    if (it == part.row_of.end())
      throw Error({part.part->path(), {}, {}, "exam_id"}, "exam " + std::to_string(r.exam_id) + " not in this file");
    const auto x = part.part->read(it->second);  // [samples][12], canonical order already
    ecg.sampling_frequency = io::code15_sampling_frequency;
    ecg.n_samples = part.part->samples();
    ecg.source = r.source;
    ecg.data.assign(x.begin(), x.end());
  }

 private:
  struct Part {
    std::unique_ptr<io::Code15Part> part;
    std::map<std::int64_t, std::size_t> row_of;
  };
  const Part& code15_part(const std::string& file) {
    std::lock_guard lock(mutex_);
    auto it = parts_.find(file);
    if (it != parts_.end()) return it->second;
    Part p;
    p.part = std::make_unique<io::Code15Part>(dir_ / file);
    for (std::size_t i = 0; i < p.part->exam_ids().size(); ++i) p.row_of.emplace(p.part->exam_ids()[i], i);
    return parts_.emplace(file, std::move(p)).first->second;
  }

  BaseDataset dataset_;
  std::filesystem::path dir_;
  std::mutex mutex_;
  std::map<std::string, Part> parts_;
};

}  // namespace ecgbench::data
