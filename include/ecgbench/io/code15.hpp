// CODE-15% (Ribeiro et al., Nat Commun 2020): `exams.csv` metadata and `exams_partN.hdf5` files with
// `tracings` float32 [N, 4096, 12] at 400 Hz (leads I, II, III, aVR, aVL, aVF, V1..V6, already the
// canonical order) and `exam_id` int64 [N]. Read through the HDF5 C library one exam at a time.
#pragma once

#include <hdf5.h>

#include <array>
#include <filesystem>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/io/csv.hpp"
#include "ecgbench/io/ptbxl.hpp"

namespace ecgbench::io {

inline constexpr double code15_sampling_frequency = 400.0;

namespace detail {
// Debian's libhdf5 is built without --enable-threadsafe: every HDF5 call goes through this lock.
inline std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

// RAII for HDF5 ids.
class H5Id {
 public:
  H5Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  H5Id(H5Id&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
  H5Id& operator=(H5Id&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(close_, o.close_);
    return *this;
  }
  H5Id(const H5Id&) = delete;
  ~H5Id() {
    if (id_ >= 0) close_(id_);
  }
  [[nodiscard]] hid_t get() const { return id_; }
  [[nodiscard]] bool valid() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};
}  // namespace detail

/// One `exams_partN.hdf5` file. `read(i)` returns exam i as [4096][12] float32 (time-major, as stored).
class Code15Part {
 public:
  explicit Code15Part(const std::filesystem::path& path)
      : path_(path.string()), file_(H5I_INVALID_HID, H5Fclose), tracings_(H5I_INVALID_HID, H5Dclose) {
    std::lock_guard lock(detail::hdf5_mutex());
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // our errors instead of HDF5's stack dumps
    if (!std::filesystem::exists(path)) throw Error({path_, {}, {}, {}}, "cannot open HDF5 file: no such file");
    file_ = detail::H5Id(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file_.valid()) throw Error({path_, {}, {}, {}}, "not a readable HDF5 file");
    tracings_ = detail::H5Id(H5Dopen2(file_.get(), "tracings", H5P_DEFAULT), H5Dclose);
    if (!tracings_.valid()) throw Error({path_, {}, {}, "tracings"}, "missing dataset 'tracings'");
    detail::H5Id space(H5Dget_space(tracings_.get()), H5Sclose);
    if (H5Sget_simple_extent_ndims(space.get()) != 3) throw Error({path_, {}, {}, "tracings"}, "'tracings' must be 3-D [N, samples, 12]");
    hsize_t dims[3];
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    if (dims[2] != 12) throw Error({path_, {}, {}, "tracings"}, "'tracings' has " + std::to_string(dims[2]) + " leads, expected 12");
    detail::H5Id type(H5Dget_type(tracings_.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_FLOAT) throw Error({path_, {}, {}, "tracings"}, "'tracings' is not floating point");
    n_ = dims[0];
    samples_ = dims[1];

    detail::H5Id ids(H5Dopen2(file_.get(), "exam_id", H5P_DEFAULT), H5Dclose);
    if (!ids.valid()) throw Error({path_, {}, {}, "exam_id"}, "missing dataset 'exam_id'");
    detail::H5Id id_space(H5Dget_space(ids.get()), H5Sclose);
    hsize_t id_dims[1] = {0};
    if (H5Sget_simple_extent_ndims(id_space.get()) != 1) throw Error({path_, {}, {}, "exam_id"}, "'exam_id' must be 1-D");
    H5Sget_simple_extent_dims(id_space.get(), id_dims, nullptr);
    if (id_dims[0] != n_) throw Error({path_, {}, {}, "exam_id"}, "'exam_id' length differs from 'tracings'");
    exam_ids_.resize(n_);
    if (n_ > 0 && H5Dread(ids.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, exam_ids_.data()) < 0)
      throw Error({path_, {}, {}, "exam_id"}, "cannot read 'exam_id'");
  }

  Code15Part(Code15Part&&) = default;
  ~Code15Part() {
    std::lock_guard lock(detail::hdf5_mutex());
    tracings_ = detail::H5Id(H5I_INVALID_HID, H5Dclose);
    file_ = detail::H5Id(H5I_INVALID_HID, H5Fclose);
  }

  [[nodiscard]] std::size_t size() const { return n_; }
  [[nodiscard]] std::size_t samples() const { return samples_; }
  [[nodiscard]] const std::vector<std::int64_t>& exam_ids() const { return exam_ids_; }
  [[nodiscard]] const std::string& path() const { return path_; }

  /// Exam `i` as time-major [samples][12] float32.
  [[nodiscard]] std::vector<float> read(std::size_t i) const {
    if (i >= n_) throw Error({path_, {}, {}, "tracings"}, "exam index " + std::to_string(i) + " out of range (" + std::to_string(n_) + " exams)");
    std::vector<float> out(samples_ * 12);
    std::lock_guard lock(detail::hdf5_mutex());
    detail::H5Id file_space(H5Dget_space(tracings_.get()), H5Sclose);
    const hsize_t start[3] = {i, 0, 0}, count[3] = {1, samples_, 12};
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
    detail::H5Id mem_space(H5Screate_simple(3, count, nullptr), H5Sclose);
    if (H5Dread(tracings_.get(), H5T_NATIVE_FLOAT, mem_space.get(), file_space.get(), H5P_DEFAULT, out.data()) < 0)
      throw Error({path_, {}, {}, "tracings"}, "cannot read exam " + std::to_string(i) + " (file damaged?)");
    return out;
  }

 private:
  std::string path_;
  detail::H5Id file_, tracings_;
  std::size_t n_ = 0, samples_ = 0;
  std::vector<std::int64_t> exam_ids_;
};

struct Code15ExamInfo {
  std::int64_t exam_id = 0, patient_id = 0;
  std::optional<double> age;
  std::optional<bool> is_male;
  std::vector<std::string> labels;  ///< the true ones of 1dAVb, RBBB, LBBB, SB, ST, AF
  bool normal_ecg = false;
  std::string trace_file;  ///< exams_partN.hdf5
};

inline std::vector<Code15ExamInfo> read_code15_exams(const std::filesystem::path& csv) {
  const auto t = CsvTable::read(csv);
  static const std::array<const char*, 6> label_names = {"1dAVb", "RBBB", "LBBB", "SB", "ST", "AF"};
  auto truthy = [](const std::string& s) { return s == "True" || s == "true" || s == "1" || s == "1.0"; };
  const auto c_exam = t.column("exam_id"), c_pat = t.column("patient_id"), c_file = t.column("trace_file");
  std::vector<Code15ExamInfo> out;
  for (std::size_t r = 0; r < t.size(); ++r) {
    const auto& row = t.row(r);
    const auto line = t.line_of(r);
    Code15ExamInfo e;
    e.exam_id = detail::required_id(row[c_exam], t.name(), line, "exam_id");
    e.patient_id = detail::required_id(row[c_pat], t.name(), line, "patient_id");
    if (t.has_column("age")) e.age = detail::optional_number(row[t.column("age")], t.name(), line, "age");
    if (t.has_column("is_male") && !row[t.column("is_male")].empty()) e.is_male = truthy(row[t.column("is_male")]);
    for (const char* l : label_names)
      if (t.has_column(l) && truthy(row[t.column(l)])) e.labels.emplace_back(l);
    if (t.has_column("normal_ecg")) e.normal_ecg = truthy(row[t.column("normal_ecg")]);
    e.trace_file = row[c_file];
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace ecgbench::io
