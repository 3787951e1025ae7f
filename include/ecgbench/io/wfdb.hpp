// Reading whole WFDB records (header + signal files) like WFDB's rdsamp: digital samples at the
// frame rate (signals with several samples per frame are averaged, as rdsamp does without -H),
// skew applied, physical values `(d - baseline) / gain`, multi-segment records concatenated.
#pragma once

#include <array>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/cpu_features.hpp"
#include "ecgbench/core/error.hpp"
#include "ecgbench/core/log.hpp"
#include "ecgbench/core/mapped_file.hpp"
#include "ecgbench/io/leads.hpp"
#include "ecgbench/io/wfdb_header.hpp"
#include "ecgbench/io/wfdb_signal.hpp"

namespace ecgbench::io {

/// A record path may be given with or without `.hea`; returns the path without extension.
inline std::filesystem::path wfdb_record_base(const std::filesystem::path& p) {
  return p.extension() == ".hea" ? std::filesystem::path(p).replace_extension() : p;
}

inline WfdbHeader read_wfdb_header(const std::filesystem::path& record) {
  const auto hea = std::filesystem::path(wfdb_record_base(record).string() + ".hea");
  return parse_wfdb_header(read_file(hea), hea.string());
}

struct WfdbRecord {
  WfdbHeader header;
  std::int64_t n_samples = 0;          ///< frames (rows)
  std::vector<std::int32_t> digital;   ///< [n_samples][n_signals], wfdb_invalid_sample for gaps

