// ecgbench-eval: score generated text against references (upstream ECG-Bench's evaluate_strings) and
// summarise several seeds (its run_statistical_analysis) as Markdown, CSV or JSON tables.
// Metrics: BLEU, BLEU_sent, METEOR (WordNet 3.0 from Debian's wordnet-base), ROUGE-1/2/L, ACC, and
// BERTScore with a local BERT / RoBERTa checkpoint (LibTorch; nothing is downloaded).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <optional>
#include <set>

#include "ecgbench/core/json.hpp"
#include "ecgbench/core/strings.hpp"
#include "ecgbench/eval/bertscore.hpp"
#include "ecgbench/eval/eval.hpp"

using namespace ecgbench;
using namespace ecgbench::eval;

namespace {

// One text per line ("\n" only, nothing stripped), or a JSONL file with hyp/ref fields.
std::vector<std::string> read_lines(const std::string& path) {
  auto out = text_lines(read_file(path));
  for (std::size_t i = 0; i < out.size(); ++i) {
    try {
      (void)python_split(out[i]);
    } catch (const Error& e) {
      throw Error({path, i + 1, {}, {}}, e.what());
    }
  }
  return out;
}

struct MeteorConfig {
  std::string wordnet;          // empty = default directory
  std::string nltk = "3.9";     // morphy behaviour
  std::string bert_model;       // BERTScore checkpoint folder
  std::int64_t bert_layer = -1;
  bool bert_idf = false;
  std::string bert_baseline;
};

Json score(std::vector<std::string> hyps, std::vector<std::string> refs, const std::set<std::string>& metrics, const MeteorConfig& mc) {
  // Upstream drops pairs where either side is empty before scoring.
  std::vector<std::string> h, r;
  for (std::size_t i = 0; i < hyps.size(); ++i)
    if (!hyps[i].empty() && !refs[i].empty()) h.push_back(std::move(hyps[i])), r.push_back(std::move(refs[i]));
  Json out;
  if (h.empty()) {
    for (const auto& m : metrics) {
      if (m == "rouge") out["ROUGE"] = {{"rouge-1", 0.0}, {"rouge-2", 0.0}, {"rouge-l", 0.0}};
      else if (m == "bleu") out["BLEU"] = 0;
      else if (m == "bleu_sent") out["BLEU_sent"] = 0;
      else if (m == "meteor") out["METEOR"] = 0.0;
      else if (m == "bertscore") out["BERTSCORE"] = {{"hf-prec", Json::array()}, {"hf-rec", Json::array()}, {"hf-f1", Json::array()}};
      else if (m == "acc") out["ACC"] = 0.0;
    }
    out["num_pairs"] = 0;
    return out;
  }
  if (metrics.count("bleu")) out["BLEU"] = corpus_bleu(r, h);
  if (metrics.count("bleu_sent")) {
    std::vector<double> v;
    for (std::size_t i = 0; i < h.size(); ++i) v.push_back(sentence_bleu_adaptive(r[i], h[i]));
    out["BLEU_sent"] = numpy_mean(v);
  }
  if (metrics.count("meteor")) {
    const WordNet& wn = WordNet::shared(mc.wordnet.empty() ? WordNet::default_directory() : std::filesystem::path(mc.wordnet));
    const MeteorScorer scorer(wn, {0.9, 3.0, 0.5, mc.nltk == "3.8" ? MorphyVersion::nltk38 : MorphyVersion::nltk39});
    out["METEOR"] = meteor(r, h, scorer);
  }
  if (metrics.count("bertscore")) {
    BertScoreOptions bo;
    if (mc.bert_layer >= 0) bo.layer = mc.bert_layer;
    bo.idf = mc.bert_idf;
    if (!mc.bert_baseline.empty()) bo.baseline = mc.bert_baseline;
    const BertScorer scorer(mc.bert_model, bo);
    const auto b = scorer.score(r, h);
    out["BERTSCORE"] = {{"hf-prec", b.precision}, {"hf-rec", b.recall}, {"hf-f1", b.f1}};  // per pair, as upstream
  }
  if (metrics.count("rouge")) {
    const auto s = rouge_average(h, r);
    out["ROUGE"] = {{"rouge-1", s.rouge1.f}, {"rouge-2", s.rouge2.f}, {"rouge-l", s.rougeL.f}};
  }
  if (metrics.count("acc")) {
    std::vector<double> v;
    for (std::size_t i = 0; i < h.size(); ++i) v.push_back(h[i] == r[i] ? 1.0 : 0.0);
    out["ACC"] = numpy_mean(v);
  }
  out["num_pairs"] = h.size();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Text metrics as ECG-Bench reports them, and multi-seed result tables"};
  app.require_subcommand(1);
  std::string hyp, ref, metrics = "bleu,bleu_sent,meteor,rouge,acc", inputs, format = "markdown", out;
  MeteorConfig mc;
  bool json = false;
  auto* sc = app.add_subcommand("score", "score hypotheses against references");
  sc->add_option("--hyp", hyp, "hypotheses, one per line (or JSONL with hyp/ref fields)")->required();
  sc->add_option("--ref", ref, "references, one per line (not needed with JSONL)");
  sc->add_option("--metrics", metrics, "comma list of bleu, bleu_sent, meteor, rouge, acc")->capture_default_str();
  sc->add_option("--wordnet", mc.wordnet, "WordNet 3.0 folder for METEOR (default $ECGBENCH_WORDNET, $WNSEARCHDIR or /usr/share/wordnet)");
  sc->add_option("--nltk", mc.nltk, "METEOR's WordNet morphy as nltk 3.9 (upstream's pin: one suffix stripped) or 3.8 (stripped until found)")
      ->check(CLI::IsMember({"3.8", "3.9"}))->capture_default_str();
  sc->add_option("--bertscore-model", mc.bert_model, "BERT / RoBERTa checkpoint folder with tokenizer files (needed for bertscore; upstream: roberta-large)");
  sc->add_option("--bertscore-layer", mc.bert_layer, "hidden layer (default: bert-score's choice for the folder name, else the last)");
  sc->add_flag("--bertscore-idf", mc.bert_idf, "idf weights from the references");
  sc->add_option("--bertscore-baseline", mc.bert_baseline, "bert-score rescale_baseline CSV (LAYER,P,R,F) for rescaling");
  sc->add_flag("--json", json, "print JSON instead of a table");
  auto* res = app.add_subcommand("results", "mean, std and 95% CI over seeds");
  res->add_option("--inputs", inputs, "RUN1.json,RUN2.json,... (outputs of score --json)")->required();
  res->add_option("--format", format, "markdown | csv | json")->capture_default_str();
  res->add_option("--out", out, "write here instead of stdout");
  CLI11_PARSE(app, argc, argv);
  try {
    if (*sc) {
      std::set<std::string> wanted;
      for (const auto& m : split(metrics, ',')) {
        if (m != "bleu" && m != "bleu_sent" && m != "meteor" && m != "rouge" && m != "acc" && m != "bertscore")
          throw Error("unknown metric '" + m + "' (available: bleu, bleu_sent, meteor, rouge, acc, bertscore)");
        if (m == "bertscore" && mc.bert_model.empty()) throw Error("bertscore needs --bertscore-model DIR (a local BERT / RoBERTa checkpoint)");
        wanted.insert(m);
      }
      std::vector<std::string> h, r;
      if (hyp.size() > 6 && hyp.substr(hyp.size() - 6) == ".jsonl") {
        for_each_jsonl(hyp, [&](Json&& j, std::size_t line) {
          h.push_back(json_get<std::string>(j, "hyp", hyp, "line " + std::to_string(line)));
          r.push_back(json_get<std::string>(j, "ref", hyp, "line " + std::to_string(line)));
        });
      } else {
        if (ref.empty()) throw Error("--ref is required unless --hyp is a JSONL file");
        h = read_lines(hyp);
        r = read_lines(ref);
        if (h.size() != r.size())
          throw Error({ref, {}, {}, {}}, std::to_string(h.size()) + " hypotheses but " + std::to_string(r.size()) + " references");
      }
      const auto s = score(std::move(h), std::move(r), wanted, mc);
      if (json) {
        std::printf("%s\n", s.dump(2).c_str());
      } else {
        for (const auto& [k, v] : s.items())
          if (v.is_object())
            for (const auto& [k2, v2] : v.items())
              std::printf("%-12s %.6f\n", k2.c_str(), v2.is_array() ? numpy_mean(v2.get<std::vector<double>>()) : v2.get<double>());
          else
            std::printf("%-12s %s\n", k.c_str(), v.dump().c_str());
      }
      return 0;
    }
    // results
    std::vector<Json> runs;
    for (const auto& f : split(inputs, ','))
      if (!f.empty()) runs.push_back(read_json(f));
    if (runs.size() < 2) throw Error("results needs at least two runs (seeds)");
    std::vector<std::pair<std::string, std::vector<double>>> rows;  // metric -> values x 100
    auto collect = [&](const std::string& name, auto get) {
      std::vector<double> v;
      for (const auto& r : runs) {
        const auto x = get(r);
        if (!x) return;
        v.push_back(*x * 100.0);
      }
      rows.emplace_back(name, v);
    };
    for (const char* m : {"BLEU", "BLEU_sent", "METEOR", "ACC"})
      collect(m, [&](const Json& r) { return r.contains(m) ? std::optional<double>(r[m].get<double>()) : std::nullopt; });
    for (const char* m : {"rouge-1", "rouge-2", "rouge-l"})
      collect(std::string("ROUGE ") + m, [&](const Json& r) {
        return r.contains("ROUGE") && r["ROUGE"].contains(m) ? std::optional<double>(r["ROUGE"][m].get<double>()) : std::nullopt;
      });
    // BERTScore: per-pair lists (upstream's form) averaged per run, or single numbers.
    for (const char* m : {"hf-prec", "hf-rec", "hf-f1"})
      collect(std::string("BERTSCORE ") + m, [&](const Json& r) -> std::optional<double> {
        if (!r.contains("BERTSCORE") || !r["BERTSCORE"].contains(m)) return std::nullopt;
        const Json& v = r["BERTSCORE"][m];
        if (v.is_array()) return v.empty() ? std::nullopt : std::optional<double>(numpy_mean(v.get<std::vector<double>>()));
        return v.get<double>();
      });
    Json j = Json::object();
    std::string table = format == "csv" ? "metric,mean,std,ci_low,ci_high\n" : "| metric | mean | std | 95% CI |\n|---|---|---|---|\n";
    for (const auto& [name, values] : rows) {
      const auto s = summarize(values);
      j[name] = {{"mean", s.mean}, {"std", s.std}, {"conf_interval", {s.ci_low, s.ci_high}}};
      char buf[256];
      if (format == "csv") std::snprintf(buf, sizeof buf, "%s,%.6f,%.6f,%.6f,%.6f\n", name.c_str(), s.mean, s.std, s.ci_low, s.ci_high);
      else std::snprintf(buf, sizeof buf, "| %s | %.2f | %.2f | [%.2f, %.2f] |\n", name.c_str(), s.mean, s.std, s.ci_low, s.ci_high);
      table += buf;
    }
    if (format != "markdown" && format != "csv" && format != "json") throw Error("unknown --format '" + format + "'");
    const std::string text = format == "json" ? j.dump(2) + "\n" : table;
    if (out.empty()) std::printf("%s", text.c_str());
    else write_file_atomically(out, text);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-eval: %s\n", e.what());
    return 1;
  }
  return 0;
}
