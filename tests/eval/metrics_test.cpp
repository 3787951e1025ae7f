// Tests for include/ecgbench/eval (BLEU, BLEU_sent, METEOR, ROUGE, ACC, statistics) against the golden values in
// shared/data/metrics (nltk 3.8, numpy 1.24, scipy 1.10) and hand-computed cases.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <sstream>

#include "ecgbench/core/json.hpp"
#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/eval/bleu.hpp"
#include "ecgbench/eval/evaluate_strings.hpp"
#include "ecgbench/eval/meteor.hpp"
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

TEST_CASE("Porter stemmer: nltk's NLTK_EXTENSIONS results", "[eval][meteor]") {
  // Values from nltk 3.8's PorterStemmer() (checked against all 94 000 WordNet lemma words).
  const PorterStemmer p;
  const std::vector<std::pair<std::string, std::string>> cases{
      {"caresses", "caress"}, {"ponies", "poni"},     {"ties", "tie"},          {"cats", "cat"},
      {"agreed", "agre"},     {"hopping", "hop"},     {"filing", "file"},       {"happy", "happi"},
      {"enjoy", "enjoy"},     {"relational", "relat"}, {"generalizations", "gener"}, {"dying", "die"},
      {"skies", "sky"},       {"Running", "run"},     {"as", "as"},             {"geology", "geolog"},
      {"controlling", "control"}, {"assessment", "assess"}, {"larger", "larger"}, {"missing", "miss"},
      {"abnormalities", "abnorm"}, {"fully", "fulli"}, {"ΣΑΣ", "σας"}};
  for (const auto& [word, stem] : cases) {
    INFO(word);
    CHECK(p.stem(word) == stem);
  }
}

TEST_CASE("METEOR equals nltk's meteor_score on the golden pairs, stage by stage", "[eval][meteor]") {
  ECGBENCH_REQUIRE_TEST_DATA("metrics");
  ECGBENCH_REQUIRE_WORDNET();
  const auto golden = read_json(test_data_path / "expected.json");
  const WordNet& wn = WordNet::shared(test::wordnet_dir());
  const MeteorScorer scorer(wn);
  auto as_set = [](const std::vector<WordMatch>& v) { return std::set<WordMatch>(v.begin(), v.end()); };
  auto golden_set = [](const Json& j) {
    std::set<WordMatch> s;
    for (const auto& m : j) s.emplace(m[0].get<std::size_t>(), m[1].get<std::size_t>());
    return s;
  };
  std::vector<std::string> refs, hyps;
  std::size_t synonym_pairs = 0;
  for (const auto& p : golden["pairs"]) {
    if (!p["valid"].get<bool>()) continue;
    INFO("line " << p["line"] << ": " << p["hyp"] << " | " << p["ref"]);
    refs.push_back(p["ref"]);
    hyps.push_back(p["hyp"]);
    const auto d = scorer.score(refs.back(), hyps.back());
    CHECK(d.score == p["meteor"].get<double>());
    const auto& g = p["meteor_detail"];
    CHECK(d.hyp_len == g["hyp_len"].get<std::size_t>());
    CHECK(d.ref_len == g["ref_len"].get<std::size_t>());
    CHECK(d.matches == g["matches"].get<std::size_t>());
    if (d.matches > 0) CHECK(d.chunks == g["chunks"].get<std::size_t>());
    CHECK(as_set(d.exact) == golden_set(g["exact"]));
    CHECK(as_set(d.stem) == golden_set(g["stem"]));
    CHECK(as_set(d.synonym) == golden_set(g["synonym"]));
    synonym_pairs += !d.synonym.empty();
  }
  CHECK(synonym_pairs >= 4);  // the WordNet stage is exercised
  CHECK(std::abs(meteor(refs, hyps, scorer) - golden["corpus"]["METEOR"].get<double>()) < 1e-15);
  // nltk 3.8 and 3.9 differ on one known pair: 3.8's morphy strips "assess" twice to the noun "ass".
  const auto& div = golden["nltk_version_divergence"];
  CHECK(scorer.score(div["ref"], div["hyp"]).score == div["meteor_nltk39_morphy"].get<double>());
  const MeteorScorer scorer38(wn, {0.9, 3.0, 0.5, MorphyVersion::nltk38});
  CHECK(scorer38.score(div["ref"], div["hyp"]).score == div["meteor_builtin_morphy"].get<double>());
  CHECK(wn.morphy("assess", WordNet::noun, MorphyVersion::nltk38) == std::vector<std::string>{"ass"});
  CHECK(wn.morphy("assess", WordNet::noun, MorphyVersion::nltk39).empty());
}

