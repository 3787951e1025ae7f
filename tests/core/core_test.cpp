// Tests for include/ecgbench/core: errors, npy, atomic writes, parallel_for, RNG, progress, JSON.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>

#include "ecgbench/core/core.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
namespace fs = std::filesystem;

TEST_CASE("Error formats file, line, offset and context", "[core][error]") {
  Error e({"rec.hea", 3, {}, "gain"}, "non-numeric gain 'abc'");
  CHECK(std::string(e.what()) == "rec.hea:3: non-numeric gain 'abc' (gain)");
  Error b({"x.dat", {}, 12, {}}, "truncated");
  CHECK(std::string(b.what()) == "x.dat: byte 12: truncated");
  CHECK(b.where().offset == 12u);
}

TEST_CASE("npy reads numpy-written golden files", "[core][npy]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden/gpt2");
  const auto ids = npy::load(test_data_path / "input_ids.npy");
  CHECK(ids.dtype() == npy::DType::i64);
  REQUIRE(ids.shape() == std::vector<std::size_t>{2, 9});
  const auto mask = npy::load(test_data_path / "attention_mask.npy").to_vector<int>();
  // Documented convention: row 1 is left-padded with exactly 3 pads, row 0 never padded.
  CHECK(std::vector<int>(mask.begin(), mask.begin() + 9) == std::vector<int>(9, 1));
  CHECK(std::vector<int>(mask.begin() + 9, mask.end()) == std::vector<int>{0, 0, 0, 1, 1, 1, 1, 1, 1});
  const auto logits = npy::load(test_data_path / "logits.npy");
  CHECK(logits.dtype() == npy::DType::f32);
  CHECK(logits.shape().size() == 3);
  CHECK(logits.view<float>().size() == logits.size());
  // Our writer produces byte-for-byte the header numpy wrote for this [2, 9] int64 array.
  const std::string file = read_file(test_data_path / "input_ids.npy");
  const std::vector<std::size_t> shape{2, 9};
  const std::string ours = npy::make_header(npy::DType::i64, shape);
  CHECK(file.substr(0, ours.size()) == ours);
}

TEST_CASE("npy round trip for every dtype, header byte layout", "[core][npy]") {
  const auto dir = test::temp_dir();
  auto round_trip = [&]<class T>(std::vector<T> v, std::vector<std::size_t> shape) {
    const auto p = dir / "rt.npy";
    npy::save<T>(p, std::span<const T>(v), std::span<const std::size_t>(shape));
    const auto a = npy::load(p);
    CHECK(a.shape() == shape);
    CHECK(a.template to_vector<T>() == v);
  };
  round_trip(std::vector<float>{1.5f, -2.f, 3.25f, 0.f, 1e-7f, 7.f}, {2, 3});
  round_trip(std::vector<double>{3.141592653589793, -1e300}, {2});
  round_trip(std::vector<std::int16_t>{-32768, 32767, 0}, {3, 1});
  round_trip(std::vector<std::int32_t>{-5, 6}, {1, 2});
  round_trip(std::vector<std::int64_t>{1ll << 40}, {1});
  round_trip(std::vector<std::uint8_t>{0, 255, 7, 8}, {2, 2});
  round_trip(std::vector<float>{}, {0, 12});

  const std::vector<std::size_t> shape{2, 3};
  const std::string h = npy::make_header(npy::DType::f32, shape);
  CHECK(h.size() == 128);
  CHECK(h.substr(10, 60) == "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } ");
  CHECK(h.back() == '\n');
  const std::vector<std::size_t> one{5};
  CHECK(npy::make_header(npy::DType::i64, one).find("'shape': (5,), }") != std::string::npos);
}

TEST_CASE("npy reads empty arrays whatever dimension is zero", "[core][npy]") {
  const auto dir = test::temp_dir();
  for (const auto& shape : std::vector<std::vector<std::size_t>>{{12, 0}, {0, 12}, {3, 0, 5}, {0}}) {
    const auto f = dir / "empty.npy";
    npy::save<float>(f, std::span<const float>(), std::span<const std::size_t>(shape));
    // The header is numpy's own text for the shape (np.zeros((12, 0), np.float32) writes '(12, 0)').
    const auto a = npy::load(f);
    CHECK(a.shape() == shape);
    CHECK(a.size() == 0);
    CHECK(a.to_vector<float>().empty());
  }
}

