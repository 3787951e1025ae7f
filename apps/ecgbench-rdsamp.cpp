// ecgbench-rdsamp: read a WFDB record like PhysioNet's rdsamp. Prints the header summary, or
// writes the samples as .npy ([samples, signals]; float64 physical with --physical, else int32
// digital) or .csv.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "ecgbench/core/npy.hpp"
#include "ecgbench/io/io.hpp"

using namespace ecgbench;

int main(int argc, char** argv) {
  CLI::App app{"Read a WFDB record (all formats) and print or export its samples"};
  std::string record, out;
  bool physical = false;
  std::int64_t from = 0, to = -1;
  app.add_option("--record,-r", record, "record path without extension (or the .hea file)")->required();
  app.add_flag("--physical,-P", physical, "physical units (float64) instead of digital ADC values (int32)");
  app.add_option("--out,-o", out, "output file: .npy or .csv; without it the header summary is printed");
  app.add_option("--from", from, "first sample (default 0)");
  app.add_option("--to", to, "one past the last sample (default: end)");
  CLI11_PARSE(app, argc, argv);
  try {
    const auto rec = io::read_wfdb(record);
    const auto& h = rec.header;
    if (to < 0 || to > rec.n_samples) to = rec.n_samples;
    if (from < 0 || from > to) throw Error("--from must be in [0, --to]");
    const auto rows = static_cast<std::size_t>(to - from);
    const auto nsig = static_cast<std::size_t>(rec.n_signals());
    if (out.empty()) {
      std::printf("record %s: %d signals, %g Hz, %lld samples (%.1f s)%s%s\n", h.record_name.c_str(), h.n_signals,
                  h.sampling_frequency, static_cast<long long>(rec.n_samples), rec.n_samples / h.sampling_frequency,
                  h.base_time.empty() ? "" : ", start ", h.base_time.c_str());
      for (int s = 0; s < rec.n_signals(); ++s) {
        const auto& sig = h.signals[s];
        std::printf("  %2d %-8s file %s fmt %d%s gain %g/%s baseline %g adc %d bits\n", s, sig.description.c_str(),
                    sig.file_name.c_str(), sig.format, sig.samples_per_frame > 1 ? " (multi-frequency)" : "", sig.gain,
                    sig.units.c_str(), sig.baseline, sig.adc_resolution);
      }
      for (const auto& c : h.comments) std::printf("  # %s\n", c.c_str());
      return 0;
    }
    const std::filesystem::path path(out);
    const std::vector<std::size_t> shape{rows, nsig};
    if (path.extension() == ".npy") {
      if (physical) {
        std::vector<double> v(rows * nsig);
        for (std::size_t t = 0; t < rows; ++t)
          for (std::size_t s = 0; s < nsig; ++s) v[t * nsig + s] = rec.physical_at(from + t, static_cast<int>(s));
        npy::save<double>(path, v, shape);
      } else {
        std::vector<std::int32_t> v(rec.digital.begin() + from * nsig, rec.digital.begin() + to * nsig);
        npy::save<std::int32_t>(path, v, shape);
      }
    } else if (path.extension() == ".csv") {
      write_file_atomically(path, [&](std::ostream& o) {
        for (std::size_t s = 0; s < nsig; ++s) o << (s ? "," : "") << h.signals[s].description;
        o << '\n';
        char buf[64];
        for (std::size_t t = 0; t < rows; ++t) {
          for (std::size_t s = 0; s < nsig; ++s) {
            if (physical) std::snprintf(buf, sizeof buf, "%.10g", rec.physical_at(from + t, static_cast<int>(s)));
            else std::snprintf(buf, sizeof buf, "%d", rec.at(from + t, static_cast<int>(s)));
            o << (s ? "," : "") << buf;
          }
          o << '\n';
        }
      });
    } else {
      throw Error({out, {}, {}, {}}, "output must end in .npy or .csv");
    }
    std::fprintf(stderr, "wrote %zu x %zu %s samples to %s\n", rows, nsig, physical ? "physical" : "digital", out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-rdsamp: %s\n", e.what());
    return 1;
  }
  return 0;
}
