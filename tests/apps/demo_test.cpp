// Smoke test of the demo pipeline (small sizes) and of ecgbench-synth's bad-input handling.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "ecgbench/core/atomic_file.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;

TEST_CASE("ecgbench-demo runs the whole data side end to end", "[apps][demo]") {
  const auto dir = test::temp_dir() / "demo";
  const std::string app = std::string(ECGBENCH_APP_DIR);
  const auto log = dir.string() + ".log";
  REQUIRE(std::system((app + "/ecgbench-demo --quiet --n 24 --merges 60 --steps 0 --out " + dir.string() + " >" + log + " 2>&1").c_str()) == 0);
  const auto out = read_file(log);
  CHECK(out.find("24 records") != std::string::npos);
  CHECK(out.find("48 segments, 0 skipped") != std::string::npos);
  CHECK(out.find("72 of 72 questions matched") != std::string::npos);  // 3 questions per record (four rhythm classes)
  CHECK(std::filesystem::exists(dir / "ecg_byte_tokenizer.json"));
  CHECK(std::filesystem::exists(dir / "mapped/ecg-qa_synthetic_mapped_1250.jsonl"));
  CHECK(std::filesystem::exists(dir / "mapped/train.jsonl"));
  CHECK(std::filesystem::exists(dir / "mapped/test.jsonl"));
  CHECK(out.find("12-lead plot") != std::string::npos);
  CHECK(std::filesystem::exists(dir / "plots"));
  CHECK(std::system((app + "/ecgbench-synth --n 0 --out " + (dir / "x").string() + " >/dev/null 2>&1").c_str()) != 0);
}