TEST_CASE("npy rejects bad files with the file name", "[core][npy]") {
  const auto dir = test::temp_dir();
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return dir / name;
  };
  CHECK_THROWS_WITH(npy::load(write("magic.npy", "hello world")), Catch::Contains("magic.npy") && Catch::Contains("bad magic"));
  std::vector<float> v(6, 1.f);
  npy::save(dir / "good.npy", v, {2, 3});
  std::string good = read_file(dir / "good.npy");
  CHECK_THROWS_WITH(npy::load(write("trunc.npy", good.substr(0, good.size() - 4))), Catch::Contains("truncated .npy data"));
  std::string fortran = good;
  fortran.replace(fortran.find("False"), 5, "True ");
  CHECK_THROWS_WITH(npy::load(write("fortran.npy", fortran)), Catch::Contains("Fortran-order"));
  std::string big = good;
  big.replace(big.find("<f4"), 3, ">f4");
  CHECK_THROWS_WITH(npy::load(write("big.npy", big)), Catch::Contains("unsupported .npy dtype '>f4'"));
  std::string huge = good;
  huge.replace(huge.find("(2, 3)"), 6, "(99999999999, 99999999999)");
  CHECK_THROWS_WITH(npy::load(write("huge.npy", huge)), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(npy::load(dir / "missing.npy"), Catch::Contains("missing.npy") && Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(npy::load(dir / "good.npy").view<double>(), Catch::Contains("dtype is <f4"));
}

TEST_CASE("atomic write leaves old content on failure and no temporaries", "[core][atomic]") {
  const auto dir = test::temp_dir() / "atomic";
  const auto p = dir / "out.txt";
  write_file_atomically(p, "first");
  CHECK(read_file(p) == "first");
  CHECK_THROWS_AS(write_file_atomically(p, [](std::ostream& o) {
                    o << "partial";
                    throw Error("interrupted");
                  }),
                  Error);
  CHECK(read_file(p) == "first");
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++files;
  CHECK(files == 1);
}

TEST_CASE("parallel_for visits every index once and rethrows", "[core][parallel]") {
  for (unsigned threads : {1u, 2u, 4u, 0u}) {
    std::vector<std::atomic<int>> seen(1000);
    parallel_for(seen.size(), threads, [&](std::size_t i) { seen[i].fetch_add(1); }, 7);
    for (auto& s : seen) REQUIRE(s.load() == 1);
  }
  std::set<unsigned> workers;
  std::mutex m;
  parallel_for(64, 2, [&](std::size_t, unsigned w) {
    std::lock_guard l(m);
    workers.insert(w);
  });
  CHECK(*workers.rbegin() < 2);
  CHECK_THROWS_WITH(parallel_for(100, 3, [](std::size_t i) {
                      if (i == 42) throw Error("job 42 failed");
                    }),
                    "job 42 failed");
}

TEST_CASE("seeded RNG is reproducible and matches reference values", "[core][random]") {
  // SplitMix64 from state 0: first output 0xE220A8397B1DCDAF (Vigna's reference implementation).
  CHECK(mix_seed(0) == 0xE220A8397B1DCDAFull);
  // The C++ standard fixes mt19937_64's 10000th output for the default seed.
  Rng std_engine;
  std_engine.discard(9999);
  CHECK(std_engine() == 9981545732273789042ull);
  auto a = make_rng(7), b = make_rng(7), c = make_rng(7, 1);
  CHECK(a() == b());
  CHECK(make_rng(7)() != c());
  // Moments of the portable normal and uniform index.
  auto r = make_rng(1);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = normal(r);
    sum += x;
    sq += x * x;
  }
  CHECK(std::abs(sum / n) < 0.01);
  CHECK(std::abs(sq / n - 1.0) < 0.02);
  std::vector<int> counts(3);
  for (int i = 0; i < 30000; ++i) ++counts[uniform_index(r, 3)];
  for (int k : counts) CHECK(std::abs(k - 10000) < 400);
  std::vector<int> v{0, 1, 2, 3, 4, 5, 6, 7};
  auto s1 = make_rng(3), s2 = make_rng(3);
  auto v1 = v, v2 = v;
  shuffle(v1, s1);
  shuffle(v2, s2);
  CHECK(v1 == v2);
  CHECK(std::multiset<int>(v1.begin(), v1.end()) == std::multiset<int>(v.begin(), v.end()));
}

TEST_CASE("progress counts, formats durations and writes lines", "[core][progress]") {
  CHECK(Progress::format_duration(7.4) == "7s");
  CHECK(Progress::format_duration(125) == "2m05s");
  CHECK(Progress::format_duration(3723) == "1h02m03s");
  std::FILE* f = std::tmpfile();
  {
    Progress p("records", 10, "records", ProgressStyle::lines, f);
    parallel_for(10, 2, [&](std::size_t) { p.tick(); });
    CHECK(p.done() == 10);
  }
  std::rewind(f);
  char buf[256] = {};
  REQUIRE(std::fgets(buf, sizeof buf, f) != nullptr);
  std::fclose(f);
  CHECK(std::string(buf).starts_with("records: 10/10 records, "));
  std::FILE* q = std::tmpfile();
  { Progress quiet("x", 5, "items", ProgressStyle::quiet, q); quiet.tick(5); }
  CHECK(std::ftell(q) == 0);
  std::fclose(q);
}

TEST_CASE("JSON and JSONL helpers report file and line", "[core][json]") {
  const auto dir = test::temp_dir();
  write_jsonl(dir / "a.jsonl", {Json{{"id", 1}}, Json{{"id", 2}}});
  const auto rows = read_jsonl(dir / "a.jsonl");
  REQUIRE(rows.size() == 2);
  CHECK(rows[1]["id"] == 2);
  std::ofstream(dir / "bad.jsonl") << "{\"id\": 1}\n\n{\"id\": \n";
  CHECK_THROWS_WITH(read_jsonl(dir / "bad.jsonl"), Catch::Contains("bad.jsonl:3"));
  CHECK_THROWS_WITH(parse_json("{\n\"a\": [1,\n}", "cfg.json"), Catch::Contains("cfg.json:3"));
  CHECK_THROWS_WITH(json_get<int>(Json{{"a", "x"}}, "a", "f.json", "entry 4"), Catch::Contains("wrong type") && Catch::Contains("entry 4"));
  CHECK_THROWS_WITH(json_get<int>(Json::object(), "b", "f.json", "entry 5"), Catch::Contains("missing key 'b'"));
}

TEST_CASE("split keeps empty pieces like Python's str.split(sep)", "[core][strings]") {
  CHECK(split("a/b", '/') == std::vector<std::string>{"a", "b"});
  CHECK(split("a//b/", '/') == std::vector<std::string>{"a", "", "b", ""});
  CHECK(split("", ',') == std::vector<std::string>{""});
}
