// End-to-end test of ecgbench-eval on the golden metric files.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "ecgbench/core/json.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;

TEST_CASE("ecgbench-eval score and results", "[apps][eval]") {
  ECGBENCH_REQUIRE_TEST_DATA("metrics");
  const auto dir = test::temp_dir() / "app-eval";
  std::filesystem::create_directories(dir);
  const std::string app = std::string(ECGBENCH_APP_DIR) + "/ecgbench-eval";
  auto run = [&](const std::string& args, const std::filesystem::path& out) {
    return std::system((app + " " + args + " >" + out.string() + " 2>&1").c_str());
  };
  const bool have_wordnet = std::filesystem::exists(test::wordnet_dir() / "index.noun");
  if (!have_wordnet && test::running_in_ci()) FAIL("WordNet missing under CI");
  if (!have_wordnet) WARN("METEOR not checked: WordNet not found at " << test::wordnet_dir());
  const std::string metrics = have_wordnet ? "" : " --metrics bleu,bleu_sent,rouge,acc";  // default: all five
  REQUIRE(run("score --hyp " + (test_data_path / "hyp.txt").string() + " --ref " + (test_data_path / "ref.txt").string() + metrics + " --json", dir / "s.json") == 0);
  const auto s = read_json(dir / "s.json");
  const auto golden = read_json(test_data_path / "expected.json");
  CHECK(std::abs(s["BLEU"].get<double>() - golden["corpus"]["BLEU"].get<double>()) < 1e-12);
  CHECK(std::abs(s["ROUGE"]["rouge-l"].get<double>() - golden["corpus"]["ROUGE"]["rouge-l"].get<double>()) < 1e-12);
  CHECK(s["num_pairs"] == 62);
  if (have_wordnet) CHECK(std::abs(s["METEOR"].get<double>() - golden["corpus"]["METEOR"].get<double>()) < 1e-12);
  // Seeds: write two runs and summarise.
  write_json(dir / "r1.json", Json{{"BLEU", 0.30}, {"ACC", 0.10}});
  write_json(dir / "r2.json", Json{{"BLEU", 0.34}, {"ACC", 0.14}});
  REQUIRE(run("results --inputs " + (dir / "r1.json").string() + "," + (dir / "r2.json").string() + " --format json", dir / "t.json") == 0);
  const auto t = read_json(dir / "t.json");
  CHECK(t["BLEU"]["mean"].get<double>() == Approx(32.0));
  CHECK(t["BLEU"]["std"].get<double>() == Approx(std::sqrt(8.0)));  // (30, 34): ddof 1
  // t(0.975, 1) = 12.706204736174705: CI = 32 -/+ 12.7062 * 2.8284 / sqrt(2).
  CHECK(t["BLEU"]["conf_interval"][1].get<double>() == Approx(32.0 + 12.706204736174705 * 2.0).epsilon(1e-10));
  // Bad input.
  CHECK(run("score --hyp " + (test_data_path / "hyp.txt").string() + " --ref " + (dir / "r1.json").string(), dir / "e1.txt") != 0);
  CHECK(read_file(dir / "e1.txt").find("65 hypotheses but") != std::string::npos);
  CHECK(run("score --hyp " + (test_data_path / "hyp.txt").string() + " --ref " + (test_data_path / "ref.txt").string() + " --metrics bertscores",
            dir / "e2.txt") != 0);
  CHECK(read_file(dir / "e2.txt").find("unknown metric 'bertscores'") != std::string::npos);
  CHECK(run("score --hyp " + (test_data_path / "hyp.txt").string() + " --ref " + (test_data_path / "ref.txt").string() +
                " --metrics meteor --wordnet " + dir.string(), dir / "e4.txt") != 0);
  CHECK(read_file(dir / "e4.txt").find("WordNet 3.0 database not found") != std::string::npos);
  std::ofstream(dir / "bad.txt") << "ok\n\xff\xfe\n";
  CHECK(run("score --hyp " + (dir / "bad.txt").string() + " --ref " + (dir / "bad.txt").string(), dir / "e3.txt") != 0);
  CHECK(read_file(dir / "e3.txt").find("bad.txt:2") != std::string::npos);
}
