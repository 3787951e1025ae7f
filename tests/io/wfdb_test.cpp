// Tests for include/ecgbench/io/wfdb*.hpp against WFDB's own rdsamp outputs (shared/data/wfdb-formats)
// and the real PTB-XL, CSN, MIT-BIH and PTB records.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "ecgbench/core/log.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/io/wfdb.hpp"
#include "ecgbench/io/wfdb_writer.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::io;
namespace fs = std::filesystem;

namespace {

// Reads a whitespace-separated table (rdsamp output); gzip files through zcat.
std::vector<std::vector<double>> read_table(const fs::path& p) {
  std::string text;
  if (p.extension() == ".gz") {
    std::string cmd = "zcat '" + p.string() + "'";
    FILE* f = popen(cmd.c_str(), "r");
    REQUIRE(f != nullptr);
    char buf[65536];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    pclose(f);
  } else {
    text = read_file(p);
  }
  std::vector<std::vector<double>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<double> row;
    double v;
    while (ls >> v) row.push_back(v);
    if (!row.empty()) rows.push_back(std::move(row));
  }
  return rows;
}

// Compares record rows [first, first + expected.size()) of `signals` with rdsamp's table.
void check_digital(const WfdbRecord& rec, const std::vector<std::vector<double>>& expected, std::int64_t first,
                   const std::vector<int>& signals) {
  REQUIRE(first + static_cast<std::int64_t>(expected.size()) <= rec.n_samples);
  std::size_t mismatches = 0;
  for (std::size_t r = 0; r < expected.size(); ++r) {
    REQUIRE(expected[r].size() == signals.size());
    for (std::size_t c = 0; c < signals.size(); ++c)
      if (rec.at(first + static_cast<std::int64_t>(r), signals[c]) != static_cast<std::int32_t>(expected[r][c])) {
        if (mismatches++ < 5) FAIL_CHECK("row " << r << " signal " << signals[c] << ": " << rec.at(first + r, signals[c]) << " != " << expected[r][c]);
      }
  }
  CHECK(mismatches == 0);
}

void check_physical(const WfdbRecord& rec, const std::vector<std::vector<double>>& expected, std::int64_t first,
                    const std::vector<int>& signals) {
  double worst = 0;
  for (std::size_t r = 0; r < expected.size(); ++r)
    for (std::size_t c = 0; c < signals.size(); ++c)
      worst = std::max(worst, std::abs(rec.physical_at(first + static_cast<std::int64_t>(r), signals[c]) - expected[r][c]));
  CHECK(worst <= 5.1e-9);  // rdsamp -P prints 8 decimals
}

}  // namespace

TEST_CASE("WFDB header: record, signal and comment lines", "[io][wfdb]") {
  const std::string text =
      "03700181/1 3 125/1000(20) 75000 17:27:45 15/08/1994\n"
      "seg1 75000\n";
  const auto ms = parse_wfdb_header(text, "m.hea");
  CHECK(ms.n_segments == 1);
  CHECK(ms.counter_frequency == 1000.0);
  CHECK(ms.base_counter == 20.0);
  REQUIRE(ms.segments.size() == 1);

  const auto h = parse_wfdb_header(
      "rec 3 360.0 999\n"
      "rec.dat 212x4:2+24 200(1024)/mV 11 1024 995 43172 0 lead I extra\n"
      "\n"
      "rec.dat 16 12.84(-1605)/mmHg\n"
      "rec.dat 16\n"
      "#Dx: 164934002,426783006\n"
      "# Age: 59\n",
      "rec.hea");
  CHECK(h.sampling_frequency == 360.0);
  CHECK(h.n_samples == 999);
  REQUIRE(h.signals.size() == 3);
  const auto& s = h.signals[0];
  CHECK(s.format == 212);
  CHECK(s.samples_per_frame == 4);
  CHECK(s.skew == 2);
  CHECK(s.byte_offset == 24);
  CHECK(s.gain == 200.0);
  CHECK(s.baseline == 1024.0);
  CHECK(s.adc_resolution == 11);
  CHECK(s.adc_zero == 1024);
  CHECK(s.init_value == 995);
  CHECK(s.checksum == 43172);
  CHECK(s.description == "lead I extra");
  CHECK(h.signals[1].baseline == -1605.0);
  CHECK(h.signals[1].units == "mmHg");
  CHECK(h.signals[2].gain == wfdb_default_gain);
  CHECK_FALSE(h.signals[2].gain_given);
  CHECK(h.comment_value("dx") == "164934002,426783006");
  CHECK(h.comment_value("Age") == "59");
  // Serialising and parsing again reaches a fixed point.
  const auto again = parse_wfdb_header(to_string(h), "again.hea");
  CHECK(to_string(again) == to_string(h));
}

