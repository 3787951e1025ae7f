// Tests for include/ecgbench/data/mapping.hpp: ECG-QA excerpts onto the PTB-XL fixtures, the other
// data sets' schemas (small fixtures written from their documented shapes), clean-up rules, mixing.
#include <catch2/catch.hpp>

#include <set>

#include "ecgbench/core/log.hpp"
#include "ecgbench/data/data.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::data;
namespace fs = std::filesystem;

namespace {
// The PTB-XL fixtures preprocessed once (no filter: fast), shared by the tests below.
const std::vector<SegmentEntry>& ptbxl_index() {
  static const std::vector<SegmentEntry> index = [] {
    PreprocessOptions o;
    o.data_dir = test::data_dir() / "ptbxl";
    o.out_dir = test::temp_dir() / "map-ptbxl";
    o.signal.filter = FilterChain::none;
    o.progress = ProgressStyle::quiet;
    const auto old = log::level();
    log::set_level(log::Level::off);
    run_preprocess(o);
    log::set_level(old);
    return read_segment_index(o.out_dir / "index.jsonl");
  }();
  return index;
}
}  // namespace

TEST_CASE("ECG-QA PTB-XL excerpts map onto records 6002/6007/6008", "[data][mapping]") {
  ECGBENCH_REQUIRE_TEST_DATA("ecg-qa");
  ECGBENCH_REQUIRE_FIXTURE(test::data_dir() / "ptbxl");
  const auto& index = ptbxl_index();
  // Mapped form (with ecg_path), paraphrased.
  const auto f = test_data_path / "output/ptbxl/paraphrased/train/120000_excerpt.json";
  const auto items = read_mapping_source("ecg-qa_ptbxl", read_json(f), f.string());
  REQUIRE(items.size() == 3);
  CHECK(items[0].stems == std::vector<std::string>{"records500_06000_06002_hr"});
  const auto r = map_items("ecg-qa_ptbxl", items, index);
  CHECK(r.matched == 3);
  CHECK(r.unmatched.empty());
  REQUIRE(r.conversations.size() == 6);  // one per segment, two segments per record
  const auto& c = r.conversations[0];
  CHECK(c.ecg == std::vector<std::string>{"records500_06000_06002_hr_0"});
  CHECK(r.conversations[1].ecg == std::vector<std::string>{"records500_06000_06002_hr_1"});
  REQUIRE(c.turns.size() == 2);
  CHECK(c.turns[0] == Turn{Role::user, "Can burst noise be detected in lead aVF based on the ECG results?"});
  CHECK(c.turns[1] == Turn{Role::assistant, "no"});
  // Raw form: 15 single-verify items, 3 on local records; the rest are counted as unmatched.
  const auto raw = test_data_path / "ecgqa/ptbxl/paraphrased/train/120000_excerpt.json";
  const auto ri = read_mapping_source("ecg-qa_ptbxl", read_json(raw), raw.string());
  CHECK(ri.size() == 15);
  const auto rr = map_items("ecg-qa_ptbxl", ri, index);
  CHECK(rr.matched == 3);
  CHECK(rr.unmatched.size() == 12);
  // Comparison questions are filtered unless asked for.
  const auto cmp = test_data_path / "ecgqa/ptbxl/paraphrased/valid/60000_excerpt.json";
  CHECK(read_mapping_source("ecg-qa_ptbxl", read_json(cmp), cmp.string()).empty());
  CHECK(read_mapping_source("ecg-qa_ptbxl", read_json(cmp), cmp.string(), {.include_comparison = true}).size() == 6);
  // A comparison of two local records: one conversation per common segment index, both ECGs.
  const Json two = Json::parse(R"([{"question_type": "comparison_consecutive-verify", "question": "Is it the same?",
      "answer": ["yes"], "ecg_id": [6001, 6003], "sample_id": 7}])");
  const auto r2 = map_items("ecg-qa_ptbxl", read_mapping_source("ecg-qa_ptbxl", two, "two.json", {.include_comparison = true}), index);
  REQUIRE(r2.conversations.size() == 2);
  CHECK(r2.conversations[1].ecg == std::vector<std::string>{"records500_06000_06001_hr_1", "records500_06000_06003_hr_1"});
}

