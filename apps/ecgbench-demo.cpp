// ecgbench-demo: the main job on built-in defaults, runnable on a fresh machine with no data:
//   1. synthesise a PTB-XL-shaped 12-lead data set with ECG-QA-style questions (ECGSYN-based),
//   2. preprocess it exactly like a real base data set (paper filter chain, 250 Hz, 5-s segments),
//   3. map the questions onto the segments,
//   4. train an ECG-Byte tokenizer on the segments and encode them,
// then print a summary. It grows with the toolkit (training and evaluation join when they land).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "ecgbench/core/core.hpp"
#include "ecgbench/data/data.hpp"
#include "ecgbench/eval/eval.hpp"
#include "ecgbench/io/io.hpp"
#include "ecgbench/signal/signal.hpp"
#include "ecgbench/synth/synth.hpp"
#include "ecgbench/tokenize/tokenize.hpp"

using namespace ecgbench;
namespace fs = std::filesystem;

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ecgbench demo: synthesise -> preprocess -> map QA -> ECG-Byte, on built-in defaults"};
  std::string out = "demo-output";
  std::size_t n = 300, merges = 1000;
  std::uint64_t seed = 0;
  unsigned jobs = 0;
  bool quiet = false;
  app.add_option("--out", out, "output folder")->capture_default_str();
  app.add_option("--n", n, "synthetic records")->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--merges", merges, "ECG-Byte merges")->capture_default_str();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_option("--jobs", jobs, "threads (0 = all cores)")->capture_default_str();
  app.add_flag("--quiet", quiet, "no progress output");
  CLI11_PARSE(app, argc, argv);
  try {
    const auto style = quiet ? ProgressStyle::quiet : ProgressStyle::automatic;
    const fs::path root(out);
    const auto t_all = std::chrono::steady_clock::now();

    std::printf("[1/4] synthesising %zu 12-lead ECGs (ECGSYN model) -> %s\n", n, (root / "synthetic").c_str());
    std::fflush(stdout);
    auto t0 = std::chrono::steady_clock::now();
    synth::DatasetOptions so;
    so.records = n;
    so.seed = seed;
    so.jobs = jobs;
    so.progress = style;
    const auto syn = synth::write_dataset(root / "synthetic", so);
    const double t_synth = seconds_since(t0);

    std::printf("[2/4] preprocessing (paper filter chain, 250 Hz, 1250-sample segments)\n");
    std::fflush(stdout);
    fs::remove_all(root / "preprocessed");  // a fresh run each time (the synthetic set was rewritten)
    data::PreprocessOptions po;
    po.data_dir = root / "synthetic";
    po.out_dir = root / "preprocessed";
    po.jobs = jobs;
    po.progress = style;
    log::set_level(log::Level::error);
    const auto pp = data::run_preprocess(po);

    std::printf("[3/4] mapping the ECG-QA-style questions onto the segments\n");
    std::fflush(stdout);
    t0 = std::chrono::steady_clock::now();
    const auto index = data::read_segment_index(po.out_dir / "index.jsonl");
    std::vector<data::SourceItem> items;
    for (const char* split : {"train", "test"}) {
      const auto f = root / "synthetic/ecgqa/ptbxl/template" / split / "synthetic.json";
      auto part = data::read_mapping_source("ecg-qa_ptbxl", read_json(f), f.string());
      items.insert(items.end(), part.begin(), part.end());
    }
    const auto mapped = data::map_items("ecg-qa_ptbxl", items, index);
    std::vector<Json> rows;
    for (const auto& c : mapped.conversations) rows.push_back(to_json(c));
    write_jsonl(root / "mapped/ecg-qa_synthetic_mapped_1250.jsonl", rows);
    const double t_map = seconds_since(t0);

    std::printf("[4/4] training an ECG-Byte tokenizer (%zu merges) and encoding every segment\n", merges);
    std::fflush(stdout);
    t0 = std::chrono::steady_clock::now();
    data::SegmentStore store(po.out_dir);
    std::vector<std::string> symbols(index.size());
    for (std::size_t i = 0; i < index.size(); ++i) symbols[i] = tokenize::symbolize(store.segment(index[i])).symbols;
    const auto merge_list = tokenize::train_bpe(std::vector<std::string_view>(symbols.begin(), symbols.end()), {.merges = merges, .progress = style});
    const tokenize::EcgByteTokenizer tok(std::string(tokenize::ecg_alphabet), merge_list);
    tok.save(root / "ecg_byte_tokenizer.json");
    const double t_train = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    std::vector<std::size_t> lengths(symbols.size());
    parallel_for(symbols.size(), jobs, [&](std::size_t i) {
      const auto ids = tok.encode(symbols[i], tokenize::EncodeMode::longest_match);
      if (tok.decode(ids) != symbols[i]) throw Error("round trip failed for " + index[i].id);
      lengths[i] = ids.size();
    });
    const double t_encode = seconds_since(t0);
    std::size_t total_symbols = 0, total_tokens = 0;
    for (std::size_t i = 0; i < symbols.size(); ++i) total_symbols += symbols[i].size(), total_tokens += lengths[i];
    std::sort(lengths.begin(), lengths.end());

    std::printf("\n== ecgbench demo summary ==\n");
    std::printf("%-34s %zu records, %zu patients, %zu questions (%.2f s, %.0f records/s)\n", "synthetic data set", syn.records, syn.patients,
                syn.questions, t_synth, syn.records / t_synth);
    for (const auto& [name, count] : syn.per_rhythm) std::printf("    %-30s %zu\n", name.c_str(), count);
    std::printf("%-34s %zu records -> %zu segments, %zu skipped (%.2f s, %.0f records/s)\n", "preprocessing (paper filters)", pp.processed,
                pp.segments, pp.skipped, pp.seconds, pp.records / pp.seconds);
    std::printf("%-34s %zu of %zu questions matched -> %zu conversations (%.2f s)\n", "QA mapping", mapped.matched, mapped.items,
                rows.size(), t_map);
    std::printf("%-34s %zu merges, vocabulary %zu (%.2f s)\n", "ECG-Byte training", tok.merges().size(), tok.vocab_size(), t_train);
    std::printf("%-34s %.2fx compression; tokens per segment: median %zu, max %zu (%.2f s, %.1f M symbols/s)\n",
                "ECG-Byte encoding", total_tokens ? double(total_symbols) / total_tokens : 0.0, lengths[lengths.size() / 2], lengths.back(),
                t_encode, total_symbols / t_encode / 1e6);
    if (!mapped.conversations.empty()) {
      const auto& c = mapped.conversations.front();
      std::printf("%-34s [%s] user: %s | assistant: %s\n", "example conversation", c.ecg[0].c_str(), c.turns[0].text.c_str(), c.turns[1].text.c_str());
    }
    std::printf("%-34s %.1f s; outputs in %s\n", "total", seconds_since(t_all), root.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-demo: %s\n", e.what());
    return 1;
  }
  return 0;
}
