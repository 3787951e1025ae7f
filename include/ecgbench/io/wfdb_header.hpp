// WFDB header (.hea) files, as specified in PhysioNet's header(5) manual page: the record line,
// one line per signal, optional segment lines for multi-segment records, and `#` comment lines.
// Parsing is strict: a malformed field is an Error naming the file, the line and the field.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ecgbench/core/error.hpp"

namespace ecgbench::io {

/// WFDB's default ADC gain (units per mV) when a header gives none or gives 0.
inline constexpr double wfdb_default_gain = 200.0;

/// Signal storage formats the readers decode (header(5), signal(5)).
inline bool is_supported_wfdb_format(int f) {
  switch (f) {
    case 8: case 16: case 24: case 32: case 61: case 80: case 160: case 212: case 310: case 311: return true;
    default: return false;
  }
}

struct WfdbSignalSpec {
  std::string file_name;         ///< signal file (relative to the header's folder); "-" = stdin, unsupported
  int format = 16;
  int samples_per_frame = 1;     ///< `212x4`
  int skew = 0;                  ///< `212:4`
  std::int64_t byte_offset = 0;  ///< `16+24` (MATLAB v4 .mat files carry a 24-byte prefix)
  double gain = wfdb_default_gain;  ///< ADC units per physical unit
  bool gain_given = false;       ///< false: the header had no gain (or 0), WFDB's default is used
  double baseline = 0;           ///< digital value of physical zero; defaults to adc_zero
  std::string units = "mV";
  int adc_resolution = 0;        ///< bits; 0 = not given
  int adc_zero = 0;
  std::int64_t init_value = 0;   ///< first sample (format 8 difference decoding starts here)
  std::optional<std::int64_t> checksum;
  int block_size = 0;
  std::string description;
  std::size_t line = 0;          ///< header line this signal came from (for error messages)
};

struct WfdbSegment {
  std::string record_name;  ///< "~" = null segment (no signals, only a duration)
  std::int64_t n_samples = 0;
};

struct WfdbHeader {
  std::string path;  ///< header file, for error messages
  std::string record_name;
  std::optional<int> n_segments;  ///< set for multi-segment records
  int n_signals = 0;
  double sampling_frequency = 250.0;  ///< WFDB default when absent
  std::optional<double> counter_frequency;
  std::optional<double> base_counter;
  std::optional<std::int64_t> n_samples;  ///< per signal (frames); absent = from the file size
  std::string base_time, base_date;
  std::vector<WfdbSignalSpec> signals;
  std::vector<WfdbSegment> segments;
  std::vector<std::string> comments;  ///< text after '#', leading spaces trimmed

  /// Value of a `Key: value` comment (e.g. "Age", "Dx"), case-insensitive key.
  [[nodiscard]] std::optional<std::string> comment_value(std::string_view key) const;
};

namespace detail {

inline std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
    const std::size_t b = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

template <class T>
bool parse_number(std::string_view s, T& out) {
  if (s.empty()) return false;
  if constexpr (std::is_floating_point_v<T>) {
    // from_chars for double is available in GCC 11+; reject inf/nan spellings explicitly.
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
  } else {
    if (s.front() == '+') s.remove_prefix(1);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  }
}

inline std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

class HeaderLineParser {
 public:
  HeaderLineParser(const std::string& file, std::size_t line) : file_(file), line_(line) {}

  template <class T>
  T number(std::string_view s, const char* field) const {
    T v{};
    if (!parse_number(s, v)) fail("invalid " + std::string(field) + " '" + std::string(s) + "'", field);
    return v;
  }
  [[noreturn]] void fail(const std::string& problem, const std::string& field = {}) const {
    throw Error({file_, line_, {}, field}, problem);
  }

