// ecgbench-preprocess: base data set -> segment shards + index (see data/preprocess.hpp), and the
// follow-up steps on an index: patient-stratified folds, tokenizer sampling, amplitude percentiles.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "ecgbench/core/log.hpp"
#include "ecgbench/data/data.hpp"

using namespace ecgbench;
using namespace ecgbench::data;
namespace fs = std::filesystem;

namespace {

void parse_shard(const std::string& s, PreprocessOptions& o) {
  const auto slash = s.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    o.shard_index = std::stoul(s.substr(0, slash));
    o.shard_count = std::stoul(s.substr(slash + 1));
  } catch (const std::exception&) {
    throw Error("--shard must look like I/K (e.g. 0/4), got '" + s + "'");
  }
}

int run_split(const std::string& index_path, int folds, std::uint64_t seed, bool use_strat_fold, std::string out) {
  const auto entries = read_segment_index(index_path);
  const auto fold = use_strat_fold ? strat_fold_folds(entries, folds) : patient_stratified_folds(entries, folds, seed);
  if (out.empty()) out = (fs::path(index_path).parent_path() / ("folds-" + std::to_string(folds) + ".jsonl")).string();
  std::vector<Json> rows;
  std::vector<std::size_t> segs(folds, 0);
  std::vector<std::set<std::string>> patients(folds);
  std::map<std::string, int> patient_fold;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    rows.push_back(Json{{"id", entries[i].id}, {"patient_id", entries[i].patient_id}, {"fold", fold[i]}});
    ++segs[fold[i]];
    patients[fold[i]].insert(entries[i].patient_id);
    auto [it, fresh] = patient_fold.emplace(entries[i].patient_id, fold[i]);
    if (!fresh && it->second != fold[i] && !use_strat_fold) throw Error("internal error: patient " + entries[i].patient_id + " in two folds");
  }
  write_jsonl(out, rows);
  std::printf("%-6s %10s %10s\n", "fold", "segments", "patients");
  for (int f = 0; f < folds; ++f) std::printf("%-6d %10zu %10zu\n", f, segs[f], patients[f].size());
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Preprocess a base ECG data set into segment shards; split, sample, percentiles"};
  app.require_subcommand(0, 1);
  PreprocessOptions o;
  std::string base = "ptb", shard = "0/1", resample = "cubic", filter = "paper";
  std::size_t limit = 0;
  bool quiet = false, any_rate = false;
  app.add_option("--base-data", base, "ptb | mimic | code15 | csn | cpsc")->capture_default_str();
  app.add_option("--data-dir", o.data_dir, "the data set as distributed");
  app.add_option("--out", o.out_dir, "output folder");
  app.add_option("--seg-len", o.signal.segment_len, "segment length in samples at the target rate")->capture_default_str();
  app.add_option("--target-sf", o.signal.target_sf, "target sampling rate (Hz)")->capture_default_str();
  app.add_option("--resample", resample,
                 "cubic (upstream-identical interp1d spline, no anti-aliasing) | polyphase (windowed-sinc FIR)")
      ->capture_default_str();
  app.add_option("--filter", filter,
                 "paper (notch 50/60 Hz, band-pass 0.5-100 Hz, high-pass 0.05 Hz, db6 wavelet denoising: the published "
                 "ECG-Bench results) | none (later upstream code)")
      ->capture_default_str();
  app.add_option("--jobs", o.jobs, "worker threads (0 = all cores)")->capture_default_str();
  app.add_option("--shard", shard, "process chunk set I of K (I/K), for several processes or machines")->capture_default_str();
  app.add_option("--limit", limit, "only the first N records");
  app.add_option("--records-per-shard", o.records_per_shard, "records per output shard (default: ~1 GB shards)");
  app.add_flag("--any-rate", any_rate, "accept records not at the data set's distributed rate");
  app.add_flag("--quiet", quiet, "no progress output");

  auto* split = app.add_subcommand("split", "patient-stratified K-fold split of an index");
  std::string index_path, out_path, method = "random", features = "upstream";
  int folds = 5;
  std::uint64_t seed = 42;
  bool strat_fold = false;
  split->add_option("--index", index_path, "OUT/index.jsonl")->required();
  split->add_option("--folds", folds, "number of folds")->capture_default_str();
  split->add_option("--seed", seed, "seed for tie-breaking")->capture_default_str();
  split->add_flag("--strat-fold", strat_fold, "PTB-XL: use its strat_fold column ((strat_fold-1) mod K)");
  split->add_option("--out", out_path, "output JSONL (default: next to the index, folds-K.jsonl)");

  auto* sample = app.add_subcommand("sample", "choose segments for tokenizer training (one id per line)");
  std::size_t n = 300000;
  int max_clusters = 20;
  sample->add_option("--index", index_path, "OUT/index.jsonl")->required();
  sample->add_option("--n", n, "number of segments")->capture_default_str();
  sample->add_option("--method", method, "random | stratified")->capture_default_str();
  sample->add_option("--max-clusters", max_clusters, "stratified: largest k tried")->capture_default_str();
  sample->add_option("--features", features, "stratified: upstream (ECGFeatureExtractor, 288) | morphology (108 statistics)")->capture_default_str();
  sample->add_option("--seed", seed, "random seed")->capture_default_str();
  sample->add_option("--out", out_path, "output list")->required();

  auto* pct = app.add_subcommand("percentiles", "amplitude percentiles (p1, p99), min and max over a random sample of values");
  pct->add_option("--index", index_path, "OUT/index.jsonl")->required();
  pct->add_option("--n", n, "number of values sampled")->capture_default_str();
  pct->add_option("--seed", seed, "random seed")->capture_default_str();
  pct->add_option("--out", out_path, "output JSON")->required();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*split) return run_split(index_path, folds, seed, strat_fold, out_path);
    if (*sample || *pct) {
      const auto entries = read_segment_index(index_path);
      SegmentStore store(fs::path(index_path).parent_path());
      if (*pct) {
        const auto a = amplitude_percentiles(entries, store, n, seed);
        const Json j{{"p1", a.p1}, {"p99", a.p99}, {"min", a.min}, {"max", a.max}, {"values", a.values}};
        write_json(out_path, j);
        std::printf("%s\n", j.dump().c_str());
        return 0;
      }
      const auto picked = sample_segments(entries, store, method, n, max_clusters, seed, parse_sampling_features(features));
      const auto& chosen = picked.chosen;
      if (method == "stratified") std::printf("stratified: %d clusters\n", picked.clusters);
      write_file_atomically(out_path, [&](std::ostream& os) {
        for (auto i : chosen) os << entries[i].id << '\n';
      });
      std::printf("wrote %zu of %zu segment ids to %s\n", chosen.size(), entries.size(), out_path.c_str());
      return 0;
    }

    if (o.data_dir.empty() || o.out_dir.empty()) throw Error("--data-dir and --out are required");
    o.dataset = parse_base_dataset(base);
    o.signal.resampler = parse_resampler(resample);
    o.signal.filter = parse_filter_chain(filter);
    parse_shard(shard, o);
    if (limit > 0) o.limit = limit;
    o.require_native_rate = !any_rate;
    if (quiet) {
      o.progress = ProgressStyle::quiet;
      log::set_level(log::Level::error);
    }
    const auto s = run_preprocess(o);
    std::printf("\n%-28s %12s\n", "records listed", std::to_string(s.records).c_str());
    std::printf("%-28s %12s\n", "shards (written/reused/all)",
                (std::to_string(s.shards_written) + "/" + std::to_string(s.shards_reused) + "/" + std::to_string(s.shards_total)).c_str());
    if (s.complete) {
      std::printf("%-28s %12zu\n", "records processed", s.processed);
      std::printf("%-28s %12zu\n", "records skipped", s.skipped);
      std::printf("%-28s %12zu\n", "segments", s.segments);
    } else {
      std::printf("%-28s %12s\n", "index", "waiting for other shards");
    }
    std::printf("%-28s %12zu\n", "records with NaN/Inf", s.records_with_non_finite);
    std::printf("%-28s %12.2f\n", "seconds", s.seconds);
    if (s.seconds > 0) std::printf("%-28s %12.0f\n", "records/s", static_cast<double>(s.records) / s.seconds);
    if (s.skipped > 0) std::printf("skipped records and reasons: %s\n", (o.out_dir / "skipped.jsonl").c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-preprocess: %s\n", e.what());
    return 1;
  }
  return 0;
}
