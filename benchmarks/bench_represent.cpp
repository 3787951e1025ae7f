// Rendering throughput, one thread, beside benchmarks/python/render_reference.py (matplotlib + PIL
// drawing the same ecg_plot figure and running the same ViT processor; scripts/bench-peers.sh runs both):
//   BM_EcgPlot           upstream's ecg_plot image of a [12, 1250] segment (1000 x 720 RGB)
//   BM_EcgPlotVitInput   the image plus the ViT processor (PIL bilinear resize to 224, rescale,
//                        normalise) -> [3, 224, 224] pixel values: what a vision ELM reads per sample
//   BM_StackedVitInput   the stacked-signal image plus the same processor
#include <benchmark/benchmark.h>

#include <cmath>

#include "ecgbench/represent/pixel_input.hpp"

using namespace ecgbench;

namespace {

/// A deterministic ECG-like [12, 1250] segment in mV (sinus-like spikes on a slow wave).
std::vector<float> segment() {
  std::vector<float> s(12 * 1250);
  for (std::size_t l = 0; l < 12; ++l)
    for (std::size_t i = 0; i < 1250; ++i) {
      const double t = static_cast<double>(i) / 250.0;
      const double phase = std::fmod(t + 0.05 * static_cast<double>(l), 0.8);
      s[l * 1250 + i] = static_cast<float>(0.1 * std::sin(2 * M_PI * 0.3 * t) + (phase < 0.04 ? 1.2 * std::sin(M_PI * phase / 0.04) : 0.0) +
                                           0.15 * std::sin(2 * M_PI * 1.5 * t + static_cast<double>(l)));
    }
  return s;
}

void BM_EcgPlot(benchmark::State& state) {
  const auto s = segment();
  for (auto _ : state) benchmark::DoNotOptimize(represent::upstream_ecg_plot(s, 12));
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EcgPlot)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_EcgPlotVitInput(benchmark::State& state) {
  const auto s = segment();
  const auto proc = represent::ImageProcessor::vit();
  for (auto _ : state) benchmark::DoNotOptimize(represent::pixel_input(s, 1250, true, false, 0, proc));
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EcgPlotVitInput)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_StackedVitInput(benchmark::State& state) {
  const auto s = segment();
  const auto proc = represent::ImageProcessor::vit();
  for (auto _ : state) benchmark::DoNotOptimize(represent::pixel_input(s, 1250, false, false, 0, proc));
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StackedVitInput)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