 private:
  const std::string& file_;
  std::size_t line_;
};

// `fs[/counter[(base)]]`
inline void parse_frequency(std::string_view tok, WfdbHeader& h, const HeaderLineParser& p) {
  const auto slash = tok.find('/');
  h.sampling_frequency = p.number<double>(tok.substr(0, slash), "sampling frequency");
  if (h.sampling_frequency <= 0) p.fail("sampling frequency must be positive", "sampling frequency");
  if (slash == std::string_view::npos) return;
  auto rest = tok.substr(slash + 1);
  const auto paren = rest.find('(');
  h.counter_frequency = p.number<double>(rest.substr(0, paren), "counter frequency");
  if (paren != std::string_view::npos) {
    if (rest.back() != ')') p.fail("unterminated base counter in '" + std::string(tok) + "'", "base counter");
    h.base_counter = p.number<double>(rest.substr(paren + 1, rest.size() - paren - 2), "base counter");
  }
}

// `format[xspf][:skew][+offset]`
inline void parse_format(std::string_view tok, WfdbSignalSpec& s, const HeaderLineParser& p) {
  std::size_t i = 0;
  while (i < tok.size() && std::isdigit(static_cast<unsigned char>(tok[i]))) ++i;
  s.format = p.number<int>(tok.substr(0, i), "format");
  while (i < tok.size()) {
    const char tag = tok[i++];
    std::size_t j = i;
    while (j < tok.size() && std::isdigit(static_cast<unsigned char>(tok[j]))) ++j;
    const auto value = tok.substr(i, j - i);
    if (tag == 'x') s.samples_per_frame = p.number<int>(value, "samples per frame");
    else if (tag == ':') s.skew = p.number<int>(value, "skew");
    else if (tag == '+') s.byte_offset = p.number<std::int64_t>(value, "byte offset");
    else p.fail("invalid format field '" + std::string(tok) + "'", "format");
    i = j;
  }
  if (s.format != 0 && !is_supported_wfdb_format(s.format))  // 0: null signal (layout headers)
    p.fail("unsupported WFDB signal format " + std::to_string(s.format) +
               " (supported: 8, 16, 24, 32, 61, 80, 160, 212, 310, 311)", "format");
  if (s.samples_per_frame < 1 || s.samples_per_frame > 1024) p.fail("samples per frame out of range", "format");
  if (s.skew < 0 || s.skew > 1000000) p.fail("skew out of range", "format");
  if (s.byte_offset < 0) p.fail("negative byte offset", "format");
}

// `gain[(baseline)][/units]`
inline void parse_gain(std::string_view tok, WfdbSignalSpec& s, const HeaderLineParser& p, bool& baseline_given) {
  const auto slash = tok.find('/');
  if (slash != std::string_view::npos) {
    s.units = std::string(tok.substr(slash + 1));
    tok = tok.substr(0, slash);
  }
  const auto paren = tok.find('(');
  if (paren != std::string_view::npos) {
    if (tok.back() != ')') p.fail("unterminated baseline in gain field", "gain");
    s.baseline = static_cast<double>(p.number<std::int64_t>(tok.substr(paren + 1, tok.size() - paren - 2), "baseline"));
    baseline_given = true;
    tok = tok.substr(0, paren);
  }
  const double g = p.number<double>(tok, "gain");
  if (g < 0) p.fail("negative gain", "gain");
  s.gain_given = g != 0;
  s.gain = g != 0 ? g : wfdb_default_gain;
}

}  // namespace detail

/// Parses the text of a header file. `path` names it in errors.
inline WfdbHeader parse_wfdb_header(std::string_view text, const std::string& path) {
  WfdbHeader h;
  h.path = path;
  std::size_t line_no = 0, pos = 0;
  bool have_record_line = false;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.find('\0') != std::string_view::npos) throw Error({path, line_no, {}, {}}, "binary data in header");
    std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
      if (nl == text.size()) break;
      continue;
    }
    line.remove_prefix(first);
    if (line.front() == '#') {
      auto c = line.substr(1);
      const auto b = c.find_first_not_of(" \t");
      c = b == std::string_view::npos ? std::string_view{} : c.substr(b);
      while (!c.empty() && (c.back() == '\r' || c.back() == ' ')) c.remove_suffix(1);
      h.comments.emplace_back(c);
      continue;
    }
    // A '#' after fields starts a trailing comment (header(5)).
    if (auto hash = line.find('#'); hash != std::string_view::npos && !have_record_line) line = line.substr(0, hash);
    const detail::HeaderLineParser p(path, line_no);
    auto f = detail::split_ws(line);
    if (!have_record_line) {
      have_record_line = true;
      const auto slash = f[0].find('/');
      h.record_name = std::string(f[0].substr(0, slash));
      if (slash != std::string_view::npos) {
        h.n_segments = p.number<int>(f[0].substr(slash + 1), "number of segments");
        if (*h.n_segments < 1 || *h.n_segments > 100000) p.fail("number of segments out of range", "number of segments");
      }
      if (f.size() < 2) p.fail("record line lacks the number of signals", "number of signals");
      h.n_signals = p.number<int>(f[1], "number of signals");
      if (h.n_signals < 0 || h.n_signals > 4096) p.fail("number of signals out of range", "number of signals");
      if (f.size() > 2) detail::parse_frequency(f[2], h, p);
      if (f.size() > 3) {
        h.n_samples = p.number<std::int64_t>(f[3], "number of samples");
        if (*h.n_samples < 0) p.fail("negative number of samples", "number of samples");
      }
      if (f.size() > 4) h.base_time = std::string(f[4]);
      if (f.size() > 5) h.base_date = std::string(f[5]);
      continue;
    }
    if (h.n_segments && static_cast<int>(h.segments.size()) < *h.n_segments) {
      if (f.size() != 2) p.fail("segment line must be 'name samples'", "segment");
      WfdbSegment seg{std::string(f[0]), p.number<std::int64_t>(f[1], "segment length")};
      if (seg.n_samples < 0) p.fail("negative segment length", "segment");
      h.segments.push_back(std::move(seg));
      continue;
    }
    if (h.n_segments) p.fail("unexpected line after the segment table", "segment");
    if (static_cast<int>(h.signals.size()) >= h.n_signals)
      p.fail("more signal lines than the " + std::to_string(h.n_signals) + " the record line declares", "number of signals");
    WfdbSignalSpec s;
    s.line = line_no;
    s.file_name = std::string(f[0]);
    if (f.size() < 2) p.fail("signal line lacks a format", "format");
    detail::parse_format(f[1], s, p);
    bool baseline_given = false;
    if (f.size() > 2) detail::parse_gain(f[2], s, p, baseline_given);
    if (f.size() > 3) s.adc_resolution = p.number<int>(f[3], "ADC resolution");
    if (f.size() > 4) s.adc_zero = p.number<int>(f[4], "ADC zero");
    s.init_value = f.size() > 5 ? p.number<std::int64_t>(f[5], "initial value") : s.adc_zero;
    if (f.size() > 6) s.checksum = p.number<std::int64_t>(f[6], "checksum");
    if (f.size() > 7) s.block_size = p.number<int>(f[7], "block size");
    if (f.size() > 8) {
      // The description is the rest of the line, spaces included.
      const auto start = static_cast<std::size_t>(f[8].data() - line.data());
      auto d = line.substr(start);
      while (!d.empty() && (d.back() == ' ' || d.back() == '\r' || d.back() == '\t')) d.remove_suffix(1);
      s.description = std::string(d);
    }
    if (!baseline_given) s.baseline = s.adc_zero;
    h.signals.push_back(std::move(s));
  }
  if (!have_record_line) throw Error({path, line_no, {}, {}}, "empty header: no record line");
  if (h.n_segments) {
    if (static_cast<int>(h.segments.size()) != *h.n_segments)
      throw Error({path, line_no, {}, "segment"}, "header declares " + std::to_string(*h.n_segments) +
                                                       " segments but lists " + std::to_string(h.segments.size()));
  } else if (static_cast<int>(h.signals.size()) != h.n_signals) {
    throw Error({path, line_no, {}, "number of signals"}, "record line declares " + std::to_string(h.n_signals) +
                                                               " signals but the header has " + std::to_string(h.signals.size()) +
                                                               " signal lines");
  }
  return h;
}

