// ECG-Byte kernels on upstream's reference workload: 400 ECG-like segments of 12 x 1250 (6M
// symbols), 3000 merges. Training reports merges/s, encoding symbols/s; the baseline encoder is a
// hash-map trie rebuilt per call, as upstream's encode_symbol does.
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <unordered_map>

#include "ecgbench/core/random.hpp"
#include "ecgbench/tokenize/tokenize.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::tokenize;

namespace {

// ECG-like segments: Gaussian P/QRS/T waves per beat with lead-specific amplitudes, noise and
// baseline wander, symbolised as upstream does.
const std::vector<std::string>& corpus() {
  static const std::vector<std::string> c = [] {
    std::vector<std::string> out;
    auto rng = make_rng(7);
    const double fs = 250;
    for (int e = 0; e < 400; ++e) {
      const double hr = 50 + 60 * uniform01(rng), rr = 60 / hr;
      std::vector<float> x(12 * 1250);
      for (int l = 0; l < 12; ++l) {
        const double ar = 0.4 + 1.2 * uniform01(rng), at = 0.1 + 0.3 * uniform01(rng), sign = l == 3 ? -1 : 1;
        for (int t = 0; t < 1250; ++t) {
          const double s = t / fs;
          const double ph = std::fmod(s, rr);
          auto g = [&](double c, double w) { return std::exp(-0.5 * std::pow((ph - c) / w, 2)); };
          x[l * 1250 + t] = static_cast<float>(sign * (0.1 * g(0.15, 0.025) + ar * g(0.35, 0.012) - 0.2 * ar * g(0.38, 0.01) + at * g(0.6, 0.05)) +
                                               0.05 * std::sin(2 * 3.14159 * 0.3 * s) + 0.01 * normal(rng));
        }
      }
      out.push_back(symbolize(x).symbols);
    }
    return out;
  }();
  return c;
}

std::vector<std::string_view> views() {
  const auto& c = corpus();
  return {c.begin(), c.end()};
}

const EcgByteTokenizer& trained() {
  static const EcgByteTokenizer t(std::string(ecg_alphabet), train_bpe(views(), {.merges = 3000}));
  return t;
}

void BM_TrainBpe(benchmark::State& state) {
  const auto v = views();
  std::size_t merges = 0;
  for (auto _ : state) merges += train_bpe(v, {.merges = 3000}).size();
  state.SetItemsProcessed(static_cast<std::int64_t>(merges));  // merges/s
  state.counters["symbols"] = 6e6;
}
BENCHMARK(BM_TrainBpe)->Unit(benchmark::kMillisecond);

void BM_TrainBpeConcat(benchmark::State& state) {
  std::string joined;
  for (const auto& s : corpus()) joined += s;
  std::size_t merges = 0;
  for (auto _ : state) merges += train_bpe({joined}, {.merges = 3000}).size();
  state.SetItemsProcessed(static_cast<std::int64_t>(merges));
}
BENCHMARK(BM_TrainBpeConcat)->Unit(benchmark::kMillisecond);

// The noisy ECG-like corpus of ../shared/data/ecg-byte/bench (its SOURCE.md has upstream's times on
// the same generator: 79.9 s to train 3000 merges with 2 threads, 0.110 s to encode): noise makes
// the pair statistics far more varied than the smooth corpus above, so this is the one to quote.
const std::vector<std::string>& noisy_corpus() {
  static const std::vector<std::string> c = read_symbols_file(test::data_dir() / "ecg-byte/bench/symbols-400x15000-seed5.txt").symbols;
  return c;
}

void BM_TrainBpeNoisy(benchmark::State& state) {
  const auto& c = noisy_corpus();
  const std::vector<std::string_view> v(c.begin(), c.end());
  std::size_t merges = 0;
  for (auto _ : state) merges += train_bpe(v, {.merges = 3000}).size();
  state.SetItemsProcessed(static_cast<std::int64_t>(merges));  // merges/s
}
BENCHMARK(BM_TrainBpeNoisy)->Unit(benchmark::kMillisecond);

void BM_EncodeLongestMatchNoisy(benchmark::State& state) {
  const auto& c = noisy_corpus();
  static const EcgByteTokenizer t(std::string(ecg_alphabet), train_bpe({c.begin(), c.end()}, {.merges = 3000}));
  std::size_t symbols = 0, tokens = 0;
  for (auto _ : state)
    for (const auto& s : c) {
      tokens += t.encode(s, EncodeMode::longest_match).size();
      symbols += s.size();
    }
  state.SetItemsProcessed(static_cast<std::int64_t>(symbols));
  state.counters["compression"] = static_cast<double>(symbols) / static_cast<double>(tokens);
}
BENCHMARK(BM_EncodeLongestMatchNoisy)->Unit(benchmark::kMillisecond);

void encode_bench(benchmark::State& state, EncodeMode mode) {
  const auto& t = trained();
  std::size_t symbols = 0, tokens = 0;
  for (auto _ : state)
    for (const auto& s : corpus()) {
      tokens += t.encode(s, mode).size();
      symbols += s.size();
    }
  state.SetItemsProcessed(static_cast<std::int64_t>(symbols));  // symbols/s, one thread
  state.counters["compression"] = static_cast<double>(symbols) / static_cast<double>(tokens);
  state.counters["trie_states"] = static_cast<double>(t.trie_states());
  state.counters["trie_slots"] = static_cast<double>(t.trie_slots());
}
void BM_EncodeLongestMatch(benchmark::State& state) { encode_bench(state, EncodeMode::longest_match); }

void BM_EncodeBpe(benchmark::State& state) { encode_bench(state, EncodeMode::bpe); }
BENCHMARK(BM_EncodeLongestMatch)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeBpe)->Unit(benchmark::kMillisecond);

// Baseline: upstream's encoder shape (trie of hash-map children built on every call).
void BM_EncodeHashTrieBaseline(benchmark::State& state) {
  const auto& t = trained();
  struct Node {
    std::unordered_map<char, int> children;
    int id = -1;
  };
  std::size_t symbols = 0;
  for (auto _ : state) {
    std::vector<Node> trie(1);
    for (TokenId id = 0; id < t.vocab_size(); ++id) {
      int n = 0;
      for (char c : t.token(id)) {
        auto it = trie[n].children.find(c);
        if (it == trie[n].children.end()) {
          trie[n].children.emplace(c, static_cast<int>(trie.size()));
          const int next = static_cast<int>(trie.size());
          trie.emplace_back();
          n = next;
        } else {
          n = it->second;
        }
      }
      trie[n].id = static_cast<int>(id);
    }
    for (const auto& s : corpus()) {
      std::vector<int> out;
      for (std::size_t i = 0; i < s.size();) {
        int n = 0, best = -1;
        std::size_t len = 1;
        for (std::size_t k = i; k < s.size(); ++k) {
          auto it = trie[n].children.find(s[k]);
          if (it == trie[n].children.end()) break;
          n = it->second;
          if (trie[n].id >= 0) best = trie[n].id, len = k - i + 1;
        }
        out.push_back(best);
        i += len;
      }
      benchmark::DoNotOptimize(out.data());
      symbols += s.size();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(symbols));
}
BENCHMARK(BM_EncodeHashTrieBaseline)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
