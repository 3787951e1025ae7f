// Tests for include/ecgbench/data: preprocessing against scipy's golden outputs, the shard/index
// layout, resume, splits and sampling.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "ecgbench/core/log.hpp"
#include "ecgbench/data/data.hpp"
#include "ecgbench/io/wfdb_writer.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::data;
namespace fs = std::filesystem;

namespace {
PreprocessOptions ptb_options(const fs::path& data, const fs::path& out) {
  PreprocessOptions o;
  o.dataset = BaseDataset::ptb;
  o.data_dir = data;
  o.out_dir = out;
  o.progress = ProgressStyle::quiet;
  o.signal.filter = FilterChain::none;
  return o;
}
struct QuietLog {
  log::Level old = log::level();
  QuietLog() { log::set_level(log::Level::off); }
  ~QuietLog() { log::set_level(old); }
};
}  // namespace

TEST_CASE("PTB-XL preprocessing equals scipy interp1d cubic + float32 + segments", "[data][preprocess]") {
  ECGBENCH_REQUIRE_TEST_DATA("ptbxl");
  const auto golden = test::data_dir() / "preprocess-golden/none";
  QuietLog quiet;
  const auto out = test::temp_dir() / "pp-ptb";
  auto o = ptb_options(test_data_path, out);
  o.jobs = 2;
  const auto s = run_preprocess(o);
  CHECK(s.complete);
  CHECK(s.records == 11);
  CHECK(s.skipped == 1);  // record 1 has only its 100 Hz version here
  CHECK(s.segments == 20);
  const auto skipped = read_jsonl(out / "skipped.jsonl");
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0]["source"] == "records500/00000/00001_hr");
  const auto index = read_segment_index(out / "index.jsonl");
  REQUIRE(index.size() == 20);
  CHECK(index[0].id == "records500_06000_06000_hr_0");
  CHECK(index[1].id == "records500_06000_06000_hr_1");
  CHECK(index[0].patient_id == "5028");
  CHECK(index[0].report == "sinus rhythm. minor non-specific t wave flattening in v3,4.");
  CHECK(index[0].labels == std::vector<std::string>{"NORM", "NT_", "SR"});
  CHECK(index[0].strat_fold == 10);
  CHECK(index[5].orig_sf == 500.0);
  CHECK(index[5].target_sf == 250.0);
  const auto shard = npy::load(out / "segments-00000.npy");
  CHECK(shard.shape() == std::vector<std::size_t>{20, 12, 1250});
  const auto manifest = read_json(out / "manifest.json");
  CHECK(manifest["segments"] == 20);
  CHECK(manifest["seg_len"] == 1250);

  ECGBENCH_REQUIRE_FIXTURE(golden);
  SegmentStore store(out);
  double worst = 0;
  int compared = 0;
  for (const auto& e : index) {
    const auto g = golden / (e.source.substr(e.source.rfind('/') + 1) + "_" + std::to_string(e.segment) + ".npy");
    if (!fs::exists(g)) continue;
    const auto want = npy::load(g).to_vector<float>();
    const auto got = store.segment(e);
    REQUIRE(want.size() == got.size());
    for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(want[i] - got[i])));
    ++compared;
  }
  CHECK(compared == 10);  // records 6000..6004, two segments each
  CHECK(worst <= 1e-5);
}

namespace {
// Largest difference between the segments of `index` and the golden .npy files named after them.
double worst_vs_golden(const fs::path& out, const fs::path& golden, int& compared) {
  SegmentStore store(out);
  double worst = 0;
  for (const auto& e : read_segment_index(out / "index.jsonl")) {
    const auto g = golden / (e.source.substr(e.source.rfind('/') + 1) + "_" + std::to_string(e.segment) + ".npy");
    REQUIRE(fs::exists(g));
    const auto want = npy::load(g).to_vector<float>();
    const auto got = store.segment(e);
    for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, static_cast<double>(std::abs(want[i] - got[i])));
    ++compared;
  }
  return worst;
}
}  // namespace