TEST_CASE("WFDB header errors name file, line and field", "[io][wfdb][errors]") {
  CHECK_THROWS_WITH(parse_wfdb_header("r 2 500 10\nr.dat 16 1000/mV\n", "two.hea"),
                    Catch::Contains("two.hea") && Catch::Contains("declares 2 signals but the header has 1"));
  CHECK_THROWS_WITH(parse_wfdb_header("r 1 500 10\nr.dat 16 abc/mV\n", "gain.hea"),
                    Catch::Contains("gain.hea:2") && Catch::Contains("invalid gain 'abc'"));
  CHECK_THROWS_WITH(parse_wfdb_header("r 1 500 10\nr.dat 999 200\n", "fmt.hea"),
                    Catch::Contains("fmt.hea:2") && Catch::Contains("unsupported WFDB signal format 999"));
  CHECK_THROWS_WITH(parse_wfdb_header("r 1 fast 10\n", "fs.hea"), Catch::Contains("fs.hea:1") && Catch::Contains("sampling frequency"));
  CHECK_THROWS_WITH(parse_wfdb_header("\n# only a comment\n", "empty.hea"), Catch::Contains("no record line"));
  CHECK_THROWS_WITH(parse_wfdb_header("r 1 500 10\nr.dat 16 200 16 0 0 0 0 x\nr.dat 16\n", "extra.hea"),
                    Catch::Contains("more signal lines"));
}

