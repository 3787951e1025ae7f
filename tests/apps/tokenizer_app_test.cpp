// End-to-end test of ecgbench-tokenizer: import, train, encode, decode, verify, stats, errors.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/tokenize/ecg_byte_tokenizer.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;

namespace {
int tokenizer(const std::string& args, const std::filesystem::path& log = "/dev/null") {
  return std::system((std::string(ECGBENCH_APP_DIR) + "/ecgbench-tokenizer " + args + " >" + log.string() + " 2>&1").c_str());
}
}  // namespace

TEST_CASE("ecgbench-tokenizer: symbols file round trip and upstream import", "[apps][tokenizer]") {
  const auto dir = test::temp_dir() / "app-tok";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ecgs.txt") << "aabbaabbccaabb\nabababababzz\nmmmmnnnnmmmm\n";
  REQUIRE(tokenizer("train --symbols " + (dir / "ecgs.txt").string() + " --merges 10 --quiet --out " + (dir / "t.json").string()) == 0);
  const auto t = tokenize::EcgByteTokenizer::load(dir / "t.json");
  CHECK(t.merges().size() == 10);
  for (const char* mode : {"bpe", "longest-match"}) {
    INFO(mode);
    REQUIRE(tokenizer("encode --tokenizer " + (dir / "t.json").string() + " --symbols " + (dir / "ecgs.txt").string() + " --mode " + mode +
                      " --out " + (dir / "ids.txt").string()) == 0);
    REQUIRE(tokenizer("decode --tokenizer " + (dir / "t.json").string() + " --ids " + (dir / "ids.txt").string() + " --out " +
                      (dir / "back.txt").string()) == 0);
    CHECK(read_file(dir / "back.txt") == read_file(dir / "ecgs.txt"));
  }
  // Bad input: a symbol outside the alphabet, an id outside the vocabulary.
  std::ofstream(dir / "bad.txt") << "abcA\n";
  CHECK(tokenizer("train --symbols " + (dir / "bad.txt").string() + " --merges 3 --out " + (dir / "x.json").string(), dir / "err.txt") != 0);
  CHECK(read_file(dir / "err.txt").find("'A' at position 3") != std::string::npos);
  std::ofstream(dir / "badids.txt") << "97 99999\n";
  CHECK(tokenizer("decode --tokenizer " + (dir / "t.json").string() + " --ids " + (dir / "badids.txt").string() + " --out " +
                  (dir / "y.txt").string(), dir / "err2.txt") != 0);
  CHECK(read_file(dir / "err2.txt").find("outside the vocabulary") != std::string::npos);

  ECGBENCH_REQUIRE_TEST_DATA("ecg-byte");
  REQUIRE(tokenizer("import --pkl " + (test_data_path / "ecg_byte_tokenizer_1000_25.pkl").string() + " --out " + (dir / "up.json").string()) == 0);
  CHECK(tokenize::EcgByteTokenizer::load(dir / "up.json").vocab_size() == 1256);
}

TEST_CASE("ecgbench-tokenizer on preprocessed segments: train, verify, stats", "[apps][tokenizer]") {
  ECGBENCH_REQUIRE_TEST_DATA("ptbxl");
  const auto dir = test::temp_dir() / "app-tok-seg";
  const std::string pp = std::string(ECGBENCH_APP_DIR) + "/ecgbench-preprocess --base-data ptb --data-dir " + test_data_path.string() +
                         " --out " + (dir / "pp").string() + " --filter none --quiet >/dev/null 2>&1";
  REQUIRE(std::system(pp.c_str()) == 0);
  std::ofstream(dir / "sample.txt") << "records500_06000_06000_hr_0\nrecords500_06002_06002_hr_1\n";
  // Unknown ids in the sample list are an error naming the list.
  CHECK(tokenizer("train --segments " + (dir / "pp").string() + " --sample " + (dir / "sample.txt").string() + " --merges 50 --out " +
                  (dir / "t.json").string(), dir / "err.txt") != 0);
  CHECK(read_file(dir / "err.txt").find("not in the index") != std::string::npos);
  REQUIRE(tokenizer("train --segments " + (dir / "pp").string() + " --merges 200 --quiet --out " + (dir / "t.json").string()) == 0);
  REQUIRE(tokenizer("verify --tokenizer " + (dir / "t.json").string() + " --segments " + (dir / "pp").string(), dir / "verify.txt") == 0);
  const auto v = read_file(dir / "verify.txt");
  CHECK(v.find("20 of 20 ECGs decode") != std::string::npos);
  REQUIRE(tokenizer("stats --tokenizer " + (dir / "t.json").string() + " --segments " + (dir / "pp").string(), dir / "stats.txt") == 0);
  CHECK(read_file(dir / "stats.txt").find("symbols 300000") != std::string::npos);  // 20 segments x 12 x 1250
}