TEST_CASE("PTB-XL with --filter paper equals the scipy + PyWavelets chain", "[data][preprocess][paper]") {
  ECGBENCH_REQUIRE_TEST_DATA("ptbxl");
  const auto golden = test::data_dir() / "preprocess-golden/paper";
  const auto stages = test::data_dir() / "preprocess-golden/stages";
  ECGBENCH_REQUIRE_FIXTURE(golden);
  ECGBENCH_REQUIRE_FIXTURE(stages);
  QuietLog quiet;
  // 1. The pipeline as users run it, filters designed here: the goldens' numpy computed cos(w0) of
  //    the notches one ulp above libm's correctly rounded value, which the near-unit-circle poles of
  //    the band-pass and high-pass amplify; the difference stays far below ECG resolution.
  auto o = ptb_options(test_data_path, test::temp_dir() / "pp-paper");
  o.signal.filter = FilterChain::paper;
  o.limit = 6;  // record 1 (skipped) + 6000..6004
  o.jobs = 2;
  const auto s = run_preprocess(o);
  CHECK(s.segments == 10);
  CHECK(read_json(o.out_dir / "manifest.json")["filter"] == "paper");
  int compared = 0;
  CHECK(worst_vs_golden(o.out_dir, golden, compared) <= 5e-5);  // measured 4.3e-5 mV (README)
  CHECK(compared == 10);

  // 2. The same chain with the coefficients scipy produced on the golden machine: the golden
  //    float32 outputs bit for bit.
  auto load = [&](const char* n) { return npy::load(stages / (std::string("06000_hr_leadII_") + n + ".npy")).to_vector<double>(); };
  SignalScratch scratch;
  scratch.filters.emplace(500.0, signal::FilterCoefficients{load("notch50_b"), load("notch50_a")},
                          signal::FilterCoefficients{load("notch60_b"), load("notch60_a")},
                          signal::FilterCoefficients{load("bandpass_b"), load("bandpass_a")},
                          signal::FilterCoefficients{load("highpass_b"), load("highpass_a")});
  SignalOptions so;
  so.filter = FilterChain::paper;
  double worst = 0;
  for (int r = 0; r < 5; ++r) {
    auto ecg = io::read_ecg12(test_data_path / ("records500/06000/0600" + std::to_string(r) + "_hr"));
    const auto out = process_ecg(ecg, so, scratch);
    REQUIRE(out.n_segments == 2);
    for (std::size_t j = 0; j < 2; ++j) {
      const auto want = npy::load(golden / ("0600" + std::to_string(r) + "_hr_" + std::to_string(j) + ".npy")).to_vector<float>();
      for (std::size_t i = 0; i < want.size(); ++i)
        worst = std::max(worst, static_cast<double>(std::abs(want[i] - out.segments[j * want.size() + i])));
    }
  }
  CHECK(worst == 0.0);  // bit for bit (README)
  CHECK_THROWS_WITH(parse_filter_chain("butter"), Catch::Contains("unknown filter 'butter'"));
}

TEST_CASE("preprocessing resumes, splits shards across processes, rejects changed arguments", "[data][preprocess]") {
  ECGBENCH_REQUIRE_TEST_DATA("ptbxl");
  QuietLog quiet;
  const auto out = test::temp_dir() / "pp-resume";
  auto o = ptb_options(test_data_path, out);
  o.records_per_shard = 3;  // 11 records -> 4 shards
  o.shard_index = 0;
  o.shard_count = 2;
  auto s0 = run_preprocess(o);
  CHECK(s0.shards_total == 4);
  CHECK(s0.shards_written == 2);
  CHECK_FALSE(s0.complete);
  CHECK_FALSE(fs::exists(out / "index.jsonl"));
  o.shard_index = 1;
  auto s1 = run_preprocess(o);
  CHECK(s1.shards_written == 2);
  CHECK(s1.complete);
  const auto full = read_segment_index(out / "index.jsonl");
  CHECK(full.size() == 20);
  // Shard 0 holds records 1 (skipped), 6000, 6001 -> 4 segments.
  CHECK(npy::load(out / "segments-00000.npy").shape()[0] == 4);
  // Resume: nothing to redo.
  o.shard_index = 0;
  o.shard_count = 1;
  auto again = run_preprocess(o);
  CHECK(again.shards_written == 0);
  CHECK(again.shards_reused == 4);
  // A damaged shard is detected and rewritten.
  {
    std::ofstream(out / "segments-00002.npy", std::ios::trunc) << "garbage";
  }
  const auto warnings = log::warning_count();
  auto repaired = run_preprocess(o);
  CHECK(repaired.shards_written == 1);
  CHECK(log::warning_count() > warnings);
  CHECK(npy::load(out / "segments-00002.npy").shape()[1] == 12);
  CHECK(read_segment_index(out / "index.jsonl").size() == 20);
  // Different arguments into the same folder: refused.
  o.signal.segment_len = 500;
  CHECK_THROWS_WITH(run_preprocess(o), Catch::Contains("different arguments"));
}