TEST_CASE("METEOR by hand: chunks, penalty, empty sides, WordNet errors", "[eval][meteor]") {
  ECGBENCH_REQUIRE_WORDNET();
  const MeteorScorer scorer(WordNet::shared(test::wordnet_dir()));
  // "a b c" vs "c b a": 3 matches, 3 chunks. P = R = 1, fmean = 1 / (0.9 + 0.1) = 1,
  // penalty = 0.5 * (3/3)^3 = 0.5 -> 0.5.
  const auto d = scorer.score("c b a", "a b c");
  CHECK(d.matches == 3);
  CHECK(d.chunks == 3);
  CHECK(d.score == Approx(0.5).epsilon(1e-15));
  // Identical 4 words: one chunk, penalty 0.5 / 64.
  CHECK(scorer.score("sinus rhythm is normal", "Sinus Rhythm is normal").score == Approx(1 - 0.5 / 64).epsilon(1e-15));
  // Stems: "waves" ~ "wave"; P = 1/1, R = 1/2 -> fmean = 0.5 / (0.9 + 0.05); penalty 0.5.
  const auto s = scorer.score("wave inverted", "waves");
  CHECK(s.stem.size() == 1);
  CHECK(s.score == Approx(0.5 * 0.5 / 0.95).epsilon(1e-12));
  CHECK(scorer.score("", "x").score == 0.0);
  CHECK(scorer.score("x", "y").score == 0.0);
  CHECK_THROWS_WITH(WordNet(test::temp_dir()), Catch::Contains("WordNet 3.0 database not found"));
  const auto bad = test::temp_dir() / "wn-bad";
  std::filesystem::create_directories(bad);
  for (const char* f : {"index.noun", "index.verb", "index.adj", "index.adv"})
    write_file_atomically(bad / f, std::string("  license\nword n 3 0 3 0 00001740\n"));
  CHECK_THROWS_WITH(WordNet(bad), Catch::Contains("index.noun:2") && Catch::Contains("fewer synset offsets than declared"));
}

TEST_CASE("evaluate_strings equals upstream's on the corpus and every edge case", "[eval][evaluate_strings]") {
  ECGBENCH_REQUIRE_TEST_DATA("metrics");
  ECGBENCH_REQUIRE_WORDNET();
  const auto golden = read_json(test_data_path / "expected.json");
  const auto all = parse_metrics("bleu,bleu_sent,meteor,rouge,acc");
  MetricOptions mo;
  mo.wordnet = test::wordnet_dir().string();
  mo.nltk = "3.8";  // the golden file's nltk
  auto same = [](const Json& got, const Json& want) {
    for (const char* m : {"BLEU", "BLEU_sent", "METEOR", "ACC"}) {
      INFO(m);
      REQUIRE(got.contains(m));
      CHECK(got[m].get<double>() == Approx(want[m].get<double>()).margin(1e-12));
    }
    for (const char* m : {"rouge-1", "rouge-2", "rouge-l"}) {
      INFO(m);
      CHECK(got["ROUGE"][m].get<double>() == Approx(want["ROUGE"][m].get<double>()).margin(1e-12));
    }
  };
  // The whole corpus, empty-sided lines included (dropped by the function itself).
  const auto hyp = text_lines(read_file(test_data_path / "hyp.txt")), ref = text_lines(read_file(test_data_path / "ref.txt"));
  const Json corpus = evaluate_strings(hyp, ref, all, mo);
  same(corpus, golden["corpus"]);
  CHECK(corpus["num_pairs"] == golden["num_pairs"]);
  std::size_t cases = 0;
  for (const auto& e : golden["edge_cases"]) {
    const std::string name = e["name"];
    INFO(name);
    const auto refs = e["refs"].get<std::vector<std::string>>(), hyps = e["hyps"].get<std::vector<std::string>>();
    ++cases;
    if (name == "length_mismatch") {
      CHECK_THROWS_WITH(evaluate_strings(hyps, refs, all, mo), Catch::Contains("1 hypotheses but 2 references"));
    } else if (name == "rouge_dot_only_hyp") {
      // Upstream raises; with the switch we do too, by default the pair scores ROUGE 0.
      MetricOptions up = mo;
      up.upstream_rouge_empty_error = true;
      CHECK_THROWS_WITH(evaluate_strings(hyps, refs, all, up), Catch::Contains("hypothesis is empty"));
      const Json ours = evaluate_strings(hyps, refs, all, mo);
      CHECK(ours["ROUGE"]["rouge-l"].get<double>() == 0.0);
      CHECK(ours["rouge_empty_pairs"] == 1);
      CHECK(ours["ACC"].get<double>() == 0.0);
    } else {
      REQUIRE(e.contains("result"));
      same(evaluate_strings(hyps, refs, all, mo), e["result"]);
    }
  }
  CHECK(cases == 7);
}