  [[nodiscard]] int n_signals() const { return header.n_signals; }
  [[nodiscard]] std::int32_t at(std::int64_t t, int s) const { return digital[static_cast<std::size_t>(t) * n_signals() + s]; }
  [[nodiscard]] double physical_at(std::int64_t t, int s) const {
    const auto d = at(t, s);
    if (d == wfdb_invalid_sample) return std::numeric_limits<double>::quiet_NaN();
    const auto& sig = header.signals[s];
    return (static_cast<double>(d) - sig.baseline) / sig.gain;
  }
  /// [n_samples][n_signals] physical values; invalid samples are NaN.
  [[nodiscard]] std::vector<double> physical() const {
    std::vector<double> out(digital.size());
    for (std::int64_t t = 0; t < n_samples; ++t)
      for (int s = 0; s < n_signals(); ++s) out[static_cast<std::size_t>(t) * n_signals() + s] = physical_at(t, s);
    return out;
  }
  /// Signal names (the header's description field).
  [[nodiscard]] std::vector<std::string> signal_names() const {
    std::vector<std::string> out;
    for (const auto& s : header.signals) out.push_back(s.description);
    return out;
  }
};

struct WfdbReadOptions {
  bool verify_checksums = true;  ///< warn (never fail) when a stored checksum disagrees
};

namespace detail {

// Per-column sums of a row-major [frames][nsig] table. Accumulators live in registers (a fixed
// block of 12 columns at a time) instead of a memory array that every add would reload.
inline void column_sums(const std::int32_t* d, std::size_t frames, std::size_t nsig, std::int64_t* out) {
  constexpr std::size_t block = 12;
  for (std::size_t c0 = 0; c0 < nsig; c0 += block) {
    const std::size_t w = std::min(block, nsig - c0);
    std::int64_t acc[block] = {};
    if (w == block) {
      for (std::size_t t = 0; t < frames; ++t)
        for (std::size_t c = 0; c < block; ++c) acc[c] += d[t * nsig + c0 + c];
    } else {
      for (std::size_t t = 0; t < frames; ++t)
        for (std::size_t c = 0; c < w; ++c) acc[c] += d[t * nsig + c0 + c];
    }
    for (std::size_t c = 0; c < w; ++c) out[c0 + c] = acc[c];
  }
}

// Reads the signals [first, last) that share one signal file.
inline void read_wfdb_signal_file(const std::filesystem::path& dir, const WfdbHeader& h, int first, int last,
                                  std::int64_t n_frames, const WfdbReadOptions& opt, WfdbRecord& rec) {
  const auto& lead = h.signals[first];
  const auto file = dir / lead.file_name;
  const int format = lead.format;
  int frame_size = 0, max_skew = 0;
  for (int s = first; s < last; ++s) {
    const auto& sig = h.signals[s];
    if (sig.format != format)
      throw Error({h.path, sig.line, {}, "format"}, "signals in one file '" + lead.file_name + "' must share a format");
    if (sig.byte_offset != lead.byte_offset)
      throw Error({h.path, sig.line, {}, "format"}, "signals in one file must share a byte offset");
    frame_size += sig.samples_per_frame;
    max_skew = std::max(max_skew, sig.skew);
  }
  const MappedFile map(file);
  const auto total = map.size();
  if (static_cast<std::uint64_t>(lead.byte_offset) > total)
    throw Error({file.string(), {}, total, {}}, "byte offset " + std::to_string(lead.byte_offset) + " is past the end of the file");
  const auto data = map.bytes().subspan(static_cast<std::size_t>(lead.byte_offset));
  const std::uint64_t frames_in_file = wfdb_samples_in_bytes(format, data.size()) / static_cast<std::uint64_t>(frame_size);
  if (frames_in_file < static_cast<std::uint64_t>(n_frames))
    throw Error({file.string(), {}, total, {}},
                "truncated signal file: header " + h.path + " promises " + std::to_string(n_frames) + " samples per signal, file holds " +
                    std::to_string(frames_in_file));
  // Skewed signals read up to max_skew frames past n_frames when the file has them.
  const std::uint64_t frames = std::min<std::uint64_t>(frames_in_file, static_cast<std::uint64_t>(n_frames) + max_skew);
  const int nsig = h.n_signals;
  const bool simple = format != 8 && max_skew == 0 && frame_size == last - first;

  if (simple && first == 0 && last == nsig) {
    // Common case (one file, one sample per frame): decode straight into the output rows.
    decode_wfdb_samples(format, data, static_cast<std::uint64_t>(n_frames) * frame_size, rec.digital.data());
  } else {
    std::vector<std::int32_t> stream(frames * frame_size);
    decode_wfdb_samples(format, data, stream.size(), stream.data());
    int offset = 0;
    for (int s = first; s < last; ++s) {
      const auto& sig = h.signals[s];
      const int spf = sig.samples_per_frame;
      if (format == 8) {  // first differences -> values, per signal, starting from the initial value
        std::int64_t v = sig.init_value;
        for (std::uint64_t f = 0; f < frames; ++f)
          for (int k = 0; k < spf; ++k) {
            auto& x = stream[f * frame_size + offset + k];
            v += x;
            x = static_cast<std::int32_t>(v);
          }
      }
      for (std::int64_t t = 0; t < n_frames; ++t) {
        const std::uint64_t src = static_cast<std::uint64_t>(t) + sig.skew;
        std::int32_t out = wfdb_invalid_sample;
        if (src < frames) {
          const std::int32_t* p = &stream[src * frame_size + offset];
          if (spf == 1) {
            out = p[0];
          } else {
            // rdsamp's low-resolution mode: the mean of the frame's samples, truncated toward 0
            // (any invalid sample makes the mean invalid).
            std::int64_t sum = 0;
            bool valid = true;
            for (int k = 0; k < spf; ++k) {
              valid &= p[k] != wfdb_invalid_sample;
              sum += p[k];
            }
            out = valid ? static_cast<std::int32_t>(sum / spf) : wfdb_invalid_sample;
          }
        }
        rec.digital[static_cast<std::size_t>(t) * nsig + s] = out;
      }
      offset += spf;
    }
  }

  if (opt.verify_checksums) {
    // The checksum covers every stored sample of the signal (all samples of each frame).
    std::vector<std::int64_t> sums(last - first, 0);
    if (simple && first == 0 && last == nsig) {
      column_sums(rec.digital.data(), static_cast<std::size_t>(n_frames), static_cast<std::size_t>(nsig), sums.data());
    } else {
      std::vector<std::int32_t> stream(static_cast<std::uint64_t>(n_frames) * frame_size);
      decode_wfdb_samples(format, data, stream.size(), stream.data());
      int offset = 0;
      for (int s = first; s < last; ++s) {
        const auto& sig = h.signals[s];
        std::int64_t v = sig.init_value, sum = 0;
        for (std::int64_t f = 0; f < n_frames; ++f)
          for (int k = 0; k < sig.samples_per_frame; ++k) {
            const auto x = stream[static_cast<std::size_t>(f) * frame_size + offset + k];
            if (format == 8) {
              v += x;
              sum += v;
            } else {
              sum += x;
            }
          }
        sums[s - first] = sum;
        offset += sig.samples_per_frame;
      }
    }
    for (int s = first; s < last; ++s) {
      const auto& sig = h.signals[s];
      if (sig.checksum && !wfdb_checksum_matches(sums[s - first], *sig.checksum))
        log::warn(h.path + ":" + std::to_string(sig.line) + ": checksum mismatch for signal " + std::to_string(s) + " ('" +
                  sig.description + "'): header " + std::to_string(*sig.checksum) + ", data " +
                  std::to_string(static_cast<std::int16_t>(sums[s - first] & 0xffff)));
    }
  }
}

}  // namespace detail

inline WfdbRecord read_wfdb(const std::filesystem::path& record, const WfdbReadOptions& opt = {});

/// Reads a single- or multi-segment record into `rec`, reusing its buffers (for loops over many
/// records). Errors name the header or signal file at fault.
inline void read_wfdb_into(const std::filesystem::path& record, WfdbRecord& rec, const WfdbReadOptions& opt = {}) {
  const auto base = wfdb_record_base(record);
  rec.header = read_wfdb_header(base);
  const auto& h = rec.header;
  const auto dir = base.parent_path();

  if (h.n_segments) {
    // Multi-segment: concatenate the segments, mapping signals by name onto the first non-null
    // segment's (or the layout segment's) signal list; null segments ("~") and absent signals are gaps.
    WfdbHeader layout;
    bool have_layout = false;
    std::int64_t total = 0;
    for (const auto& seg : h.segments) {
      total += seg.n_samples;
      if (seg.record_name == "~") continue;
      if (seg.n_samples == 0 && !have_layout) {  // layout segment: signal list only
        layout = read_wfdb_header(dir / seg.record_name);
        have_layout = true;
      }
    }
    WfdbRecord out;
    out.header = h;
    std::vector<WfdbSignalSpec> sigs;
    if (have_layout) sigs = layout.signals;
    out.n_samples = total;
    std::int64_t t0 = 0;
    bool first = true;
    for (const auto& seg : h.segments) {
      if (seg.record_name == "~" || seg.n_samples == 0) {
        t0 += seg.n_samples;
        continue;
      }
      WfdbRecord part = read_wfdb(dir / seg.record_name, opt);
      if (part.n_samples < seg.n_samples)
        throw Error({h.path, {}, {}, seg.record_name}, "segment shorter than the segment table says");
      if (sigs.empty()) sigs = part.header.signals;
      if (first) {
        out.header.n_signals = static_cast<int>(sigs.size());
        out.header.signals = sigs;
        out.digital.assign(static_cast<std::size_t>(total) * sigs.size(), wfdb_invalid_sample);
        first = false;
      }
      for (std::size_t s = 0; s < sigs.size(); ++s) {
        int src = -1;
        for (int k = 0; k < part.n_signals(); ++k)
          if (part.header.signals[k].description == sigs[s].description) src = k;
        if (src < 0) continue;
        // Convert to the layout's digital scale when the segment's gain/baseline differ.
        const auto& ps = part.header.signals[src];
        const bool same = ps.gain == sigs[s].gain && ps.baseline == sigs[s].baseline;
        for (std::int64_t t = 0; t < seg.n_samples; ++t) {
          auto d = part.at(t, src);
          if (!same && d != wfdb_invalid_sample)
            d = static_cast<std::int32_t>(std::lround((d - ps.baseline) / ps.gain * sigs[s].gain + sigs[s].baseline));
          out.digital[static_cast<std::size_t>(t0 + t) * sigs.size() + s] = d;
        }
      }
      t0 += seg.n_samples;
    }
    if (first) throw Error({h.path, {}, {}, {}}, "multi-segment record has no segment with signals");
    rec = std::move(out);
    return;
  }

  for (const auto& s : h.signals)
    if (s.file_name == "-") throw Error({h.path, s.line, {}, "file"}, "signals on standard input are not supported");

  // Frames: from the header, or what the first signal file holds.
  std::int64_t n_frames = 0;
  if (h.n_samples && *h.n_samples > 0) {
    n_frames = *h.n_samples;
  } else if (!h.signals.empty() && h.signals[0].format != 0) {
    int frame_size = 0, i = 0;
    for (; i < h.n_signals && h.signals[i].file_name == h.signals[0].file_name; ++i) frame_size += h.signals[i].samples_per_frame;
    const auto file = dir / h.signals[0].file_name;
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) throw Error({file.string(), {}, {}, {}}, "cannot open signal file: " + ec.message());
    const auto usable = size > static_cast<std::uint64_t>(h.signals[0].byte_offset) ? size - h.signals[0].byte_offset : 0;
    n_frames = static_cast<std::int64_t>(wfdb_samples_in_bytes(h.signals[0].format, usable) / frame_size);
  }
  if (n_frames > (std::int64_t{1} << 40) / std::max(1, h.n_signals))
    throw Error({h.path, 1, {}, "number of samples"}, "implausible number of samples " + std::to_string(n_frames));
  rec.n_samples = n_frames;
  // Every sample is written by the decoders below (gaps explicitly), so no fill is needed.
  rec.digital.resize(static_cast<std::size_t>(n_frames) * h.n_signals);
  for (int first = 0; first < h.n_signals;) {
    int last = first + 1;
    while (last < h.n_signals && h.signals[last].file_name == h.signals[first].file_name) ++last;
    if (h.signals[first].format == 0 || h.signals[first].file_name == "~") {
      // Null signals (format 0, file "~"): no samples stored, every value is a gap.
      for (std::int64_t t = 0; t < n_frames; ++t)
        for (int s = first; s < last; ++s) rec.digital[static_cast<std::size_t>(t) * h.n_signals + s] = wfdb_invalid_sample;
    } else {
      detail::read_wfdb_signal_file(dir, h, first, last, n_frames, opt, rec);
    }
    first = last;
  }
}

