// RAG: feature extraction beside benchmarks/python/features_reference.py (upstream's
// ECGFeatureExtractor with numpy / scipy / PyWavelets, same segment, same run via
// scripts/bench-peers.sh), and the FAISS database at 100k entries.
//   BM_RagFeatures       extract_rag_features of one [12, 1250] segment (228 values), one thread
//   BM_Features          extract_features (288 values), one thread
//   BM_BuildIvf100k      IVF-flat over 100 000 feature vectors (228-d, nlist 100 as the database
//                        picks it): k-means training + adding, one thread
//   BM_Query100k         one query, k = 5, nprobe 10, one thread; p50 / p99 reported in µs
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <omp.h>

#include "ecgbench/rag/database.hpp"
#include "ecgbench/signal/ecg_features.hpp"

using namespace ecgbench;

namespace {

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

void BM_RagFeatures(benchmark::State& state) {
  const auto s = segment();
  const signal::EcgFeatureExtractor fx(250);
  for (auto _ : state) benchmark::DoNotOptimize(fx.rag_features(s));
  state.counters["ECGs/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RagFeatures)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Features(benchmark::State& state) {
  const auto s = segment();
  const signal::EcgFeatureExtractor fx(250);
  for (auto _ : state) benchmark::DoNotOptimize(fx.features(s));
  state.counters["ECGs/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Features)->Unit(benchmark::kMicrosecond)->UseRealTime();

constexpr std::size_t kN = 100'000, kDim = 228;

/// Feature-like vectors: 40 clusters with per-dimension scales, as ECG features group by rhythm.
const std::vector<float>& vectors() {
  static const std::vector<float> v = [] {
    std::mt19937_64 rng(7);
    std::normal_distribution<float> nd;
    std::vector<float> centres(40 * kDim);
    for (auto& c : centres) c = nd(rng) * 3.0f;
    std::vector<float> out(kN * kDim);
    for (std::size_t i = 0; i < kN; ++i) {
      const std::size_t c = rng() % 40;
      for (std::size_t d = 0; d < kDim; ++d) out[i * kDim + d] = centres[c * kDim + d] + nd(rng);
    }
    return out;
  }();
  return v;
}

std::unique_ptr<faiss::IndexIVF> build() {
  rag::BuildOptions o;
  auto idx = rag::make_ivf(kDim, 100, o);
  const auto& v = vectors();
  const std::size_t train = std::min<std::size_t>(kN, static_cast<std::size_t>(idx->cp.max_points_per_centroid) * 100);
  idx->train(static_cast<rag::faiss_idx>(train), v.data());
  idx->add(static_cast<rag::faiss_idx>(kN), v.data());
  return idx;
}

void BM_BuildIvf100k(benchmark::State& state) {
  omp_set_num_threads(1);
  (void)vectors();
  for (auto _ : state) benchmark::DoNotOptimize(build());
  state.counters["vectors/s"] = benchmark::Counter(static_cast<double>(kN * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BuildIvf100k)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

void BM_Query100k(benchmark::State& state) {
  omp_set_num_threads(1);
  static const auto idx = build();
  idx->nprobe = 10;
  const auto& v = vectors();
  std::vector<float> dist(5);
  std::vector<rag::faiss_idx> labels(5);
  std::vector<double> us;
  std::size_t q = 0;
  for (auto _ : state) {
    const auto t = std::chrono::steady_clock::now();
    idx->search(1, v.data() + (q * 7919 % kN) * kDim, 5, dist.data(), labels.data());
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t).count());
    ++q;
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[us.size() * 99 / 100];
  state.counters["queries/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Query100k)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