TEST_CASE("ECG-Chat, PULSE and GEM schemas map by upstream's path rules", "[data][mapping]") {
  ECGBENCH_REQUIRE_FIXTURE(test::data_dir() / "ptbxl");
  const auto& index = ptbxl_index();
  const Json chat = Json::parse(R"([{"id": "c1", "ecg": "records500/06000/06002_hr", "conversations": [
      {"from": "human", "value": "<ecg>\nWhat does this image show?"}, {"from": "gpt", "value": "Sinus bradycardia."}]}])");
  const auto rc = map_items("pretrain_mimic", read_mapping_source("pretrain_mimic", chat, "chat.json"), index);
  REQUIRE(rc.conversations.size() == 2);
  CHECK(rc.conversations[0].turns[0].text == "What does this signal show?");
  CHECK(rc.conversations[0].turns[1] == Turn{Role::assistant, "Sinus bradycardia."});
  CHECK(rc.conversations[0].id == "pretrain_mimic:c1:0");

  const Json pulse = Json::parse(R"([{"id": "p1", "image": "ptb-xl/records500/06000/06007_hr-0.png", "conversations": [
      {"from": "human", "value": "<image>\nUser: Describe the Images."}, {"from": "gpt", "value": "Normal ECG."}]},
      {"id": "p2", "image": "mimic_v4/files/p1000/p10000032/s40689238/40689238-0.png", "conversations": [
      {"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}])");
  const auto pi = read_mapping_source("ecg_instruct_pulse", pulse, "pulse.json");
  CHECK(pi[0].stems == std::vector<std::string>{"records500_06000_06007_hr"});
  CHECK(pi[1].stems == std::vector<std::string>{"files_p1000_p10000032_s40689238_40689238"});
  CHECK(pi[0].turns[0].text == "Describe the Signals.");
  const auto rp = map_items("ecg_instruct_pulse", pi, index);
  CHECK(rp.matched == 1);
  CHECK(rp.unmatched == std::vector<std::string>{"p2"});

  const Json gem = Json::parse(R"([{"id": "g1", "ecg": "ecg_ptbxl_benchmarking/data/ptbxl/records500/06000/06008_hr",
      "conversations": [{"from": "human", "value": "Ground it."}, {"from": "gpt", "value": "ok"}]},
      {"id": "g2", "ecg": "code15/exams_part0/6000", "conversations": [{"from": "human", "value": "x"}, {"from": "gpt", "value": "y"}]}])");
  const auto gi = read_mapping_source("ecg_grounding", gem, "gem.json");
  CHECK(gi[0].stems == std::vector<std::string>{"records500_06000_06008_hr"});
  CHECK(gi[1].stems == std::vector<std::string>{"6000"});
  CHECK(map_items("ecg_grounding", gi, index).matched == 1);
}

TEST_CASE("mapping clean-up and bad input", "[data][mapping][errors]") {
  CHECK(clean_message("<ecg>\nIs this image normal?") == "Is this signal normal?");
  CHECK(clean_message("Assistant: IMAGES and imagery") == "SIGNALS and imagery");
  CHECK(clean_message("an image<image> here") == "an signal here");
  const Json robot = Json::parse(R"([{"ecg": "a/b", "conversations": [{"from": "robot", "value": "hi"}]}])");
  CHECK_THROWS_WITH(read_mapping_source("pretrain_mimic", robot, "r.json"), Catch::Contains("r.json") && Catch::Contains("entry 0") && Catch::Contains("unknown role 'robot'"));
  const Json nokey = Json::parse(R"([{"question_type": "single-verify", "answer": ["no"], "ecg_id": [1]}])");
  CHECK_THROWS_WITH(read_mapping_source("ecg-qa_ptbxl", nokey, "q.json"), Catch::Contains("entry 0") && Catch::Contains("missing key 'question'"));
  CHECK_THROWS_WITH(read_mapping_source("ecg-qa_ptbxl", Json::object(), "o.json"), Catch::Contains("expected a JSON list"));
  CHECK_THROWS_WITH(read_mapping_source("ecg-qa_nope", Json::array(), "n.json"), Catch::Contains("unknown data set 'ecg-qa_nope'"));
  CHECK_THROWS_WITH(parse_json("[{\"ecg\": ", "bad.json"), Catch::Contains("bad.json") && Catch::Contains("invalid JSON"));
  const Json mimic_raw = Json::parse(R"([{"question_type": "single-verify", "question": "q", "answer": ["a"], "ecg_id": [1]}])");
  CHECK_THROWS_WITH(read_mapping_source("ecg-qa_mimic-iv-ecg", mimic_raw, "m.json"), Catch::Contains("need 'ecg_path'"));
}