/// Reads a single- or multi-segment record. Errors name the header or signal file at fault.
inline WfdbRecord read_wfdb(const std::filesystem::path& record, const WfdbReadOptions& opt) {
  WfdbRecord rec;
  read_wfdb_into(record, rec, opt);
  return rec;
}

/// A 12-lead ECG in the canonical lead order, physical units (mV), lead-major [12][n_samples].
struct Ecg12 {
  double sampling_frequency = 0;
  std::size_t n_samples = 0;
  std::vector<double> data;  ///< lead-major: data[lead * n_samples + t]
  std::string source;        ///< record path
  [[nodiscard]] std::span<const double> lead(int i) const { return {data.data() + static_cast<std::size_t>(i) * n_samples, n_samples}; }
};

/// A 12-lead ECG stored frame-major ([t][lead], canonical lead order, mV): the layout of WFDB and
/// CODE-15 files and of the preprocessing kernels, so loading into it costs no transpose.
struct EcgFrames {
  double sampling_frequency = 0;
  std::size_t n_samples = 0;
  std::vector<double> data;  ///< data[t * 12 + lead]
  std::string source;
};

namespace detail {
// Canonical slot -> signal index, and per-slot (d - baseline) / gain * unit constants.
struct CanonicalMap {
  std::array<int, 12> src;
  std::array<double, 12> baseline, gain, unit;
};

inline CanonicalMap canonical_map(const WfdbRecord& rec) {
  CanonicalMap m;
  m.src.fill(-1);
  for (int s = 0; s < rec.n_signals(); ++s) {
    const auto idx = canonical_lead_index(rec.header.signals[s].description);
    if (idx && m.src[*idx] < 0) m.src[*idx] = s;
  }
  for (int i = 0; i < 12; ++i) {
    if (m.src[i] < 0) throw Error({rec.header.path, {}, {}, {}}, "record has no lead " + std::string(canonical_leads[i]));
    const auto& sig = rec.header.signals[m.src[i]];
    const std::string units = lower(sig.units);
    m.unit[i] = 1.0;
    if (units == "uv" || units == "\xc2\xb5v") m.unit[i] = 1e-3;
    else if (units != "mv") throw Error({rec.header.path, sig.line, {}, "units"}, "lead " + sig.description + " is in '" + sig.units + "', expected mV");
    m.baseline[i] = sig.baseline;
    m.gain[i] = sig.gain;
  }
  return m;
}

// (d - baseline) / gain exactly as physical_at, WFDB's aduphys and wfdb-python compute it (a
// multiplication by 1/gain would differ in the last bit, and the paper filter chain amplifies
// last-bit differences). `lead_stride` / `time_stride` select the output layout. Invalid markers are
// patched to NaN afterwards, only when there are any.
// Fast path for 12 signals already in canonical order, frame-major output: one contiguous loop,
// compiled for the baseline ISA and for AVX2 (same arithmetic, so the same bits).
[[gnu::always_inline]] inline std::uint32_t physical12_impl(const std::int32_t* __restrict d, std::size_t n, const double* __restrict base,
                                                           const double* __restrict gain, const double* __restrict unit, double* __restrict out) {
  std::uint32_t invalid = 0;
  for (std::size_t t = 0; t < n; ++t)
    for (std::size_t i = 0; i < 12; ++i) {
      const std::int32_t v = d[t * 12 + i];
      invalid |= static_cast<std::uint32_t>(v == wfdb_invalid_sample);
      out[t * 12 + i] = (static_cast<double>(v) - base[i]) / gain[i] * unit[i];
    }
  return invalid;
}
inline std::uint32_t physical12_baseline(const std::int32_t* d, std::size_t n, const double* b, const double* g, const double* u, double* o) {
  return physical12_impl(d, n, b, g, u, o);
}
#if ECGBENCH_HAVE_AVX2_DISPATCH
ECGBENCH_TARGET_AVX2 inline std::uint32_t physical12_avx2(const std::int32_t* d, std::size_t n, const double* b, const double* g, const double* u,
                                                          double* o) {
  return physical12_impl(d, n, b, g, u, o);
}
#endif

inline void physical_canonical(const WfdbRecord& rec, const CanonicalMap& m, double* out, std::size_t lead_stride, std::size_t time_stride) {
  const std::size_t nsig = static_cast<std::size_t>(rec.n_signals()), n = static_cast<std::size_t>(rec.n_samples);
  const std::int32_t* d = rec.digital.data();
  std::uint32_t invalid = 0;
  bool identity = nsig == 12 && lead_stride == 1 && time_stride == 12;
  for (int i = 0; i < 12 && identity; ++i) identity = m.src[i] == i;
  if (identity) {
#if ECGBENCH_HAVE_AVX2_DISPATCH
    if (ecgbench::detail::cpu_has_avx2()) invalid = physical12_avx2(d, n, m.baseline.data(), m.gain.data(), m.unit.data(), out);
    else
#endif
      invalid = physical12_baseline(d, n, m.baseline.data(), m.gain.data(), m.unit.data(), out);
  } else
  for (std::size_t t = 0; t < n; ++t) {
    const std::int32_t* row = d + t * nsig;
    for (std::size_t i = 0; i < 12; ++i) {
      const std::int32_t v = row[m.src[i]];
      invalid |= static_cast<std::uint32_t>(v == wfdb_invalid_sample);
      out[i * lead_stride + t * time_stride] = (static_cast<double>(v) - m.baseline[i]) / m.gain[i] * m.unit[i];
    }
  }
  if (invalid)
    for (std::size_t t = 0; t < n; ++t)
      for (std::size_t i = 0; i < 12; ++i)
        if (d[t * nsig + m.src[i]] == wfdb_invalid_sample) out[i * lead_stride + t * time_stride] = std::numeric_limits<double>::quiet_NaN();
}
}  // namespace detail

