// The torch-free image and retrieval apps: ecgbench-plot (clinical and upstream styles),
// ecgbench-represent (PNG and processor pixel values), ecgbench-convert (.pth -> safetensors),
// ecgbench-rag (features, build, query); outputs checked by content, bad input refused.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/npy.hpp"
#include "ecgbench/models/hf/safetensors.hpp"
#include "ecgbench/represent/represent.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;

namespace {
int run(const std::string& cmd, const std::filesystem::path& log) {
  return std::system((std::string(ECGBENCH_APP_DIR) + "/" + cmd + " >" + log.string() + " 2>&1").c_str());
}
}  // namespace

TEST_CASE("ecgbench-plot and ecgbench-represent write what the signal says", "[apps][plot]") {
  const auto dir = test::temp_dir() / "plot-app";
  std::filesystem::create_directories(dir);
  std::vector<float> sig(12 * 2500, 0.0f);
  for (int t = 0; t < 2500; ++t) sig[static_cast<std::size_t>(t)] = static_cast<float>(std::sin(t * 0.05));
  npy::save<float>(dir / "x.npy", sig, {12, 2500});
  REQUIRE(run("ecgbench-plot --npy " + (dir / "x.npy").string() + " --out " + (dir / "c.png").string(), dir / "log1") == 0);
  const auto img = represent::read_png(dir / "c.png");
  const auto g = represent::clinical_layout(2500, {});
  CHECK(img.width == g.width);
  CHECK(img.height == g.height);
  REQUIRE(run("ecgbench-plot --style upstream --npy " + (dir / "x.npy").string() + " --out " + (dir / "u.png").string(), dir / "log2") == 0);
  CHECK(represent::read_png(dir / "u.png").width == 2000);  // 10 s -> 2000 x 720
  REQUIRE(run("ecgbench-represent --npy " + (dir / "x.npy").string() + " --representation stacked --out " + (dir / "s.png").string(), dir / "log3") == 0);
  CHECK(represent::read_png(dir / "s.png").height == 12);
  REQUIRE(run("ecgbench-represent --npy " + (dir / "x.npy").string() + " --processor clip --out " + (dir / "p.npy").string(), dir / "log4") == 0);
  CHECK(npy::load(dir / "p.npy").shape() == std::vector<std::size_t>{1, 3, 224, 224});
  // Bad input: 11 leads, NaN, nothing given.
  npy::save<float>(dir / "bad.npy", std::vector<float>(11 * 100, 0.0f), {11, 100});
  CHECK(run("ecgbench-plot --npy " + (dir / "bad.npy").string() + " --out " + (dir / "b.png").string(), dir / "log5") != 0);
  CHECK_THAT(read_file(dir / "log5"), Catch::Contains("bad.npy") && Catch::Contains("12 leads"));
  auto nan = sig;
  nan[7] = NAN;
  npy::save<float>(dir / "nan.npy", nan, {12, 2500});
  CHECK(run("ecgbench-plot --npy " + (dir / "nan.npy").string() + " --out " + (dir / "n.png").string(), dir / "log6") != 0);
  CHECK_THAT(read_file(dir / "log6"), Catch::Contains("NaN"));
  CHECK(!std::filesystem::exists(dir / "n.png"));
}

TEST_CASE("ecgbench-convert turns a torch.save checkpoint into the same safetensors tensors", "[apps][convert]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden/encoders/st_mem");
  const auto dir = test::temp_dir() / "convert-app";
  std::filesystem::create_directories(dir);
  REQUIRE(run("ecgbench-convert --in " + (test_data_path / "weights.pth").string() + " --out " + (dir / "w.safetensors").string(), dir / "log") == 0);
  const hf::SafetensorsFile mine(dir / "w.safetensors"), want(test_data_path / "weights.safetensors");
  REQUIRE(mine.tensors().size() == want.tensors().size());
  for (const auto& [name, t] : want.tensors()) {
    const auto* m = mine.find(name);
    REQUIRE(m);
    CHECK(m->shape == t.shape);
    CHECK(std::string(reinterpret_cast<const char*>(m->data), m->bytes) == std::string(reinterpret_cast<const char*>(t.data), t.bytes));
  }
  write_file_atomically(dir / "junk.pth", "not a zip");
  CHECK(run("ecgbench-convert --in " + (dir / "junk.pth").string() + " --out " + (dir / "j.safetensors").string(), dir / "log2") != 0);
  CHECK_THAT(read_file(dir / "log2"), Catch::Contains("junk.pth"));
}
