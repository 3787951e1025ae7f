// Preprocessing of a base data set into memory-mappable shards, as upstream ECG-Bench's
// PreprocessBaseECG does per record (canonical leads, NaN/Inf -> 0, resample to the target rate,
// float32, non-overlapping segments, tail dropped), but written as
//   OUT/segments-NNNNN.npy   float32 [n, 12, seg_len], one shard per chunk of records (<= ~1 GB)
//   OUT/index.jsonl          one SegmentEntry per segment
//   OUT/skipped.jsonl        records that could not be used, with the reason
//   OUT/manifest.json        arguments, counts, version
// Every file is written atomically. A re-run resumes: complete shards are kept; `shard_index /
// shard_count` lets several processes or machines split the chunks of one data set.
#pragma once

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ecgbench/core/json.hpp"
#include "ecgbench/core/log.hpp"
#include "ecgbench/core/npy.hpp"
#include "ecgbench/core/parallel.hpp"
#include "ecgbench/core/progress.hpp"
#include "ecgbench/core/version.hpp"
#include "ecgbench/data/base_dataset.hpp"
#include "ecgbench/data/segment_index.hpp"
#include "ecgbench/signal/cubic_spline.hpp"
#include "ecgbench/signal/paper_filter.hpp"
#include "ecgbench/signal/polyphase.hpp"
#include "ecgbench/signal/segment.hpp"