namespace detail {
// Shared by the lead-major and frame-major readers; `frame_major` picks the output layout.
template <class Ecg>
void read_canonical_into(const std::filesystem::path& record, Ecg& ecg, WfdbRecord& rec, const WfdbReadOptions& opt, bool frame_major) {
  read_wfdb_into(record, rec, opt);
  const auto m = canonical_map(rec);
  ecg.sampling_frequency = rec.header.sampling_frequency;
  ecg.n_samples = static_cast<std::size_t>(rec.n_samples);
  ecg.source = wfdb_record_base(record).string();
  ecg.data.resize(12 * ecg.n_samples);
  if (frame_major) physical_canonical(rec, m, ecg.data.data(), 1, 12);
  else physical_canonical(rec, m, ecg.data.data(), ecg.n_samples, 1);
}
}  // namespace detail

/// Reads a record with the 12 standard leads (any order, any case, possibly with extra signals such
/// as PTB's Frank leads) into canonical lead-major `ecg`, reusing its and `rec`'s buffers. Units must
/// be mV (any case) or µV/uV (scaled to mV).
inline void read_ecg12_into(const std::filesystem::path& record, Ecg12& ecg, WfdbRecord& rec, const WfdbReadOptions& opt = {}) {
  detail::read_canonical_into(record, ecg, rec, opt, false);
}

/// As read_ecg12_into, frame-major.
inline void read_ecg12_frames_into(const std::filesystem::path& record, EcgFrames& ecg, WfdbRecord& rec, const WfdbReadOptions& opt = {}) {
  detail::read_canonical_into(record, ecg, rec, opt, true);
}

inline Ecg12 read_ecg12(const std::filesystem::path& record, const WfdbReadOptions& opt = {}) {
  Ecg12 ecg;
  WfdbRecord rec;
  read_ecg12_into(record, ecg, rec, opt);
  return ecg;
}

}  // namespace ecgbench::io