TEST_CASE("preprocessing bad input: missing CSV, missing records, wrong rate, NaN", "[data][preprocess][errors]") {
  QuietLog quiet;
  const auto dir = test::temp_dir() / "pp-bad";
  fs::create_directories(dir / "data");
  CHECK_THROWS_WITH(run_preprocess(ptb_options(dir / "data", dir / "o1")), Catch::Contains("ptbxl_database.csv"));
  CHECK_THROWS_WITH(run_preprocess(ptb_options(dir / "nowhere", dir / "o1")), Catch::Contains("does not exist"));
  // A small PTB-XL-shaped data set written here: one good record, one at 250 Hz, one with NaN
  // digital markers, one missing.
  std::vector<io::WfdbWriteSignal> sigs;
  for (auto l : io::canonical_leads) sigs.push_back({std::string(l), 1000.0, 0, "mV"});
  std::vector<double> x(12 * 5000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::round(500 * std::sin(0.001 * i)) / 1000.0;
  io::write_wfdb_format16(dir / "data/records500/00000", "00001_hr", 500, sigs, x);
  io::write_wfdb_format16(dir / "data/records500/00000", "00002_hr", 250, sigs, x);
  io::write_wfdb_format16(dir / "data/records500/00000", "00003_hr", 500, sigs, x);
  {  // invalid-sample markers (-32768) in lead V1 -> NaN -> 0
    std::fstream f(dir / "data/records500/00000/00003_hr.dat", std::ios::in | std::ios::out | std::ios::binary);
    const std::int16_t marker = -32768;
    for (int t = 100; t < 110; ++t) {
      f.seekp((t * 12 + 6) * 2);
      f.write(reinterpret_cast<const char*>(&marker), 2);
    }
  }
  std::ofstream(dir / "data/ptbxl_database.csv")
      << "ecg_id,patient_id,report,scp_codes,strat_fold,filename_lr,filename_hr\n"
         "1,10.0,ok,\"{'NORM': 100.0}\",1,records100/00000/00001_lr,records500/00000/00001_hr\n"
         "2,11.0,slow,\"{'NORM': 100.0}\",2,records100/00000/00002_lr,records500/00000/00002_hr\n"
         "3,12.0,nan,\"{'AFIB': 100.0}\",3,records100/00000/00003_lr,records500/00000/00003_hr\n"
         "4,13.0,gone,\"{'NORM': 100.0}\",4,records100/00000/00004_lr,records500/00000/00004_hr\n";
  const auto s = run_preprocess(ptb_options(dir / "data", dir / "out"));
  CHECK(s.processed == 2);
  CHECK(s.skipped == 2);
  CHECK(s.records_with_non_finite == 1);
  const auto skipped = read_jsonl(dir / "out/skipped.jsonl");
  REQUIRE(skipped.size() == 2);
  CHECK(skipped[0]["reason"].get<std::string>().find("sampling rate 250") != std::string::npos);
  CHECK(skipped[1]["reason"].get<std::string>().find("00004_hr.hea") != std::string::npos);
  // The NaN record's segments are finite and zero where the markers were (lead V1 = row 6).
  const auto index = read_segment_index(dir / "out/index.jsonl");
  SegmentStore store(dir / "out");
  for (const auto& e : index) {
    const auto seg = store.segment(e);
    for (float v : seg) REQUIRE(std::isfinite(v));
  }
  // Unknown data set and bad arguments.
  CHECK_THROWS_WITH(parse_base_dataset("ptbx"), Catch::Contains("unknown base data set 'ptbx'"));
  auto o = ptb_options(dir / "data", dir / "out2");
  o.shard_index = 2;
  o.shard_count = 2;
  CHECK_THROWS_WITH(run_preprocess(o), Catch::Contains("shard_index / shard_count"));
}

TEST_CASE("CSN records and the CODE-15 layout file preprocess", "[data][preprocess]") {
  ECGBENCH_REQUIRE_TEST_DATA("csn");
  QuietLog quiet;
  auto o = ptb_options(test_data_path, test::temp_dir() / "pp-csn");
  o.dataset = BaseDataset::csn;
  const auto s = run_preprocess(o);
  CHECK(s.processed == 6);
  CHECK(s.segments == 12);
  const auto index = read_segment_index(o.out_dir / "index.jsonl");
  // cinc2021/JS20000 comes first in sorted order; its Dx names become labels and report.
  CHECK(index[0].source == "WFDBRecords/01/010/JS00001");
  CHECK_FALSE(index[0].labels.empty());
  CHECK(index[0].report.find(index[0].labels[0]) == 0);

  const auto c15 = test::data_dir() / "code15-layout";
  ECGBENCH_REQUIRE_FIXTURE(c15);
  const auto dir = test::temp_dir() / "code15";
  fs::create_directories(dir);
  fs::copy_file(c15 / "exams_part_demo.hdf5", dir / "exams_part_demo.hdf5", fs::copy_options::overwrite_existing);
  std::ofstream(dir / "exams.csv") << "exam_id,age,is_male,1dAVb,RBBB,LBBB,SB,ST,AF,patient_id,normal_ecg,trace_file\n"
                                      "6000,59,False,False,False,False,False,False,False,1,True,exams_part_demo.hdf5\n"
                                      "6001,78,False,False,False,False,False,False,True,2,False,exams_part_demo.hdf5\n"
                                      "777,1,True,False,False,False,False,False,False,3,True,exams_part_demo.hdf5\n";
  auto oc = ptb_options(dir, dir / "out");
  oc.dataset = BaseDataset::code15;
  const auto sc = run_preprocess(oc);
  CHECK(sc.processed == 2);
  CHECK(sc.skipped == 1);  // exam 777 is not in the file
  CHECK(sc.segments == 4);  // 4096 @ 400 Hz -> 2560 @ 250 Hz -> 2 x 1250
  const auto idx = read_segment_index(dir / "out/index.jsonl");
  CHECK(idx[0].id == "6000_0");
  CHECK(idx[2].labels == std::vector<std::string>{"AF"});
  CHECK(idx[0].orig_sf == 400.0);
}

TEST_CASE("patient-stratified folds: no patient overlap, balanced labels", "[data][split]") {
  std::vector<SegmentEntry> entries;
  auto rng = make_rng(5);
  for (int p = 0; p < 200; ++p) {
    const int segs = 1 + static_cast<int>(uniform_index(rng, 4));
    std::vector<std::string> labels{p % 10 == 0 ? "AFIB" : "NORM"};
    if (p % 3 == 0) labels.push_back("LVH");
    for (int j = 0; j < segs; ++j) {
      SegmentEntry e;
      e.id = "p" + std::to_string(p) + "_" + std::to_string(j);
      e.patient_id = std::to_string(p);
      e.labels = labels;
      entries.push_back(e);
    }
  }
  const auto fold = patient_stratified_folds(entries, 5, 42);
  std::map<std::string, int> patient_fold;
  std::vector<int> size(5), afib(5);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    REQUIRE(fold[i] >= 0);
    auto [it, fresh] = patient_fold.emplace(entries[i].patient_id, fold[i]);
    REQUIRE(it->second == fold[i]);  // zero patient overlap
    ++size[fold[i]];
    afib[fold[i]] += entries[i].labels[0] == "AFIB";
  }
  const double mean = entries.size() / 5.0;
  int afib_total = 0;
  for (int f = 0; f < 5; ++f) {
    CHECK(std::abs(size[f] - mean) <= 0.1 * mean);
    afib_total += afib[f];
  }
  for (int f = 0; f < 5; ++f) CHECK(std::abs(afib[f] - afib_total / 5.0) <= 4);
  CHECK(patient_stratified_folds(entries, 5, 42) == fold);  // deterministic
  CHECK_THROWS_WITH(patient_stratified_folds(entries, 1), Catch::Contains("at least 2"));
  entries[0].strat_fold = 7;
  CHECK_THROWS_WITH(strat_fold_folds(entries, 5), Catch::Contains("no strat_fold"));
}