inline std::optional<std::string> WfdbHeader::comment_value(std::string_view key) const {
  const std::string k = detail::lower(key);
  for (const auto& c : comments) {
    const auto colon = c.find(':');
    if (colon == std::string::npos) continue;
    std::string_view name(c.data(), colon);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (detail::lower(name) != k) continue;
    std::string_view v(c);
    v.remove_prefix(colon + 1);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    return std::string(v);
  }
  return std::nullopt;
}

/// Writes a header back in WFDB syntax; parse(to_string(h)) gives an equal header (the fuzz
/// targets check that invariant).
inline std::string to_string(const WfdbHeader& h) {
  std::ostringstream o;
  o.precision(17);
  o << h.record_name;
  if (h.n_segments) o << '/' << *h.n_segments;
  o << ' ' << h.n_signals << ' ' << h.sampling_frequency;
  if (h.counter_frequency) {
    o << '/' << *h.counter_frequency;
    if (h.base_counter) o << '(' << *h.base_counter << ')';
  }
  if (h.n_samples) {
    o << ' ' << *h.n_samples;
    if (!h.base_time.empty()) {
      o << ' ' << h.base_time;
      if (!h.base_date.empty()) o << ' ' << h.base_date;
    }
  }
  o << '\n';
  for (const auto& seg : h.segments) o << seg.record_name << ' ' << seg.n_samples << '\n';
  for (const auto& s : h.signals) {
    o << s.file_name << ' ' << s.format;
    if (s.samples_per_frame != 1) o << 'x' << s.samples_per_frame;
    if (s.skew != 0) o << ':' << s.skew;
    if (s.byte_offset != 0) o << '+' << s.byte_offset;
    o << ' ' << (s.gain_given ? s.gain : 0.0) << '(' << static_cast<std::int64_t>(s.baseline) << ")/" << s.units << ' '
      << s.adc_resolution << ' ' << s.adc_zero << ' ' << s.init_value << ' ' << s.checksum.value_or(0) << ' '
      << s.block_size;
    if (!s.description.empty()) o << ' ' << s.description;
    o << '\n';
  }
  for (const auto& c : h.comments) o << "# " << c << '\n';
  return o.str();
}

}  // namespace ecgbench::io
