// Tests for include/ecgbench/synth: rate, PR and QRS measured back from generated beats with a
// simple detector, rhythm regularity, determinism, and the written data set running through
// preprocessing and mapping unchanged.
#include <catch2/catch.hpp>

#include <cmath>

#include "ecgbench/core/log.hpp"
#include "ecgbench/data/data.hpp"
#include "ecgbench/io/wfdb.hpp"
#include "ecgbench/synth/synth.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::synth;

namespace {

struct Measured {
  double hr = 0, rr_cv = 0, pr = 0, qrs = 0;
  std::size_t beats = 0;
};

// Lead II: R peaks = local maxima above half the maximum, 200 ms apart; P peak = maximum 60-400 ms
// before R; QRS = full width at half maximum of R, converted to the 6-sigma width of a Gaussian.
Measured measure(const SyntheticEcg& e) {
  const double fs = e.spec.fs;
  const std::size_t n = e.data.size() / 12;
  auto x = [&](std::size_t t) { return e.data[t * 12 + 1]; };
  double top = 0;
  for (std::size_t t = 0; t < n; ++t) top = std::max(top, x(t));
  std::vector<std::size_t> r;
  for (std::size_t t = 1; t + 1 < n; ++t)
    if (x(t) > 0.5 * top && x(t) >= x(t - 1) && x(t) > x(t + 1) && (r.empty() || t - r.back() > 0.2 * fs)) r.push_back(t);
  Measured m;
  m.beats = r.size();
  std::vector<double> rr;
  for (std::size_t k = 1; k < r.size(); ++k) rr.push_back((r[k] - r[k - 1]) / fs);
  double mean = 0, var = 0;
  for (double v : rr) mean += v / rr.size();
  for (double v : rr) var += (v - mean) * (v - mean) / rr.size();
  m.hr = 60 / mean;
  m.rr_cv = std::sqrt(var) / mean;
  double pr = 0, qrs = 0;
  int np = 0, nq = 0;
  for (auto t : r) {
    // Search the last 40% of the RR interval (at most 330 ms): keeps the previous T wave out.
    const double window = std::min(0.33, 0.4 * mean);
    if (t > window * fs) {
      std::size_t best = t - static_cast<std::size_t>(window * fs);
      for (std::size_t u = best; u < t - static_cast<std::size_t>(0.06 * fs); ++u)
        if (x(u) > x(best)) best = u;
      pr += (t - best) / fs;
      ++np;
    }
    const double half = x(t) / 2;
    std::size_t a = t, b = t;
    while (a > 0 && x(a) > half) --a;
    while (b + 1 < n && x(b) > half) ++b;
    qrs += (b - a) / fs * 6.0 / 2.3548;
    ++nq;
  }
  m.pr = np ? pr / np : 0;
  m.qrs = nq ? qrs / nq : 0;
  return m;
}

SyntheticEcg clean(Rhythm r, double hr, double pr, double qrs, std::uint64_t seed = 1) {
  auto rng = make_rng(seed);
  EcgSpec s;
  s.rhythm = r;
  s.heart_rate = hr;
  s.pr = pr;
  s.qrs = qrs;
  s.noise_mv = 0;
  s.wander_mv = 0;
  s.lead_gain.fill(1.0);
  return generate(s, rng);
}

}  // namespace

TEST_CASE("generated beats have the requested rate, PR and QRS", "[synth]") {
  for (auto [hr, pr, qrs] : {std::tuple{50.0, 0.16, 0.09}, std::tuple{72.0, 0.20, 0.10}, std::tuple{120.0, 0.14, 0.08}, std::tuple{80.0, 0.28, 0.14}}) {
    INFO("hr " << hr << " pr " << pr << " qrs " << qrs);
    const auto m = measure(clean(Rhythm::sinus, hr, pr, qrs));
    CHECK(m.hr == Approx(hr).epsilon(0.04));
    CHECK(m.pr == Approx(pr).margin(0.012));
    CHECK(m.qrs == Approx(qrs).epsilon(0.25));
    CHECK(m.rr_cv < 0.05);  // sinus: regular
  }
  // Classes drawn for a patient land in their ranges.
  auto rng = make_rng(3);
  const auto p = PatientTraits::draw(0, 7);
  CHECK(EcgSpec::make(Rhythm::sinus_bradycardia, p, rng).heart_rate < 60);
  CHECK(EcgSpec::make(Rhythm::sinus_tachycardia, p, rng).heart_rate > 100);
  CHECK(EcgSpec::make(Rhythm::first_degree_av_block, p, rng).pr > 0.2);
  CHECK(EcgSpec::make(Rhythm::bundle_branch_block, p, rng).qrs >= 0.12);
  // Patient traits are stable: the same patient gets the same traits, another patient others.
  CHECK(PatientTraits::draw(0, 7).pr == p.pr);
  CHECK(PatientTraits::draw(0, 8).pr != p.pr);
}