TEST_CASE("sampling: random without replacement, stratified covers clusters, percentiles", "[data][sampling]") {
  const auto r = sample_random(100, 30, 1);
  CHECK(r.size() == 30);
  CHECK(std::set<std::size_t>(r.begin(), r.end()).size() == 30);
  CHECK(sample_random(10, 50, 1).size() == 10);
  // Three well-separated blobs of different sizes: an equal share from each.
  Eigen::MatrixXd X(300, 4);
  auto rng = make_rng(3);
  for (int i = 0; i < 300; ++i) {
    const int c = i < 200 ? 0 : (i < 270 ? 1 : 2);
    for (int d = 0; d < 4; ++d) X(i, d) = 10.0 * c * (d == c ? 1 : 0) + normal(rng) * 0.3;
  }
  const auto s = sample_stratified(X, 30, 8, 7);
  CHECK(s.chosen.size() == 30);
  CHECK(std::set<std::size_t>(s.chosen.begin(), s.chosen.end()).size() == 30);
  int from_small = 0;
  for (auto i : s.chosen) from_small += i >= 270;
  CHECK(from_small >= 5);  // random sampling would give ~3
  CHECK(percentile({1, 2, 3, 4}, 50) == 2.5);
  CHECK(percentile({10, 0}, 99) == Approx(9.9));
  // Features of a constant lead: std 0, percentiles equal the value, derivative terms 0.
  std::vector<float> seg(2 * 5, 2.0f);
  const auto f = morphology_features(seg, 2, 5);
  CHECK(f.size() == 18);
  CHECK(f[0] == 2.0);
  CHECK(f[1] == 0.0);
  CHECK(f[4] == 2.0);
  CHECK(f[7] == 0.0);
}

