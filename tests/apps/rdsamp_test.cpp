// End-to-end test of the ecgbench-rdsamp app: its .npy and .csv outputs equal WFDB rdsamp's.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ecgbench/core/npy.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;

namespace {
int run(const std::string& args) { return std::system((std::string(ECGBENCH_RDSAMP_PATH) + " " + args + " 2>/dev/null >/dev/null").c_str()); }
}  // namespace

TEST_CASE("ecgbench-rdsamp writes rdsamp's samples as npy and csv", "[apps][rdsamp]") {
  ECGBENCH_REQUIRE_TEST_DATA("wfdb-formats");
  const auto out = test::temp_dir() / "rdsamp";
  std::filesystem::create_directories(out);
  REQUIRE(run("--record " + (test_data_path / "test01_00s").string() + " --out " + (out / "d.npy").string()) == 0);
  const auto d = npy::load(out / "d.npy");
  REQUIRE(d.dtype() == npy::DType::i32);
  REQUIRE(d.shape() == std::vector<std::size_t>{4000, 4});
  std::ifstream expected(test_data_path / "expected/record-1a");
  const auto v = d.to_vector<int>();
  for (std::size_t i = 0; i < v.size(); ++i) {
    int e;
    expected >> e;
    REQUIRE(v[i] == e);
  }
  REQUIRE(run("--record " + (test_data_path / "100_3chan").string() + " --physical --out " + (out / "p.npy").string()) == 0);
  const auto p = npy::load(out / "p.npy");
  REQUIRE(p.dtype() == npy::DType::f64);
  std::ifstream ep(test_data_path / "expected/record-2c");
  const auto pv = p.to_vector<double>();
  for (double x : pv) {
    double e;
    ep >> e;
    REQUIRE(std::abs(x - e) < 5.1e-9);
  }
  REQUIRE(run("--record " + (test_data_path / "test01_00s").string() + " --out " + (out / "d.csv").string()) == 0);
  std::ifstream csv(out / "d.csv");
  std::string header, first;
  std::getline(csv, header);
  std::getline(csv, first);
  CHECK(header == "ECG 1,ECG 2,ECG 3,ECG 4");
  std::ifstream e1(test_data_path / "expected/record-1a");
  int a, b, c, dd;
  e1 >> a >> b >> c >> dd;
  CHECK(first == std::to_string(a) + "," + std::to_string(b) + "," + std::to_string(c) + "," + std::to_string(dd));
  // Bad input: exit status 1 and no output file.
  CHECK(run("--record " + (out / "missing").string() + " --out " + (out / "m.npy").string()) != 0);
  CHECK_FALSE(std::filesystem::exists(out / "m.npy"));
  CHECK(run("--record " + (test_data_path / "test01_00s").string() + " --out " + (out / "x.txt").string()) != 0);
}