namespace ecgbench::data {

enum class ResamplerKind { cubic, polyphase };

/// `paper`: the denoising chain the published ECG-Bench results used (signal/paper_filter.hpp);
/// `none`: no filtering, as upstream code from late 2025 on.
enum class FilterChain { paper, none };

inline FilterChain parse_filter_chain(const std::string& s) {
  if (s == "paper") return FilterChain::paper;
  if (s == "none") return FilterChain::none;
  throw Error("unknown filter '" + s + "' (expected paper or none)");
}

inline ResamplerKind parse_resampler(const std::string& s) {
  if (s == "cubic") return ResamplerKind::cubic;
  if (s == "polyphase") return ResamplerKind::polyphase;
  throw Error("unknown resampler '" + s + "' (expected cubic or polyphase)");
}

/// Per-record signal settings (the part of the pipeline that is pure computation).
struct SignalOptions {
  std::size_t segment_len = 1250;
  double target_sf = 250;
  ResamplerKind resampler = ResamplerKind::cubic;
  FilterChain filter = FilterChain::paper;
};

struct ProcessedRecord {
  /// [n_segments][12][segment_len]; not zero-initialised (every value is written), which saves a
  /// memset of the whole output.
  std::unique_ptr<float[]> segments;
  std::size_t n_segments = 0;
  std::size_t non_finite = 0;   ///< NaN/Inf values replaced by 0
  double orig_sf = 0;           ///< the record's own sampling rate
};

/// Reusable buffers for one worker.
struct SignalScratch {
  std::vector<double> resampled;
  io::EcgFrames frames;   ///< reused input buffer (frame-major)
  std::optional<signal::PaperFilterBank> filters;  ///< designed for the last rate seen
  signal::PaperFilterScratch filter_scratch;
  signal::CubicBatchScratch cubic;
  io::WfdbRecord record;  ///< reused digital buffer
};

/// Runs the per-record pipeline on a canonical frame-major 12-lead ECG (modified in place).
inline ProcessedRecord process_frames(io::EcgFrames& ecg, const SignalOptions& opt, SignalScratch& s) {
  ProcessedRecord out;
  out.orig_sf = ecg.sampling_frequency;
  out.non_finite = signal::replace_non_finite(std::span<double>(ecg.data));
  const std::size_t n = ecg.n_samples;
  std::size_t m = n;
  std::optional<signal::PolyphaseResampler> poly;
  const bool resample = ecg.sampling_frequency != opt.target_sf;
  if (resample) {
    if (opt.resampler == ResamplerKind::cubic) {
      m = signal::resampled_length(n, ecg.sampling_frequency, opt.target_sf);
    } else {
      poly.emplace(signal::PolyphaseResampler::for_rates(ecg.sampling_frequency, opt.target_sf));
      m = poly->output_length(n);
    }
  }
  out.n_segments = signal::segment_count(m, opt.segment_len);
  if (out.n_segments == 0) return out;
  // Every kernel below works frame-major ([t][lead]) and runs across leads.
  auto& interleaved = ecg.data;
  if (opt.filter == FilterChain::paper) {
    if (!s.filters || s.filters->fs != ecg.sampling_frequency) s.filters.emplace(ecg.sampling_frequency);
    signal::paper_denoise_interleaved(*s.filters, interleaved.data(), n, 12, s.filter_scratch);
  }
  s.resampled.resize(12 * m);
  if (!resample) {
    s.resampled = interleaved;
  } else if (!poly) {
    signal::resample_cubic_interleaved(interleaved.data(), 12, n, s.resampled.data(), m, s.cubic);
  } else {
    std::vector<double> lead(n);
    for (std::size_t l = 0; l < 12; ++l) {
      for (std::size_t t = 0; t < n; ++t) lead[t] = interleaved[t * 12 + l];
      const auto dst = poly->apply(lead);
      for (std::size_t t = 0; t < m; ++t) s.resampled[t * 12 + l] = dst[t];
    }
  }
  out.non_finite += signal::replace_non_finite(std::span<double>(s.resampled));
  const std::size_t seg_size = 12 * opt.segment_len;
  out.segments = std::make_unique_for_overwrite<float[]>(out.n_segments * seg_size);
  for (std::size_t j = 0; j < out.n_segments; ++j)
    signal::copy_segment<double, float>(s.resampled, 12, opt.segment_len, j, std::span<float>(out.segments.get() + j * seg_size, seg_size));
  return out;
}

/// The same on a lead-major Ecg12 (transposed into `s.frames` first).
inline ProcessedRecord process_ecg(const io::Ecg12& ecg, const SignalOptions& opt, SignalScratch& s) {
  s.frames.sampling_frequency = ecg.sampling_frequency;
  s.frames.n_samples = ecg.n_samples;
  s.frames.source = ecg.source;
  s.frames.data.resize(ecg.data.size());
  for (std::size_t l = 0; l < 12; ++l)
    for (std::size_t t = 0; t < ecg.n_samples; ++t) s.frames.data[t * 12 + l] = ecg.data[l * ecg.n_samples + t];
  return process_frames(s.frames, opt, s);
}

struct PreprocessOptions {
  BaseDataset dataset = BaseDataset::ptb;
  std::filesystem::path data_dir, out_dir;
  SignalOptions signal;
  unsigned jobs = 1;
  std::size_t shard_index = 0, shard_count = 1;
  std::optional<std::size_t> limit;
  std::size_t records_per_shard = 0;  ///< 0: as many as fit ~1 GB at the data set's usual length
  bool require_native_rate = true;    ///< skip records not at the data set's distributed rate
  ProgressStyle progress = ProgressStyle::automatic;
};

struct PreprocessSummary {
  std::size_t records = 0, processed = 0, skipped = 0, segments = 0, records_with_non_finite = 0;
  std::size_t shards_total = 0, shards_written = 0, shards_reused = 0;
  bool complete = false;  ///< every shard exists and index.jsonl / manifest.json are written
  double seconds = 0;
};

namespace detail {

inline std::size_t default_records_per_shard(BaseDataset d, const SignalOptions& s) {
  // Usual record length: 10 s (CODE-15: 4096 samples @ 400 Hz; CPSC up to 144 s).
  const double fs = native_sampling_frequency(d);
  const double seconds = d == BaseDataset::cpsc ? 144.0 : (d == BaseDataset::code15 ? 4096.0 / 400.0 : 10.0);
  const double bytes = 12.0 * 4.0 * std::max(1.0, std::floor(seconds * fs * s.target_sf / fs));
  return std::max<std::size_t>(1, static_cast<std::size_t>((1ull << 30) / bytes));
}

inline std::filesystem::path part_path(const std::filesystem::path& out, const char* kind, std::size_t shard) {
  char name[48];
  std::snprintf(name, sizeof name, "%s-%05zu.jsonl", kind, shard);
  return out / "parts" / name;
}

// A shard is complete when its part index exists and its .npy holds exactly that many rows.
inline bool shard_complete(const std::filesystem::path& out, std::size_t shard, std::size_t seg_len) {
  const auto idx = part_path(out, "index", shard);
  const auto npy_path = shard_path(out, shard);
  if (!std::filesystem::exists(idx)) return false;
  std::size_t rows = 0;
  for_each_jsonl(idx, [&](Json&&, std::size_t) { ++rows; });
  if (rows == 0) return true;  // a shard of skipped records has no .npy
  try {
    const auto a = npy::load(npy_path);
    if (a.dtype() == npy::DType::f32 && a.shape() == std::vector<std::size_t>{rows, 12, seg_len}) return true;
    log::warn(npy_path.string() + ": shard does not match its index (" + std::to_string(rows) + " rows expected); redoing it");
  } catch (const Error& e) {
    log::warn(std::string("unreadable shard on resume, redoing it: ") + e.what());
  }
  return false;
}

}  // namespace detail

namespace detail {

inline void validate(const PreprocessOptions& opt) {
  if (opt.signal.segment_len == 0) throw Error("signal.segment_len must be positive");
  if (!(opt.signal.target_sf > 0)) throw Error("signal.target_sf must be positive");
  if (opt.shard_count == 0 || opt.shard_index >= opt.shard_count)
    throw Error("shard_index / shard_count need 0 <= index < count, got " + std::to_string(opt.shard_index) + "/" + std::to_string(opt.shard_count));
}

/// The arguments that determine the output, recorded in params.json; resuming with different ones
/// would mix data sets, so it is refused.
inline Json check_resume_params(const PreprocessOptions& opt, std::size_t records, std::size_t per_shard) {
  namespace fs = std::filesystem;
  const Json params{{"base_data", to_string(opt.dataset)},
                    {"seg_len", opt.signal.segment_len},
                    {"target_sf", opt.signal.target_sf},
                    {"resample", opt.signal.resampler == ResamplerKind::cubic ? "cubic" : "polyphase"},
                    {"filter", opt.signal.filter == FilterChain::paper ? "paper" : "none"},
                    {"records", records},
                    {"records_per_shard", per_shard},
                    {"require_native_rate", opt.require_native_rate}};
  fs::create_directories(opt.out_dir / "parts");
  const auto params_path = opt.out_dir / "params.json";
  if (fs::exists(params_path)) {
    const Json old = read_json(params_path);
    if (old != params)
      throw Error({params_path.string(), {}, {}, {}}, "output folder was made with different arguments: " + old.dump() +
                                                          " (now " + params.dump() + "); choose another out_dir");
  } else {
    write_json(params_path, params);
  }
  return params;
}

/// Processes records [begin, end) into shard `c`: the .npy (streamed from the per-record results,
/// no second copy of up to 1 GB), its index part and skip log. The index part is written last: it
/// marks the shard complete.
inline void write_shard(const PreprocessOptions& opt, const std::vector<BaseRecord>& records, std::size_t c, std::size_t begin, std::size_t end,
                        BaseRecordLoader& loader, std::vector<SignalScratch>& scratch, unsigned jobs, Progress& progress, PreprocessSummary& sum) {
  const double native = native_sampling_frequency(opt.dataset);
  std::vector<ProcessedRecord> results(end - begin);
  std::vector<std::string> errors(end - begin);
  parallel_for(end - begin, jobs, [&](std::size_t i, unsigned w) {
    const auto& r = records[begin + i];
    try {
      io::EcgFrames& ecg = scratch[w].frames;
      loader.load_frames_into(r, ecg, scratch[w].record);
      if (opt.require_native_rate && ecg.sampling_frequency != native)
        throw Error({r.source, {}, {}, {}}, "sampling rate " + std::to_string(ecg.sampling_frequency) + " Hz, expected " +
                                                std::to_string(native) + " Hz for " + to_string(opt.dataset));
      results[i] = process_frames(ecg, opt.signal, scratch[w]);
      if (results[i].n_segments == 0)
        throw Error({r.source, {}, {}, {}}, "record shorter than one segment (" + std::to_string(ecg.n_samples) + " samples)");
    } catch (const std::exception& e) {
      errors[i] = e.what();
      results[i] = {};
    }
    progress.tick();
  });
  std::size_t rows = 0;
  std::vector<Json> index, skipped;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = records[begin + i];
    if (!errors[i].empty()) {
      skipped.push_back(Json{{"source", r.source}, {"reason", errors[i]}});
      continue;
    }
    if (results[i].non_finite > 0) {
      ++sum.records_with_non_finite;
      log::warn(r.source + ": " + std::to_string(results[i].non_finite) + " NaN/Inf values replaced by 0");
    }
    for (std::size_t j = 0; j < results[i].n_segments; ++j)
      index.push_back(to_json(SegmentEntry{r.stem + "_" + std::to_string(j), r.source, j, c, rows++, r.report, r.patient_id, r.labels,
                                           results[i].orig_sf, opt.signal.target_sf, opt.signal.segment_len, r.strat_fold}));
  }
  if (rows > 0) {
    const std::vector<std::size_t> shape{rows, 12, opt.signal.segment_len};
    const std::string header = npy::make_header(npy::DType::f32, shape);
    // Not fsynced: a resume re-validates every shard against its index part (size and shape), so a
    // shard torn by a power loss is detected and redone; the small index part stays durable.
    write_file_atomically(
        shard_path(opt.out_dir, c),
        [&](std::ostream& o) {
          o.write(header.data(), static_cast<std::streamsize>(header.size()));
          const std::size_t seg_bytes = 12 * opt.signal.segment_len * sizeof(float);
          for (const auto& res : results)
            if (res.n_segments > 0) o.write(reinterpret_cast<const char*>(res.segments.get()), static_cast<std::streamsize>(res.n_segments * seg_bytes));
        },
        /*durable=*/false);
  }
  write_jsonl(part_path(opt.out_dir, "skipped", c), skipped);
  write_jsonl(part_path(opt.out_dir, "index", c), index);
  ++sum.shards_written;
}

/// When every shard is there (the last of several shard processes gets here), merges the parts into
/// index.jsonl, skipped.jsonl and manifest.json. Returns false while shards are missing.
inline bool merge_shards(const PreprocessOptions& opt, const Json& params, std::size_t n_shards, PreprocessSummary& sum) {
  namespace fs = std::filesystem;
  for (std::size_t c = 0; c < n_shards; ++c)
    if (!fs::exists(part_path(opt.out_dir, "index", c))) return false;
  std::vector<Json> index, skipped;
  for (std::size_t c = 0; c < n_shards; ++c) {
    for_each_jsonl(part_path(opt.out_dir, "index", c), [&](Json&& j, std::size_t) { index.push_back(std::move(j)); });
    if (fs::exists(part_path(opt.out_dir, "skipped", c)))
      for_each_jsonl(part_path(opt.out_dir, "skipped", c), [&](Json&& j, std::size_t) { skipped.push_back(std::move(j)); });
  }
  sum.segments = index.size();
  sum.skipped = skipped.size();
  sum.processed = sum.records - sum.skipped;
  write_jsonl(opt.out_dir / "skipped.jsonl", skipped);
  write_jsonl(opt.out_dir / "index.jsonl", index);
  Json manifest = params;
  manifest["version"] = version;
  manifest["data_dir"] = fs::absolute(opt.data_dir).string();
  manifest["shards"] = n_shards;
  manifest["segments"] = sum.segments;
  manifest["processed_records"] = sum.processed;
  manifest["skipped_records"] = sum.skipped;
  manifest["layout"] = "segments-NNNNN.npy float32 [n, 12, seg_len], leads I, II, III, aVR, aVL, aVF, V1-V6";
  write_json(opt.out_dir / "manifest.json", manifest);
  return true;
}

}  // namespace detail

