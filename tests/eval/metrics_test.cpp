// Tests for include/ecgbench/eval (BLEU, BLEU_sent, ACC, statistics) against the golden values in
// shared/data/metrics (nltk 3.8, numpy 1.24, scipy 1.10) and hand-computed cases.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "ecgbench/core/json.hpp"
#include "ecgbench/eval/bleu.hpp"
#include "ecgbench/eval/rouge.hpp"
#include "ecgbench/eval/statistics.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::eval;


TEST_CASE("python_split follows str.split() on Unicode whitespace", "[eval][text]") {
  CHECK(text_lines("a\n b \n\nc\n") == std::vector<std::string>{"a", " b ", "", "c"});
  CHECK(text_lines("x") == std::vector<std::string>{"x"});
  CHECK(python_split("  a  b\tc\n") == std::vector<std::string>{"a", "b", "c"});
  CHECK(python_split("x\xc2\xa0y") == std::vector<std::string>{"x", "y"});           // U+00A0
  CHECK(python_split("\xe2\x89\xa5" "5") == std::vector<std::string>{"\xe2\x89\xa5" "5"});  // ≥5 is one word
  CHECK(python_split(" ").empty());
  CHECK_THROWS_WITH(python_split("a\xff"), Catch::Contains("invalid UTF-8"));
}

TEST_CASE("BLEU hand-computed: brevity penalty and method1 smoothing", "[eval][bleu]") {
  // Single pair "yes"/"yes": p1 = 1/1, p2..p4 = 0.1/1 (empty n-gram sets still count 1);
  // BLEU = exp((log 1 + 3 log 0.1) / 4) = 0.1^(3/4).
  CHECK(corpus_bleu({"yes"}, {"yes"}) == Approx(std::pow(0.1, 0.75)).epsilon(1e-14));
  // No unigram match -> 0.
  CHECK(corpus_bleu({"sinus rhythm"}, {"atrial flutter"}) == 0.0);
  // Hypothesis shorter than the reference: BP = exp(1 - 4/2).
  BleuCounts c;
  const double b = corpus_bleu({"a b c d"}, {"a b"}, &c);
  CHECK(c.numerators == std::vector<std::int64_t>{2, 1, 0, 0});
  CHECK(c.denominators == std::vector<std::int64_t>{2, 1, 1, 1});
  CHECK(b == Approx(std::exp(1.0 - 2.0) * std::exp((std::log(1.0) + std::log(1.0) + 2 * std::log(0.1)) / 4)).epsilon(1e-14));
  CHECK(sentence_bleu_adaptive("a b c d", "a b") == Approx(std::exp(1.0 - 2.0)).epsilon(1e-14));  // n = 2, both precisions 1
  CHECK(sentence_bleu_adaptive("", "a") == 0.0);
  CHECK_THROWS_WITH(corpus_bleu({"a"}, {"a", "b"}), Catch::Contains("1 references but 2 hypotheses"));
}

TEST_CASE("BLEU, BLEU_sent and ACC equal nltk on the golden pairs", "[eval][bleu]") {
  ECGBENCH_REQUIRE_TEST_DATA("metrics");
  const auto golden = read_json(test_data_path / "expected.json");
  const auto hyp = text_lines(read_file(test_data_path / "hyp.txt")), ref = text_lines(read_file(test_data_path / "ref.txt"));
  REQUIRE(hyp.size() == 65);
  REQUIRE(ref.size() == 65);
  std::vector<std::string> h, r;
  for (std::size_t i = 0; i < hyp.size(); ++i)
    if (!hyp[i].empty() && !ref[i].empty()) h.push_back(hyp[i]), r.push_back(ref[i]);  // upstream drops empty sides
  REQUIRE(h.size() == golden["num_pairs"].get<std::size_t>());
  BleuCounts c;
  const double bleu = corpus_bleu(r, h, &c);
  const auto& dbg = golden["corpus_debug"]["bleu"];
  CHECK(c.numerators == dbg["p_numerators"].get<std::vector<std::int64_t>>());
  CHECK(c.denominators == dbg["p_denominators"].get<std::vector<std::int64_t>>());
  CHECK(c.hyp_length == dbg["hyp_lengths"].get<std::int64_t>());
  CHECK(c.ref_length == dbg["ref_lengths"].get<std::int64_t>());
  CHECK(std::abs(bleu - golden["corpus"]["BLEU"].get<double>()) < 1e-12);
  std::vector<double> sent, acc;
  for (const auto& p : golden["pairs"]) {
    if (!p["valid"].get<bool>()) continue;
    const double v = sentence_bleu_adaptive(p["ref"].get<std::string>(), p["hyp"].get<std::string>());
    INFO("line " << p["line"]);
    CHECK(std::abs(v - p["bleu_sent"].get<double>()) < 1e-12);
    sent.push_back(v);
    acc.push_back(p["ref"].get<std::string>() == p["hyp"].get<std::string>() ? 1.0 : 0.0);
  }
  CHECK(std::abs(numpy_mean(sent) - golden["corpus"]["BLEU_sent"].get<double>()) < 1e-12);
  CHECK(std::abs(numpy_mean(acc) - golden["corpus"]["ACC"].get<double>()) < 1e-15);
}