TEST_CASE("mixing is deterministic and honours weights", "[data][mapping]") {
  auto make = [](const std::string& name, int n) {
    std::vector<Conversation> v;
    for (int i = 0; i < n; ++i) v.push_back({name + std::to_string(i), {"s"}, {{Role::user, "q"}, {Role::assistant, "a"}}, name});
    return v;
  };
  const std::vector<std::vector<Conversation>> sets{make("a", 100), make("b", 40)};
  const auto plain = mix_conversations(sets, {}, 0, false);
  REQUIRE(plain.size() == 140);
  CHECK(plain[0].id == "a0");
  CHECK(plain[100].id == "b0");
  const auto m1 = mix_conversations(sets, {0.5, 2.0}, 7), m2 = mix_conversations(sets, {0.5, 2.0}, 7);
  REQUIRE(m1.size() == 50 + 80);
  std::size_t from_a = 0;
  std::set<std::string> distinct_a;
  for (std::size_t i = 0; i < m1.size(); ++i) {
    CHECK(m1[i].id == m2[i].id);
    if (m1[i].name == "a") {
      ++from_a;
      distinct_a.insert(m1[i].id);
    }
  }
  CHECK(from_a == 50);
  CHECK(distinct_a.size() == 50);  // subsampling is without replacement
  CHECK(mix_conversations(sets, {0.5, 2.0}, 8)[0].id != m1[0].id);
  CHECK_THROWS_WITH(mix_conversations(sets, {1.0}, 0), Catch::Contains("1 weights for 2 inputs"));
  CHECK_THROWS_WITH(mix_conversations(sets, {1.0, -1.0}, 0), Catch::Contains("non-negative"));
  // JSON round trip of the data model.
  const auto j = to_json(m1[0]);
  const auto back = conversation_from_json(j, "mix.jsonl", "line 1");
  CHECK(back.id == m1[0].id);
  CHECK(back.turns == m1[0].turns);
}

TEST_CASE("PULSE ECGBench CPSC/CSN items match records by file name", "[data][mapping]") {
  SegmentEntry e;
  e.id = "WFDBRecords_01_010_JS00001_0";
  e.source = "WFDBRecords/01/010/JS00001";
  e.segment = 0;
  const Json bench = Json::parse(R"([{"id": "b1", "image": "csn/JS00001-0.png", "conversations": [
      {"from": "human", "value": ["W", "h", "y", "?"]}, {"from": "gpt", "value": "AF"}]}])");
  const auto r = map_items("ecg_bench_pulse", read_mapping_source("ecg_bench_pulse", bench, "bench.jsonl"), {e});
  REQUIRE(r.conversations.size() == 1);
  CHECK(r.conversations[0].ecg == std::vector<std::string>{"WFDBRecords_01_010_JS00001_0"});
  CHECK(r.conversations[0].turns[0].text == "Why?");  // list-of-characters value joined back
}

TEST_CASE("balance_answers oversamples rare answers per question, capped, deterministically", "[data][mixing]") {
  std::vector<Conversation> in;
  auto add = [&](const std::string& q, const std::string& a, int n) {
    for (int i = 0; i < n; ++i)
      in.push_back({q + a + std::to_string(i), {"x_0"}, {{Role::user, q}, {Role::assistant, a}}, "t"});
  };
  add("Q1", "no", 6);
  add("Q1", "yes", 2);    // round(6 / 2) = 3 copies each
  add("Q1", "maybe", 1);  // round(6 / 1) = 6, capped at 3
  add("Q2", "a", 4);      // one answer: unchanged
  const auto out = balance_answers(in, 3, 7);
  std::map<std::string, int> n;
  for (const auto& c : out) ++n[c.turns[0].text + "/" + c.turns[1].text];
  CHECK(n["Q1/no"] == 6);
  CHECK(n["Q1/yes"] == 6);
  CHECK(n["Q1/maybe"] == 3);
  CHECK(n["Q2/a"] == 4);
  CHECK(out.size() == 19);
  std::vector<std::string> ids1, ids2;
  for (const auto& c : out) ids1.push_back(c.id);
  for (const auto& c : balance_answers(in, 3, 7)) ids2.push_back(c.id);
  CHECK(ids1 == ids2);
  CHECK(balance_answers(in, 1, 7).size() == in.size());
  CHECK_THROWS_WITH(balance_answers(in, 0.5, 7), Catch::Contains("max_factor"));
}
