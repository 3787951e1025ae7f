// Preprocessing kernels (samples/s) and the end-to-end pipeline on a PTB-XL-shaped data set
// (records/s, --jobs 1 and 2). Baselines in the same binary: linear interpolation (the cheapest
// possible resampler) for the kernels.
#include <benchmark/benchmark.h>

#include <fstream>

#include "ecgbench/core/log.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/data/preprocess.hpp"
#include "ecgbench/io/wfdb_writer.hpp"
#include "ecgbench/signal/signal.hpp"

using namespace ecgbench;

namespace {

std::vector<double> ecg_like(std::size_t n, std::uint64_t seed) {
  auto rng = make_rng(seed);
  std::vector<double> x(n);
  for (std::size_t t = 0; t < n; ++t) x[t] = std::sin(0.03 * t) + 0.1 * normal(rng);
  return x;
}

void BM_ResampleCubic(benchmark::State& state) {
  const auto x = ecg_like(5000, 1);
  std::vector<double> out(2500), M, scratch;
  for (auto _ : state) {
    signal::resample_cubic(x, out, M, scratch);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * x.size()));  // input samples/s
}
BENCHMARK(BM_ResampleCubic);

void BM_ResampleCubic12LeadInterleaved(benchmark::State& state) {
  std::vector<double> x;
  for (int l = 0; l < 12; ++l) {
    const auto lead = ecg_like(5000, static_cast<std::uint64_t>(l));
    x.insert(x.end(), lead.begin(), lead.end());
  }
  std::vector<double> out(12 * 2500);
  signal::CubicBatchScratch s;
  for (auto _ : state) {
    signal::resample_cubic_interleaved(x.data(), 12, 5000, out.data(), 2500, s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * x.size()));
}
BENCHMARK(BM_ResampleCubic12LeadInterleaved);

void BM_ResamplePolyphase(benchmark::State& state) {
  const auto x = ecg_like(5000, 1);
  const auto r = signal::PolyphaseResampler::for_rates(500, 250);
  std::vector<double> out(r.output_length(x.size()));
  for (auto _ : state) {
    r.apply(x, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * x.size()));
}
BENCHMARK(BM_ResamplePolyphase);

void BM_ResampleLinearBaseline(benchmark::State& state) {
  const auto x = ecg_like(5000, 1);
  std::vector<double> out(2500);
  for (auto _ : state) {
    const double step = 4999.0 / 2499.0;
    for (std::size_t j = 0; j < out.size(); ++j) {
      const double u = j * step;
      const auto i = std::min<std::size_t>(static_cast<std::size_t>(u), 4998);
      out[j] = x[i] + (u - i) * (x[i + 1] - x[i]);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * x.size()));
}
BENCHMARK(BM_ResampleLinearBaseline);

void BM_Segment(benchmark::State& state) {
  const auto x = ecg_like(12 * 2500, 2);
  std::vector<float> seg(12 * 1250);
  for (auto _ : state) {
    for (std::size_t j = 0; j < 2; ++j) signal::copy_segment<double, float>(x, 12, 1250, j, std::span<float>(seg));
    benchmark::DoNotOptimize(seg.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * x.size()));
}
BENCHMARK(BM_Segment);

// A PTB-XL-shaped data set of 600 records (12 x 5000 @ 500 Hz, format 16), written once.
const std::filesystem::path& ptb_like_dataset() {
  static const std::filesystem::path dir = [] {
    const auto d = std::filesystem::temp_directory_path() / "ecgbench-bench-ptb";
    if (std::filesystem::exists(d / "ptbxl_database.csv")) return d;
    std::vector<io::WfdbWriteSignal> sigs;
    for (auto l : io::canonical_leads) sigs.push_back({std::string(l), 1000.0, 0, "mV"});
    std::string csv = "ecg_id,patient_id,report,scp_codes,strat_fold,filename_lr,filename_hr\n";
    for (int i = 1; i <= 600; ++i) {
      const auto x = ecg_like(12 * 5000, static_cast<std::uint64_t>(i));
      char name[32];
      std::snprintf(name, sizeof name, "%05d_hr", i);
      io::write_wfdb_format16(d / "records500/00000", name, 500, sigs, x);
      csv += std::to_string(i) + "," + std::to_string(i % 97) + ".0,sinus rhythm,\"{'NORM': 100.0}\"," + std::to_string(1 + i % 10) +
             ",records100/00000/" + std::string(name, 5) + "_lr,records500/00000/" + name + "\n";
    }
    std::ofstream(d / "ptbxl_database.csv") << csv;
    return d;
  }();
  return dir;
}

// The paper chain's stages on 12 interleaved leads of a 10-s 500-Hz record.
std::vector<double> twelve_leads() {
  std::vector<double> x(12 * 5000);
  auto rng = make_rng(3);
  for (std::size_t t = 0; t < 5000; ++t)
    for (int l = 0; l < 12; ++l) x[t * 12 + l] = std::sin(0.03 * t + l) + 0.1 * normal(rng);
  return x;
}

void BM_PaperStage(benchmark::State& state) {
  const signal::PaperFilterBank bank(500);
  const auto input = twelve_leads();
  auto x = input;
  std::vector<double> scratch;
  signal::PaperFilterScratch ws;
  const int stage = static_cast<int>(state.range(0));
  const signal::FilterCoefficients* f[] = {&bank.notch50, &bank.bandpass, &bank.highpass};
  for (auto _ : state) {
    x = input;
    if (stage < 3) signal::filtfilt_interleaved(*f[stage], x.data(), 5000, 12, scratch);
    else signal::wavelet_denoise_interleaved(x.data(), 5000, 12, nullptr, ws);
    benchmark::DoNotOptimize(x.data());
  }
  static const char* names[] = {"notch (filtfilt, order 2)", "band-pass (filtfilt, order 8)", "high-pass (filtfilt, order 4)",
                                "db6 level-4 denoising"};
  state.SetLabel(names[stage]);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));  // samples/s
}
BENCHMARK(BM_PaperStage)->DenseRange(0, 3);

void BM_PreprocessPtbxlEndToEnd(benchmark::State& state) {
  const auto& data = ptb_like_dataset();
  log::set_level(log::Level::error);
  std::size_t records = 0;
  for (auto _ : state) {
    const auto out = std::filesystem::temp_directory_path() / "ecgbench-bench-ptb-out";
    std::filesystem::remove_all(out);
    data::PreprocessOptions o;
    o.data_dir = data;
    o.out_dir = out;
    o.jobs = static_cast<unsigned>(state.range(0));
    o.signal.filter = state.range(1) ? data::FilterChain::paper : data::FilterChain::none;
    o.progress = ProgressStyle::quiet;
    records += data::run_preprocess(o).processed;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(records));  // records/s
}
// Args: jobs, filter (0 = none, 1 = paper).
BENCHMARK(BM_PreprocessPtbxlEndToEnd)->Args({1, 0})->Args({2, 0})->Args({1, 1})->Args({2, 1})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