/// Preprocesses a base data set into shards: validate, check the arguments of an existing output,
/// process this process's incomplete shards (complete ones are reused), merge when all are there.
inline PreprocessSummary run_preprocess(const PreprocessOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  detail::validate(opt);
  auto records = list_base_records(opt.dataset, opt.data_dir);
  if (opt.limit && *opt.limit < records.size()) records.resize(*opt.limit);
  const std::size_t per_shard = opt.records_per_shard ? opt.records_per_shard : detail::default_records_per_shard(opt.dataset, opt.signal);
  const std::size_t n_shards = (records.size() + per_shard - 1) / per_shard;
  const Json params = detail::check_resume_params(opt, records.size(), per_shard);

  PreprocessSummary sum;
  sum.records = records.size();
  sum.shards_total = n_shards;
  std::vector<std::size_t> mine;
  for (std::size_t c = opt.shard_index; c < n_shards; c += opt.shard_count) {
    if (detail::shard_complete(opt.out_dir, c, opt.signal.segment_len)) ++sum.shards_reused;
    else mine.push_back(c);
  }
  std::size_t todo_records = 0;
  for (auto c : mine) todo_records += std::min(per_shard, records.size() - c * per_shard);

  BaseRecordLoader loader(opt.dataset, opt.data_dir);
  const unsigned jobs = opt.jobs == 0 ? default_thread_count() : opt.jobs;
  std::vector<SignalScratch> scratch(jobs);  // reused across records and shards
  Progress progress("preprocess " + to_string(opt.dataset), todo_records, "records", opt.progress);
  for (const auto c : mine)
    detail::write_shard(opt, records, c, c * per_shard, std::min(records.size(), (c + 1) * per_shard), loader, scratch, jobs, progress, sum);
  progress.finish();
  sum.complete = detail::merge_shards(opt, params, n_shards, sum);
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

/// Memory-mapped access to a preprocessed data set: segment by index entry.
class SegmentStore {
 public:
  explicit SegmentStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  /// [12][segment_len] float32 view of an entry's segment (valid while the store lives).
  std::span<const float> segment(const SegmentEntry& e) {
    auto it = shards_.find(e.shard);
    if (it == shards_.end()) it = shards_.emplace(e.shard, npy::load(shard_path(dir_, e.shard))).first;
    const auto& a = it->second;
    const auto& shape = a.shape();
    if (shape.size() != 3 || shape[1] != 12 || shape[2] != e.segment_len || e.row >= shape[0])
      throw Error({a.path(), {}, {}, e.id}, "index entry does not fit the shard's shape");
    const auto all = a.view<float>();
    return all.subspan(e.row * 12 * e.segment_len, 12 * e.segment_len);
  }

 private:
  std::filesystem::path dir_;
  std::map<std::size_t, npy::Array> shards_;
};

}  // namespace ecgbench::data