TEST_CASE("segment sampling and amplitude statistics on a segment folder", "[data][sampling]") {
  // 6 segments of 12 x 250 samples; segment i holds sin(t) * (i + 1) on every lead.
  const auto dir = test::temp_dir() / "sampling-store";
  fs::create_directories(dir);
  const std::size_t n = 6, L = 250;
  std::vector<float> all(n * 12 * L);
  std::string index;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < 12 * L; ++k) all[i * 12 * L + k] = static_cast<float>(std::sin(0.05 * double(k % L)) * double(i + 1));
    SegmentEntry e;
    e.id = "r" + std::to_string(i) + "_0", e.source = "r" + std::to_string(i), e.shard = 0, e.row = i, e.segment_len = L, e.orig_sf = 250, e.target_sf = 250;
    index += to_json(e).dump() + "\n";
  }
  const std::size_t shape[3] = {n, 12, L};
  npy::save<float>(shard_path(dir, 0), all, shape);
  write_file_atomically(dir / "index.jsonl", index);
  const auto entries = read_segment_index(dir / "index.jsonl");
  SegmentStore store(dir);
  const auto a = amplitude_percentiles(entries, store, 600, 1);
  const float peak = *std::max_element(all.begin(), all.end()), trough = *std::min_element(all.begin(), all.end());
  CHECK(a.max == peak);  // exact over every value
  CHECK(a.min == trough);
  CHECK(a.values == 600);  // 100 per segment
  CHECK((a.p1 >= a.min && a.p1 < 0 && a.p99 > 0 && a.p99 <= a.max));
  // Feature rows: upstream's extractor per segment (288 columns) or the statistics (108).
  const auto F = segment_feature_matrix(entries, store, SamplingFeatures::upstream, 250, 2);
  REQUIRE(F.rows() == 6);
  REQUIRE(F.cols() == 288);
  const signal::EcgFeatureExtractor ex(250);
  const auto row3 = ex.features(store.segment(entries[3]), 12);
  for (std::size_t c = 0; c < row3.size(); ++c) CHECK(F(3, static_cast<Eigen::Index>(c)) == row3[c]);
  CHECK(segment_feature_matrix(entries, store, SamplingFeatures::morphology).cols() == 108);
  const auto rnd = sample_segments(entries, store, "random", 4, 0, 9);
  CHECK(rnd.chosen.size() == 4);
  const auto str = sample_segments(entries, store, "stratified", 4, 3, 9);
  CHECK(str.chosen.size() == 4);
  CHECK(str.clusters >= 2);
  CHECK_THROWS_WITH(sample_segments(entries, store, "kmeans", 4, 3, 9), Catch::Contains("unknown sampling method 'kmeans'"));
  CHECK_THROWS_WITH(parse_sampling_features("pca"), Catch::Contains("upstream or morphology"));
}