TEST_CASE("atrial fibrillation is irregular and has no P waves, generation is deterministic", "[synth]") {
  auto rng = make_rng(5);
  EcgSpec s;
  s.rhythm = Rhythm::atrial_fibrillation;
  s.heart_rate = 90;
  s.lead_gain.fill(1.0);
  s.seconds = 20;
  const auto af = generate(s, rng);
  const auto m = measure(af);
  CHECK(m.rr_cv > 0.15);
  // Sinus: the P event puts a bump before every R; in AF the pre-R window holds only f-waves.
  const auto sinus = clean(Rhythm::sinus, 90, 0.16, 0.09);
  auto pre_r_bump = [](const SyntheticEcg& e) {
    double sum = 0;
    for (double r : e.r_peaks) {
      const auto t = static_cast<std::size_t>((r - 0.16) * e.spec.fs);
      if (r > 0.5 && t * 12 + 1 < e.data.size()) sum += e.data[t * 12 + 1];
    }
    return sum / static_cast<double>(e.r_peaks.size());
  };
  CHECK(pre_r_bump(sinus) > 0.1);
  CHECK(std::abs(pre_r_bump(af)) < 0.08);
  auto r1 = make_rng(9), r2 = make_rng(9), r3 = make_rng(10);
  EcgSpec t;
  t.lead_gain.fill(1.0);
  CHECK(generate(t, r1).data == generate(t, r2).data);
  auto r4 = make_rng(9);
  CHECK(generate(t, r4).data != generate(t, r3).data);
  EcgSpec bad;
  bad.heart_rate = 400;
  CHECK_THROWS_WITH(generate(bad, r1), Catch::Contains("heart rate"));
}

TEST_CASE("the synthetic data set runs through preprocessing and mapping", "[synth][data]") {
  const auto dir = test::temp_dir() / "synth";
  DatasetOptions o;
  o.records = 30;
  o.seed = 4;
  o.progress = ProgressStyle::quiet;
  const auto s = write_dataset(dir / "data", o);
  CHECK(s.records == 30);
  CHECK(s.questions == 150);
  // Same seed, same bytes.
  write_dataset(dir / "again", o);
  CHECK(read_file(dir / "data/records500/00000/00007_hr.dat") == read_file(dir / "again/records500/00000/00007_hr.dat"));
  CHECK(read_file(dir / "data/ptbxl_database.csv") == read_file(dir / "again/ptbxl_database.csv"));
  // The real PTB-XL reader and the preprocessing pipeline accept it.
  const auto rows = io::read_ptbxl_database(dir / "data/ptbxl_database.csv");
  REQUIRE(rows.size() == 30);
  data::PreprocessOptions p;
  p.data_dir = dir / "data";
  p.out_dir = dir / "pp";
  p.progress = ProgressStyle::quiet;
  const auto old = log::level();
  log::set_level(log::Level::error);
  const auto ps = data::run_preprocess(p);
  log::set_level(old);
  CHECK(ps.processed == 30);
  CHECK(ps.skipped == 0);
  CHECK(ps.segments == 60);
  // Every question maps onto its record's segments.
  const auto index = data::read_segment_index(dir / "pp/index.jsonl");
  std::size_t items = 0, matched = 0;
  for (const char* split : {"train", "test"}) {
    const auto f = dir / "data/ecgqa/ptbxl/template" / split / "synthetic.json";
    const auto r = data::map_items("ecg-qa_ptbxl", data::read_mapping_source("ecg-qa_ptbxl", read_json(f), f.string()), index);
    items += r.items;
    matched += r.matched;
    CHECK(r.unmatched.empty());
  }
  CHECK(items == 150);
  CHECK(matched == 150);
  // Reports and labels agree with the rhythm written into the header comment.
  for (const auto& row : rows) {
    const auto h = io::read_wfdb_header(dir / "data" / row.filename_hr);
    const auto rhythm = h.comment_value("synthetic").value_or("");
    if (rhythm == "atrial fibrillation") CHECK(row.scp_codes[0].first == "AFIB");
    if (rhythm == "sinus rhythm") CHECK(row.report.starts_with("sinus rhythm"));
  }
}

TEST_CASE("a data set restricted to some rhythms: equal shares, only informative questions", "[synth][data]") {
  const auto dir = test::temp_dir() / "synth-rhythms";
  DatasetOptions o;
  o.records = 400;
  o.seed = 2;
  o.seconds = 2;  // short records: only the class draw and the questions matter here
  o.progress = ProgressStyle::quiet;
  o.rhythms = {Rhythm::sinus, Rhythm::sinus_bradycardia, Rhythm::sinus_tachycardia, Rhythm::atrial_fibrillation};
  const auto s = write_dataset(dir, o);
  REQUIRE(s.per_rhythm.size() == 4);
  for (const auto& [name, n] : s.per_rhythm) {
    INFO(name);
    CHECK(n > 70);  // 100 expected each; binomial sd 8.7
    CHECK(n < 130);
  }
  CHECK(s.questions == 3 * 400);  // PR and QRS questions dropped: no class changes their answer
  std::size_t asked_outside = 0;
  for (const char* split : {"train", "test"})
    for (const auto& q : read_json(dir / "ecgqa/ptbxl/template" / split / "synthetic.json")) {
      CHECK(q["template_id"].get<int>() <= 3);
      if (q["template_id"] == 1) {
        const auto r = parse_rhythm(q["attribute"][0].get<std::string>());
        asked_outside += std::find(o.rhythms.begin(), o.rhythms.end(), r) == o.rhythms.end();
      }
    }
  CHECK(asked_outside == 0);
  CHECK(parse_rhythm("af") == Rhythm::atrial_fibrillation);
  CHECK_THROWS_WITH(parse_rhythm("vt"), Catch::Contains("unknown rhythm 'vt'"));
}
