// Text metrics on 100k report-like sentence pairs (pairs/s). Baseline in the same binary: a plain
// exact-match pass, for scale.
#include <benchmark/benchmark.h>

#include "ecgbench/core/random.hpp"
#include "ecgbench/eval/eval.hpp"

using namespace ecgbench;

namespace {

const std::pair<std::vector<std::string>, std::vector<std::string>>& pairs() {
  static const auto p = [] {
    const std::vector<std::string> words{"sinus", "rhythm", "with", "left", "axis", "deviation", "normal", "ecg", "atrial", "fibrillation",
                                         "first", "degree", "av", "block", "st", "elevation", "in", "leads", "v1-v4.", "rate", "72", "bpm."};
    auto rng = make_rng(1);
    std::vector<std::string> h, r;
    for (int i = 0; i < 100000; ++i) {
      std::string a, b;
      const auto n = 3 + uniform_index(rng, 12);
      for (std::size_t k = 0; k < n; ++k) {
        const auto& w = words[uniform_index(rng, words.size())];
        a += (k ? " " : "") + w;
        b += (k ? " " : "") + (uniform01(rng) < 0.7 ? w : words[uniform_index(rng, words.size())]);
      }
      h.push_back(a);
      r.push_back(b);
    }
    return std::pair{h, r};
  }();
  return p;
}

void BM_CorpusBleu(benchmark::State& state) {
  const auto& [h, r] = pairs();
  for (auto _ : state) benchmark::DoNotOptimize(eval::corpus_bleu(r, h));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * h.size()));  // pairs/s
}
BENCHMARK(BM_CorpusBleu)->Unit(benchmark::kMillisecond);

void BM_SentenceBleu(benchmark::State& state) {
  const auto& [h, r] = pairs();
  for (auto _ : state)
    for (std::size_t i = 0; i < h.size(); ++i) benchmark::DoNotOptimize(eval::sentence_bleu_adaptive(r[i], h[i]));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * h.size()));
}
BENCHMARK(BM_SentenceBleu)->Unit(benchmark::kMillisecond);

void BM_Rouge(benchmark::State& state) {
  const auto& [h, r] = pairs();
  for (auto _ : state) benchmark::DoNotOptimize(eval::rouge_average(h, r));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * h.size()));
}
BENCHMARK(BM_Rouge)->Unit(benchmark::kMillisecond);

// A fresh scorer per iteration: stem and synonym caches start cold (WordNet itself is loaded once).
void BM_Meteor(benchmark::State& state) {
  const auto& [h, r] = pairs();
  const auto& wn = eval::WordNet::shared();
  for (auto _ : state) {
    const eval::MeteorScorer scorer(wn);
    benchmark::DoNotOptimize(eval::meteor(r, h, scorer));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * h.size()));
}
BENCHMARK(BM_Meteor)->Unit(benchmark::kMillisecond);

void BM_ExactMatchBaseline(benchmark::State& state) {
  const auto& [h, r] = pairs();
  for (auto _ : state) {
    std::size_t same = 0;
    for (std::size_t i = 0; i < h.size(); ++i) same += h[i] == r[i];
    benchmark::DoNotOptimize(same);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * h.size()));
}
BENCHMARK(BM_ExactMatchBaseline)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