TEST_CASE("every binary format decodes to rdsamp's values", "[io][wfdb]") {
  ECGBENCH_REQUIRE_TEST_DATA("wfdb-formats");
  const auto rec = read_wfdb(test_data_path / "binformats");
  REQUIRE(rec.n_signals() == 10);
  const auto expected = read_table(test_data_path / "expected/record-1f.gz");
  REQUIRE(expected.size() == 499);
  check_digital(rec, expected, 0, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("WFDB records match rdsamp: fmt 16, .mat, 212 odd length, skew and multi-frequency", "[io][wfdb]") {
  ECGBENCH_REQUIRE_TEST_DATA("wfdb-formats");
  const auto before = log::warning_count();
  SECTION("test01_00s, format 16") {
    const auto rec = read_wfdb(test_data_path / "test01_00s");
    check_digital(rec, read_table(test_data_path / "expected/record-1a"), 0, {0, 1, 2, 3});
    CHECK(rec.header.comments.size() == 1);
  }
  SECTION("a103l, MATLAB v4 .mat via 16+24") {
    const auto rec = read_wfdb(test_data_path / "a103l.hea");
    CHECK(rec.n_samples == 82500);
    check_digital(rec, read_table(test_data_path / "expected/record-1c"), 20000, {0, 1});
  }
  SECTION("100_3chan, format 212 with an odd number of samples, physical") {
    const auto rec = read_wfdb(test_data_path / "100_3chan");
    CHECK(rec.n_samples == 999);
    check_physical(rec, read_table(test_data_path / "expected/record-2c"), 0, {0, 1, 2});
  }
  SECTION("03700181, 212x4 and 212:4 skew, physical") {
    const auto rec = read_wfdb(test_data_path / "03700181");
    CHECK(rec.header.base_time == "17:27:45");
    CHECK(rec.header.signals[0].samples_per_frame == 4);
    CHECK(rec.header.signals[2].skew == 4);
    check_physical(rec, read_table(test_data_path / "expected/record-4c"), 1000, {0, 2});
  }
  CHECK(log::warning_count() == before);  // all checksums in these files are right
}

TEST_CASE("MIT-BIH 100 signal V5 matches rdsamp", "[io][wfdb]") {
  ECGBENCH_REQUIRE_TEST_DATA("mitdb");
  const auto rec = read_wfdb(test_data_path / "100");
  CHECK(rec.n_samples == 650000);
  const auto dir = test::data_dir() / "wfdb-formats/expected/record-2b";
  ECGBENCH_REQUIRE_FIXTURE(dir);
  check_digital(rec, read_table(dir), 1, {1});
}

TEST_CASE("PTB-XL records500 and the CinC .mat copies give identical samples", "[io][wfdb][ptbxl]") {
  ECGBENCH_REQUIRE_TEST_DATA("ptbxl");
  const auto before = log::warning_count();
  for (int i = 0; i < 10; ++i) {
    char a[64], b[64];
    std::snprintf(a, sizeof a, "records500/06000/0600%d_hr", i);
    std::snprintf(b, sizeof b, "cinc2021/HR0600%d", i);
    const auto ra = read_wfdb(test_data_path / a);
    const auto rb = read_wfdb(test_data_path / b);
    REQUIRE(ra.n_samples == 5000);
    REQUIRE(ra.digital == rb.digital);
    const auto ea = read_ecg12(test_data_path / a), eb = read_ecg12(test_data_path / b);
    CHECK(ea.data == eb.data);
    CHECK(ea.sampling_frequency == 500.0);
  }
  // PTB-XL writes checksums unsigned, the CinC copy signed: both accepted without warnings.
  CHECK(log::warning_count() == before);
  // Physical value = digital / 1000 (gain 1000/mV, baseline 0), lead aVR in canonical slot 3.
  const auto rec = read_wfdb(test_data_path / "records500/06000/06000_hr");
  const auto ecg = read_ecg12(test_data_path / "records500/06000/06000_hr");
  CHECK(ecg.lead(3)[0] == Approx(rec.at(0, 3) / 1000.0));
  CHECK(rec.at(0, 3) == 5);  // header init value of AVR
  const auto lr = read_ecg12(test_data_path / "records100/00000/00001_lr");
  CHECK(lr.sampling_frequency == 100.0);
  CHECK(lr.n_samples == 1000);
}

TEST_CASE("CSN, PTB (15 leads, two files, lowercase) read in canonical order", "[io][wfdb]") {
  ECGBENCH_REQUIRE_TEST_DATA("csn");
  const auto js = read_ecg12(test_data_path / "WFDBRecords/01/010/JS00001");
  CHECK(js.n_samples == 5000);
  const auto h = read_wfdb_header(test_data_path / "WFDBRecords/01/010/JS00001");
  CHECK(h.comment_value("Dx").has_value());
  for (int i = 0; i < 5; ++i) CHECK_NOTHROW(read_ecg12(test_data_path / ("cinc2021/JS2000" + std::to_string(i))));
  const auto ptb_dir = test::data_dir() / "ptbdb";
  ECGBENCH_REQUIRE_FIXTURE(ptb_dir);
  const auto before = log::warning_count();
  const auto ptb = read_wfdb(ptb_dir / "s0010_re");
  CHECK(ptb.n_signals() == 15);
  CHECK(log::warning_count() == before);  // checksums of both files verified
  const auto e = read_ecg12(ptb_dir / "s0010_re");
  CHECK(e.n_samples == 38400);
  // 'avl' is signal 4 in the file and canonical slot 4; 'v1' signal 6.
  CHECK(e.lead(4)[10] == Approx((ptb.at(10, 4)) / 2000.0));
  CHECK(e.lead(6)[10] == Approx((ptb.at(10, 6)) / 2000.0));
}

TEST_CASE("lead names are matched tolerantly", "[io][leads]") {
  CHECK(canonical_lead_index("AVR") == 3);
  CHECK(canonical_lead_index("aVR") == 3);
  CHECK(canonical_lead_index("avl") == 4);
  CHECK(canonical_lead_index(" v6 ") == 11);
  CHECK(canonical_lead_index("Lead II") == 1);
  CHECK_FALSE(canonical_lead_index("MLII").has_value());
  CHECK_FALSE(canonical_lead_index("vx").has_value());
}

TEST_CASE("bad WFDB input gives clear errors, never a crash", "[io][wfdb][errors]") {
  ECGBENCH_REQUIRE_TEST_DATA("ptbxl/records500/06000");
  const auto dir = test::temp_dir() / "badwfdb";
  fs::create_directories(dir);
  const std::string hea = read_file(test_data_path / "06000_hr.hea");
  const std::string dat = read_file(test_data_path / "06000_hr.dat");
  auto put = [&](const std::string& name, const std::string& bytes) { std::ofstream(dir / name, std::ios::binary) << bytes; };

  put("06000_hr.hea", hea);
  put("06000_hr.dat", dat.substr(0, dat.size() / 2));
  CHECK_THROWS_WITH(read_wfdb(dir / "06000_hr"), Catch::Contains("06000_hr.dat") && Catch::Contains("truncated signal file"));
  fs::remove(dir / "06000_hr.dat");
  CHECK_THROWS_WITH(read_wfdb(dir / "06000_hr"), Catch::Contains("06000_hr.dat") && Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(read_wfdb(dir / "nothing"), Catch::Contains("nothing.hea"));
  // A wrong checksum is a warning, not an error.
  put("06000_hr.dat", dat);
  std::string bad_sum = hea;
  bad_sum.replace(bad_sum.find("23323"), 5, "23324");
  put("06000_hr.hea", bad_sum);
  const auto before = log::warning_count();
  const auto lvl = log::level();
  log::set_level(log::Level::error);
  CHECK_NOTHROW(read_wfdb(dir / "06000_hr"));
  log::set_level(lvl);
  CHECK(log::warning_count() == before + 1);
  // Missing lead for read_ecg12.
  std::string no_v6 = hea;
  no_v6.replace(no_v6.rfind("V6"), 2, "XX");
  put("06000_hr.hea", no_v6);
  CHECK_THROWS_WITH(read_ecg12(dir / "06000_hr"), Catch::Contains("has no lead V6"));

  // Fuzz-style loop: random corruption of header text and signal bytes must end in a result or
  // an ecgbench::Error, nothing else.
  auto rng = make_rng(2024);
  int errors = 0, reads = 0;
  for (int iter = 0; iter < 300; ++iter) {
    std::string h = hea, d = dat;
    const int edits = 1 + static_cast<int>(uniform_index(rng, 6));
    for (int e = 0; e < edits; ++e) {
      const auto pos = uniform_index(rng, h.size());
      switch (uniform_index(rng, 4)) {
        case 0: h[pos] = static_cast<char>(uniform_index(rng, 256)); break;
        case 1: h.erase(pos, uniform_index(rng, 8)); break;
        case 2: h.insert(pos, std::string(1 + uniform_index(rng, 3), "0123456789 x+:/()#\n-"[uniform_index(rng, 20)])); break;
        default: d.resize(uniform_index(rng, d.size() + 1)); break;
      }
    }
    put("06000_hr.hea", h);
    put("06000_hr.dat", d);
    log::set_level(log::Level::off);
    try {
      const auto r = read_wfdb(dir / "06000_hr");
      ++reads;
      CHECK(r.digital.size() == static_cast<std::size_t>(r.n_samples) * r.n_signals());
    } catch (const Error&) {
      ++errors;
    }
    log::set_level(lvl);
  }
  CHECK(errors + reads == 300);
  CHECK(errors > 0);
}

TEST_CASE("format-16 writer round-trips through the reader", "[io][wfdb]") {
  const auto dir = test::temp_dir() / "writer";
  std::vector<WfdbWriteSignal> sigs;
  for (auto l : canonical_leads) sigs.push_back({std::string(l), 1000.0, 0, "mV"});
  // Leads stored in reverse file order to check canonical reordering on read.
  std::reverse(sigs.begin(), sigs.end());
  std::vector<double> x(12 * 300);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::round(1000 * std::sin(0.01 * i) * (1 + i % 12)) / 1000.0;
  write_wfdb_format16(dir, "synth", 500, sigs, x, {"Age: 40"});
  const auto rec = read_wfdb(dir / "synth");
  CHECK(rec.n_samples == 300);
  CHECK(rec.header.comment_value("age") == "40");
  for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(rec.physical_at(i / 12, i % 12) == Approx(x[i]).margin(1e-12));
  const auto ecg = read_ecg12(dir / "synth");
  // Canonical lead I was file column 11.
  for (std::size_t t = 0; t < 300; ++t) REQUIRE(ecg.lead(0)[t] == Approx(x[t * 12 + 11]).margin(1e-12));
  std::vector<double> bad = x;
  bad[5] = std::nan("");
  CHECK_THROWS_WITH(write_wfdb_format16(dir, "bad", 500, sigs, bad), Catch::Contains("does not fit"));
  CHECK_FALSE(fs::exists(dir / "bad.hea"));
}

TEST_CASE("multi-segment records concatenate segments, with layout and null segments", "[io][wfdb]") {
  const auto dir = test::temp_dir() / "multiseg";
  std::vector<WfdbWriteSignal> two{{"II", 200.0, 0, "mV"}, {"V5", 200.0, 0, "mV"}};
  std::vector<double> a(2 * 30), b(2 * 20);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<double>(i) / 200.0;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = -static_cast<double>(i) / 200.0;
  write_wfdb_format16(dir, "seg_1", 360, two, a);
  // Segment 2 stores only V5 (signal missing in a segment -> gap for II).
  std::vector<double> b5(20);
  for (std::size_t i = 0; i < 20; ++i) b5[i] = b[i * 2 + 1];
  write_wfdb_format16(dir, "seg_2", 360, {two[1]}, b5);
  std::ofstream(dir / "multi.hea") << "multi/4 2 360 60\nmulti_layout 0\nseg_1 30\n~ 10\nseg_2 20\n";
  std::ofstream(dir / "multi_layout.hea") << "multi_layout 2 360 0\n~ 0 200/mV 16 0 0 0 0 II\n~ 0 200/mV 16 0 0 0 0 V5\n";
  const auto rec = read_wfdb(dir / "multi");
  REQUIRE(rec.n_samples == 60);
  REQUIRE(rec.n_signals() == 2);
  for (int t = 0; t < 30; ++t) {
    CHECK(rec.physical_at(t, 0) == Approx(a[t * 2]));
    CHECK(rec.physical_at(t, 1) == Approx(a[t * 2 + 1]));
  }
  for (int t = 30; t < 40; ++t) CHECK(rec.at(t, 0) == wfdb_invalid_sample);  // null segment
  for (int t = 40; t < 60; ++t) {
    CHECK(rec.at(t, 0) == wfdb_invalid_sample);  // II absent from segment 2
    CHECK(rec.physical_at(t, 1) == Approx(b5[t - 40]));
  }
}
