// End-to-end test of ecgbench-map: ECG-QA onto the PTB-XL fixtures, manifest, mixing.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "ecgbench/core/json.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;

TEST_CASE("ecgbench-map maps ECG-QA and mixes", "[apps][map]") {
  ECGBENCH_REQUIRE_TEST_DATA("ecg-qa");
  const auto ptb = test::data_dir() / "ptbxl";
  ECGBENCH_REQUIRE_FIXTURE(ptb);
  const auto dir = test::temp_dir() / "app-map";
  const std::string app = std::string(ECGBENCH_APP_DIR);
  auto run = [&](const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); };
  REQUIRE(run(app + "/ecgbench-preprocess --base-data ptb --filter none --quiet --data-dir " + ptb.string() + " --out " + (dir / "pp").string()) == 0);
  REQUIRE(run(app + "/ecgbench-map --dataset ecg-qa_ptbxl --input " + (test_data_path / "ecgqa/ptbxl").string() + " --index " +
              (dir / "pp/index.jsonl").string() + " --out " + (dir / "m").string()) == 0);
  const auto manifest = read_json(dir / "m/ecg-qa_ptbxl_mapped_1250.manifest.json");
  CHECK(manifest["items_matched"] == 6);   // 3 local records x (paraphrased + template)
  CHECK(manifest["items_filtered"] == 30);  // comparison questions (2 x (9 + 6))
  CHECK(manifest["items_unmatched"] == 24);
  const auto rows = read_jsonl(dir / "m/ecg-qa_ptbxl_mapped_1250.jsonl");
  CHECK(rows.size() == 12);
  const auto mixed = dir / "mix.jsonl";
  REQUIRE(run(app + "/ecgbench-map mix --inputs " + (dir / "m/ecg-qa_ptbxl_mapped_1250.jsonl").string() + "," +
              (dir / "m/ecg-qa_ptbxl_mapped_1250.jsonl").string() + " --weights 1,0.5 --seed 3 --out " + mixed.string()) == 0);
  CHECK(read_jsonl(mixed).size() == 18);
  CHECK(run(app + "/ecgbench-map --dataset nope --input x --index " + (dir / "pp/index.jsonl").string() + " --out " + (dir / "n").string()) != 0);
}
