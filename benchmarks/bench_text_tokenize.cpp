// Text tokenizer encoding speed (MB/s and tokens/s) on ECG-report-like English text, with the real
// GPT-2, Llama 3 and Qwen 2.5 vocabularies from the shared fixtures. The baseline is OpenAI's
// encoder.py algorithm as written (merge ranks in a map keyed by string pairs, no word cache).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "ecgbench/core/random.hpp"
#include "ecgbench/tokenize/tokenize.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::tokenize;

namespace {

std::filesystem::path tokenizer_dir() { return test::data_dir() / "tokenizers"; }

// ~1 MB of report-like sentences: words, numbers, units, punctuation, some non-ASCII.
const std::vector<std::string>& corpus() {
  static const std::vector<std::string> c = [] {
    const std::vector<std::string> words{"sinus", "rhythm", "left", "axis", "deviation", "anterior", "fascicular", "block",
      "non-specific", "ST-T", "changes", "QRS", "duration", "ms", "QTc", "interval", "prolonged", "atrial", "fibrillation",
      "ventricular", "premature", "complexes", "bundle", "branch", "myocardial", "infarction", "inferior", "leads",
      "voltage", "criteria", "hypertrophy", "normal", "ECG", "the", "of", "is", "with", "and", "possible", "Is", "there",
      "evidence", "this", "bpm", "µV", "Ableitung", "überdreht", "niederspannung", "T-wave", "inversion", "V1–V3"};
    std::vector<std::string> out;
    auto rng = make_rng(11);
    std::size_t bytes = 0;
    while (bytes < (1u << 20)) {
      std::string s;
      const std::size_t n = 5 + uniform_index(rng, 20);
      for (std::size_t i = 0; i < n; ++i) {
        if (i) s += ' ';
        if (uniform01(rng) < 0.12) s += std::to_string(uniform_index(rng, 1000));
        else s += words[uniform_index(rng, words.size())];
        if (uniform01(rng) < 0.1) s += ',';
      }
      s += ". ";
      bytes += s.size();
      out.push_back(std::move(s));
    }
    return out;
  }();
  return c;
}

void run_encode(benchmark::State& state, const HfTokenizer& tok) {
  std::size_t bytes = 0, tokens = 0;
  for (const auto& s : corpus()) bytes += s.size();
  for (auto _ : state) {
    tokens = 0;
    for (const auto& s : corpus()) tokens += tok.encode(s, false).size();
    benchmark::DoNotOptimize(tokens);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(state.iterations() * tokens), benchmark::Counter::kIsRate);
}

void BM_EncodeGpt2(benchmark::State& state) {
  static const auto tok = HfTokenizer::from_gpt2_files(tokenizer_dir() / "gpt2/vocab.json", tokenizer_dir() / "gpt2/merges.txt");
  run_encode(state, tok);
}
void BM_EncodeLlama3(benchmark::State& state) {
  static const auto tok = HfTokenizer::from_directory(tokenizer_dir() / "llama3");
  run_encode(state, tok);
}
void BM_EncodeQwen25(benchmark::State& state) {
  static const auto tok = HfTokenizer::from_directory(tokenizer_dir() / "qwen2.5-qwen3");
  run_encode(state, tok);
}
void BM_EncodeSentencePiece(benchmark::State& state) {
  static const auto tok = HfTokenizer::from_sentencepiece(tokenizer_dir() / "llama2-sentencepiece/tokenizer.model");
  run_encode(state, tok);
}

// encoder.py's bpe(): repeatedly find the lowest-ranked pair among string symbols.
void BM_EncodeGpt2Baseline(benchmark::State& state) {
  static const auto setup = [] {
    const Json vocab = read_json(tokenizer_dir() / "gpt2/vocab.json");
    std::map<std::string, int> enc;
    for (const auto& [k, v] : vocab.items()) enc[k] = v.get<int>();
    std::map<std::pair<std::string, std::string>, int> ranks;
    std::istringstream in(read_file(tokenizer_dir() / "gpt2/merges.txt"));
    std::string line;
    int r = 0;
    std::getline(in, line);
    while (std::getline(in, line)) {
      const auto sp = line.find(' ');
      if (sp != std::string::npos) ranks[{line.substr(0, sp), line.substr(sp + 1)}] = r++;
    }
    return std::pair{enc, ranks};
  }();
  const auto& [enc, ranks] = setup;
  const SplitRegex split{std::string(gpt2_split_pattern)};
  std::size_t bytes = 0, tokens = 0;
  for (const auto& s : corpus()) bytes += s.size();
  for (auto _ : state) {
    tokens = 0;
    for (const auto& s : corpus()) {
      split.split(s, [&](std::string_view piece) {
        std::vector<std::string> word;
        for (unsigned char b : piece) word.push_back(bytes_to_byte_level(std::string(1, static_cast<char>(b))));
        while (word.size() > 1) {
          int best = INT32_MAX;
          std::size_t at = 0;
          for (std::size_t i = 0; i + 1 < word.size(); ++i) {
            auto it = ranks.find({word[i], word[i + 1]});
            if (it != ranks.end() && it->second < best) { best = it->second; at = i; }
          }
          if (best == INT32_MAX) break;
          const std::string l = word[at], rr = word[at + 1];
          std::vector<std::string> next;
          for (std::size_t i = 0; i < word.size();) {
            if (i + 1 < word.size() && word[i] == l && word[i + 1] == rr) { next.push_back(l + rr); i += 2; }
            else next.push_back(word[i++]);
          }
          word = std::move(next);
        }
        for (const auto& w : word) tokens += static_cast<std::size_t>(enc.at(w) >= 0);
      });
    }
    benchmark::DoNotOptimize(tokens);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(state.iterations() * tokens), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_EncodeGpt2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeGpt2Baseline)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeLlama3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeQwen25)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeSentencePiece)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
