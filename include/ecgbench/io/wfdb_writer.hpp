// Writing single-file WFDB records in format 16 (what PTB-XL ships): header with gains, baselines,
// initial values and checksums, and the sample-interleaved little-endian int16 signal file. Both
// files are written atomically so that a record on disk is always complete.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"

namespace ecgbench::io {

struct WfdbWriteSignal {
  std::string description;  ///< lead name
  double gain = 1000.0;     ///< ADC units per mV
  int baseline = 0;
  std::string units = "mV";
};

/// Writes `<dir>/<name>.hea` and `<dir>/<name>.dat`. `physical` is time-major [n_samples][n_signals];
/// values are quantised as round(x * gain) + baseline and must fit int16 (NaN is an error: WFDB's
/// invalid marker would silently turn it into a gap).
inline void write_wfdb_format16(const std::filesystem::path& dir, const std::string& name, double fs,
                                const std::vector<WfdbWriteSignal>& signals, const std::vector<double>& physical,
                                const std::vector<std::string>& comments = {}) {
  const std::size_t nsig = signals.size();
  if (nsig == 0 || physical.size() % nsig != 0)
    throw Error({(dir / name).string(), {}, {}, {}}, "sample count " + std::to_string(physical.size()) + " is not a multiple of " + std::to_string(nsig) + " signals");
  const std::size_t n = physical.size() / nsig;
  std::vector<std::int16_t> digital(physical.size());
  std::vector<std::int64_t> sums(nsig, 0);
  for (std::size_t i = 0; i < physical.size(); ++i) {
    const auto& s = signals[i % nsig];
    const double x = physical[i];
    const double d = std::round(x * s.gain) + s.baseline;
    if (!std::isfinite(x) || d <= -32768.0 || d > 32767.0)
      throw Error({(dir / name).string(), {}, {}, s.description},
                  "sample " + std::to_string(i / nsig) + " (" + std::to_string(x) + ") does not fit format 16 at gain " + std::to_string(s.gain));
    digital[i] = static_cast<std::int16_t>(d);
    sums[i % nsig] += digital[i];
  }
  std::ostringstream h;
  h << name << ' ' << nsig << ' ' << fs << ' ' << n << '\n';
  for (std::size_t s = 0; s < nsig; ++s) {
    h << name << ".dat 16 " << signals[s].gain << '(' << signals[s].baseline << ")/" << signals[s].units << " 16 0 "
      << (n > 0 ? digital[s] : 0) << ' ' << static_cast<std::int16_t>(sums[s] & 0xffff) << " 0 " << signals[s].description << '\n';
  }
  for (const auto& c : comments) h << "# " << c << '\n';
  write_file_atomically(dir / (name + ".dat"), std::string_view(reinterpret_cast<const char*>(digital.data()), digital.size() * 2));
  write_file_atomically(dir / (name + ".hea"), h.str());
}

}  // namespace ecgbench::io
