// End-to-end test of the ecgbench-preprocess app and its split / sample / percentiles steps.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <set>

#include "ecgbench/core/json.hpp"
#include "ecgbench/core/npy.hpp"
#include "ecgbench/data/segment_index.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;

namespace {
int preprocess(const std::string& args) {
  return std::system((std::string(ECGBENCH_APP_DIR) + "/ecgbench-preprocess " + args + " >/dev/null 2>&1").c_str());
}
}  // namespace

TEST_CASE("ecgbench-preprocess: run, split, sample, percentiles", "[apps][preprocess]") {
  ECGBENCH_REQUIRE_TEST_DATA("ptbxl");
  const auto out = test::temp_dir() / "app-pp";
  REQUIRE(preprocess("--base-data ptb --data-dir " + test_data_path.string() + " --out " + out.string() + " --seg-len 500 --jobs 2 --quiet") == 0);
  const auto index = data::read_segment_index(out / "index.jsonl");
  CHECK(index.size() == 50);  // 10 records x 2500 samples / 500
  CHECK(npy::load(out / "segments-00000.npy").shape() == std::vector<std::size_t>{50, 12, 500});

  REQUIRE(preprocess("split --index " + (out / "index.jsonl").string() + " --folds 3") == 0);
  const auto folds = read_jsonl(out / "folds-3.jsonl");
  REQUIRE(folds.size() == index.size());
  std::map<std::string, int> patient_fold;
  std::set<int> used;
  for (const auto& f : folds) {
    auto [it, fresh] = patient_fold.emplace(f["patient_id"].get<std::string>(), f["fold"].get<int>());
    CHECK(it->second == f["fold"].get<int>());
    used.insert(f["fold"].get<int>());
  }
  CHECK(used.size() == 3);
  REQUIRE(preprocess("split --index " + (out / "index.jsonl").string() + " --folds 5 --strat-fold --out " + (out / "sf.jsonl").string()) == 0);
  const auto sf = read_jsonl(out / "sf.jsonl");
  CHECK(sf[0]["fold"] == (10 - 1) % 5);  // record 6000 has strat_fold 10

  REQUIRE(preprocess("sample --index " + (out / "index.jsonl").string() + " --n 7 --out " + (out / "random.txt").string()) == 0);
  REQUIRE(preprocess("sample --index " + (out / "index.jsonl").string() + " --n 12 --method stratified --max-clusters 5 --out " +
                     (out / "strat.txt").string()) == 0);
  for (auto [file, n] : {std::pair{"random.txt", 7}, std::pair{"strat.txt", 12}}) {
    std::ifstream in(out / file);
    std::set<std::string> ids;
    std::string line;
    std::set<std::string> known;
    for (const auto& e : index) known.insert(e.id);
    while (std::getline(in, line)) {
      CHECK(known.count(line) == 1);
      ids.insert(line);
    }
    CHECK(ids.size() == static_cast<std::size_t>(n));
  }
  REQUIRE(preprocess("percentiles --index " + (out / "index.jsonl").string() + " --n 5000 --out " + (out / "p.json").string()) == 0);
  const auto p = read_json(out / "p.json");
  CHECK(p["min"].get<double>() <= p["p1"].get<double>());
  CHECK(p["p1"].get<double>() < p["p99"].get<double>());
  CHECK(p["p99"].get<double>() <= p["max"].get<double>());

  // Bad input: exit status 1.
  CHECK(preprocess("--base-data nope --data-dir " + test_data_path.string() + " --out " + (out / "x").string()) != 0);
  CHECK(preprocess("--base-data ptb --data-dir " + (out / "missing").string() + " --out " + (out / "y").string()) != 0);
  CHECK(preprocess("sample --index " + (out / "index.jsonl").string() + " --method magic --out " + (out / "z.txt").string()) != 0);
}
