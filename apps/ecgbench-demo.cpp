// ecgbench-demo: the main job on built-in defaults, runnable on a fresh machine with no data.
// Today: synthesise a small set of 12-lead ECGs (Gaussian P/QRS/T waves per beat), store them as
// PTB-XL-style WFDB records, read them back through the real WFDB reader, measure heart rate and
// print a summary. If the shared PTB-XL fixtures are present they are read as well.
// It grows with the toolkit (preprocessing, ECG-Byte, training, evaluation).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "ecgbench/ecgbench.hpp"

using namespace ecgbench;
namespace fs = std::filesystem;

namespace {

// Per-lead amplitude (mV) of the P, Q, R, S, T waves in the canonical lead order: a rough
// textbook projection of the cardiac vector, enough for a plausible 12-lead picture.
constexpr double wave_amp[12][5] = {
    {0.10, -0.05, 0.70, -0.10, 0.20}, {0.15, -0.05, 1.10, -0.20, 0.30}, {0.05, -0.02, 0.40, -0.10, 0.10},
    {-0.12, 0.05, -0.80, 0.15, -0.25}, {0.03, -0.03, 0.30, -0.05, 0.05}, {0.10, -0.03, 0.75, -0.15, 0.20},
    {0.08, 0.00, 0.30, -0.90, -0.10}, {0.10, 0.00, 0.60, -1.20, 0.40}, {0.10, -0.05, 0.90, -0.80, 0.45},
    {0.10, -0.08, 1.30, -0.40, 0.40}, {0.10, -0.08, 1.20, -0.20, 0.35}, {0.10, -0.06, 0.90, -0.10, 0.25}};
constexpr double wave_time[5] = {-0.20, -0.03, 0.0, 0.03, 0.25};     // seconds relative to R
constexpr double wave_width[5] = {0.025, 0.010, 0.012, 0.010, 0.050};

std::vector<double> synthesize(double fs, double seconds, double hr, Rng& rng) {
  const std::size_t n = static_cast<std::size_t>(fs * seconds);
  std::vector<double> x(n * 12, 0.0);  // time-major, as WFDB stores it
  double r = 0.3 + 0.2 * uniform01(rng);
  while (r < seconds + 0.5) {
    for (std::size_t t = 0; t < n; ++t) {
      const double tt = t / fs - r;
      if (std::abs(tt) > 0.6) continue;
      for (int w = 0; w < 5; ++w) {
        const double g = std::exp(-0.5 * std::pow((tt - wave_time[w]) / wave_width[w], 2));
        for (int l = 0; l < 12; ++l) x[t * 12 + l] += wave_amp[l][w] * g;
      }
    }
    r += 60.0 / hr * (1.0 + 0.02 * normal(rng));
  }
  for (std::size_t t = 0; t < n; ++t) {
    const double wander = 0.05 * std::sin(2 * std::numbers::pi * 0.3 * t / fs);
    for (int l = 0; l < 12; ++l) x[t * 12 + l] += wander + 0.01 * normal(rng);
  }
  return x;
}

// Heart rate from R peaks of lead II: local maxima above 60% of the lead's maximum, 250 ms apart.
double measure_heart_rate(const io::Ecg12& ecg) {
  const auto lead = ecg.lead(1);
  double top = 0;
  for (double v : lead) top = std::max(top, v);
  std::vector<double> peaks;
  const auto refractory = static_cast<std::size_t>(0.25 * ecg.sampling_frequency);
  for (std::size_t t = 1; t + 1 < lead.size(); ++t)
    if (lead[t] > 0.6 * top && lead[t] >= lead[t - 1] && lead[t] > lead[t + 1] &&
        (peaks.empty() || t - static_cast<std::size_t>(peaks.back()) > refractory))
      peaks.push_back(static_cast<double>(t));
  if (peaks.size() < 2) return 0;
  return 60.0 * ecg.sampling_frequency * (peaks.size() - 1) / (peaks.back() - peaks.front());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ecgbench demo: synthesise, store, read back and summarise 12-lead ECGs"};
  std::string out = "demo-output";
  int n = 24;
  std::uint64_t seed = 0;
  bool quiet = false;
  app.add_option("--out", out, "output folder")->capture_default_str();
  app.add_option("--n", n, "number of synthetic records")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_flag("--quiet", quiet, "no progress output");
  CLI11_PARSE(app, argc, argv);
  try {
    const fs::path dir = fs::path(out) / "records500";
    std::vector<io::WfdbWriteSignal> sigs;
    for (auto l : io::canonical_leads) sigs.push_back({std::string(l), 1000.0, 0, "mV"});
    std::vector<double> requested(n);
    {
      Progress p("synthesise", static_cast<std::size_t>(n), "records", quiet ? ProgressStyle::quiet : ProgressStyle::automatic);
      parallel_for(static_cast<std::size_t>(n), 0, [&](std::size_t i) {
        auto rng = make_rng(seed, i);
        requested[i] = 50 + 70 * uniform01(rng);
        const auto x = synthesize(500, 10, requested[i], rng);
        char name[32];
        std::snprintf(name, sizeof name, "%05zu_hr", i);
        io::write_wfdb_format16(dir, name, 500, sigs, x, {"HR: " + std::to_string(requested[i])});
        p.tick();
      });
    }
    const auto t0 = std::chrono::steady_clock::now();
    double worst_err = 0;
    std::size_t samples = 0;
    std::printf("\n%-10s %12s %12s\n", "record", "HR asked", "HR measured");
    for (int i = 0; i < n; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "%05d_hr", i);
      const auto ecg = io::read_ecg12(dir / name);
      samples += ecg.data.size();
      const double hr = measure_heart_rate(ecg);
      worst_err = std::max(worst_err, std::abs(hr - requested[i]));
      if (i < 8) std::printf("%-10s %12.1f %12.1f\n", name, requested[i], hr);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("...\nread %d records (%zu samples) in %.3f s: %.0f records/s; worst heart-rate error %.1f bpm\n", n,
                samples, secs, n / secs, worst_err);

    // Real data, when the fixtures are beside the checkout.
    const char* env = std::getenv("ECGBENCH_TEST_DATA");
    const fs::path ptb = fs::path(env && *env ? env : "../shared/data") / "ptbxl";
    if (fs::exists(ptb / "ptbxl_database_excerpt.csv")) {
      const auto rows = io::read_ptbxl_database(ptb / "ptbxl_database_excerpt.csv");
      std::printf("\nPTB-XL fixtures (%s):\n", ptb.c_str());
      for (const auto& r : rows) {
        if (!fs::exists(ptb / (r.filename_hr + ".hea"))) continue;
        const auto ecg = io::read_ecg12(ptb / r.filename_hr);
        std::printf("  ecg %lld patient %lld: %zu samples @ %g Hz, HR %.0f, report: %.60s\n", static_cast<long long>(r.ecg_id),
                    static_cast<long long>(r.patient_id), ecg.n_samples, ecg.sampling_frequency, measure_heart_rate(ecg),
                    r.report.c_str());
      }
    }
    std::printf("\nrecords written to %s\n", dir.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-demo: %s\n", e.what());
    return 1;
  }
  return 0;
}