TEST_CASE("statistics over seeds equal upstream's, t quantiles are exact", "[eval][stats]") {
  // Exact values: df = 2 has the closed form (2p - 1) / sqrt(2 p (1 - p)); df = 4: 2.7764451051977987.
  CHECK(student_t_quantile(0.975, 2) == Approx(0.95 / std::sqrt(2 * 0.975 * 0.025)).epsilon(1e-12));
  CHECK(student_t_quantile(0.975, 4) == Approx(2.7764451051977987).epsilon(1e-12));
  CHECK(student_t_quantile(0.025, 4) == Approx(-2.7764451051977987).epsilon(1e-12));
  CHECK_THROWS_WITH(summarize({1.0}), Catch::Contains("at least 2 seeds"));
  ECGBENCH_REQUIRE_TEST_DATA("metrics");
  const auto golden = read_json(test_data_path / "expected.json");
  for (const char* set : {"seeds3", "seeds5"}) {
    const auto& g = golden["statistics"][set];
    const double t = g["t_ppf_0.975"].get<double>();
    auto check = [&](const std::vector<double>& values, const Json& want, const std::string& name) {
      INFO(set << " " << name);
      const auto s = summarize(values, t);
      CHECK(std::abs(s.mean - want["mean"].get<double>()) < 1e-9);
      CHECK(std::abs(s.std - want["std"].get<double>()) < 1e-9);
      CHECK(std::abs(s.ci_low - want["conf_interval"][0].get<double>()) < 1e-9);
      CHECK(std::abs(s.ci_high - want["conf_interval"][1].get<double>()) < 1e-9);
      // With our own quantile, the interval differs from scipy's by scipy's quantile error only.
      const auto own = summarize(values);
      CHECK(std::abs(own.ci_high - want["conf_interval"][1].get<double>()) < 1e-8);
    };
    for (const char* m : {"BLEU", "BLEU_sent", "METEOR", "ACC"}) {
      std::vector<double> v;
      for (const auto& in : g["inputs"]) v.push_back(in["metrics"][m].get<double>() * 100);
      check(v, g["result"][m], m);
    }
    for (const char* m : {"rouge-1", "rouge-2", "rouge-l"}) {
      std::vector<double> v;
      for (const auto& in : g["inputs"]) v.push_back(in["metrics"]["ROUGE"][m].get<double>() * 100);
      check(v, g["result"]["ROUGE"][m], m);
    }
    for (const char* m : {"hf-prec", "hf-rec", "hf-f1"}) {  // lists: mean per seed first
      std::vector<double> v;
      for (const auto& in : g["inputs"]) v.push_back(numpy_mean(in["metrics"]["BERTSCORE"][m].get<std::vector<double>>()) * 100);
      check(v, g["result"]["BERTSCORE"][m], m);
    }
  }
}

TEST_CASE("ROUGE equals the rouge package on the golden pairs", "[eval][rouge]") {
  // Hand case: ". " gives rouge an empty word; "a b. c" vs "a b c": sets {a, b, c} both sides.
  const auto s = rouge_scores("a b. c", "a b c");
  CHECK(s.rouge1.overlap == 3);
  CHECK(s.rouge2.overlap == 2);  // bigrams cross the sentence boundary: (a b), (b c)
  CHECK_THROWS_WITH(rouge_scores(".", "x"), Catch::Contains("hypothesis is empty"));
  ECGBENCH_REQUIRE_TEST_DATA("metrics");
  const auto golden = read_json(test_data_path / "expected.json");
  std::vector<std::string> h, r;
  for (const auto& p : golden["pairs"]) {
    if (!p["valid"].get<bool>()) continue;
    const auto got = rouge_scores(p["hyp"].get<std::string>(), p["ref"].get<std::string>());
    INFO("line " << p["line"]);
    for (auto [name, v] : {std::pair{"rouge-1", &got.rouge1}, std::pair{"rouge-2", &got.rouge2}, std::pair{"rouge-l", &got.rougeL}}) {
      const auto& want = p["rouge"][name];
      const auto& raw = p["rouge_raw"][name];
      CHECK(v->hyp == raw["hyp"].get<std::size_t>());
      CHECK(v->ref == raw["ref"].get<std::size_t>());
      CHECK(v->overlap == raw["overlap"].get<std::size_t>());
      CHECK(std::abs(v->f - want["f"].get<double>()) < 1e-12);
      CHECK(std::abs(v->p - want["p"].get<double>()) < 1e-12);
      CHECK(std::abs(v->r - want["r"].get<double>()) < 1e-12);
    }
    h.push_back(p["hyp"].get<std::string>());
    r.push_back(p["ref"].get<std::string>());
  }
  const auto avg = rouge_average(h, r);
  CHECK(std::abs(avg.rouge1.f - golden["corpus"]["ROUGE"]["rouge-1"].get<double>()) < 1e-12);
  CHECK(std::abs(avg.rouge2.f - golden["corpus"]["ROUGE"]["rouge-2"].get<double>()) < 1e-12);
  CHECK(std::abs(avg.rougeL.f - golden["corpus"]["ROUGE"]["rouge-l"].get<double>()) < 1e-12);
}
