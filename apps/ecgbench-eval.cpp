// ecgbench-eval: score generated text against references (upstream ECG-Bench's evaluate_strings) and
// summarise several seeds (its run_statistical_analysis) as Markdown, CSV or JSON tables.
// Metrics: BLEU, BLEU_sent, METEOR (WordNet 3.0 from Debian's wordnet-base), ROUGE-1/2/L, ACC, and
// BERTScore with a local BERT / RoBERTa checkpoint (nothing is downloaded). This app is torch-free:
// BERTScore runs in ecgbench-bertscore (LibTorch), the program beside it.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <optional>
#include <set>

#include "ecgbench/core/json.hpp"
#include "ecgbench/core/strings.hpp"
#include "ecgbench/core/subprocess.hpp"
#include "ecgbench/eval/eval.hpp"
#include "ecgbench/eval/evaluate_strings.hpp"

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

MetricOptions metric_options(const MeteorConfig& mc) {
  MetricOptions mo;
  mo.wordnet = mc.wordnet;
  mo.nltk = mc.nltk;
  if (!mc.bert_model.empty())
    mo.bertscore = [mc](const std::vector<std::string>& r, const std::vector<std::string>& h) {
      const auto dir = std::filesystem::temp_directory_path() / ("ecgbench-eval-" + std::to_string(::getpid()));
      std::filesystem::create_directories(dir);
      std::vector<Json> rows;
      for (std::size_t i = 0; i < r.size(); ++i) rows.push_back(Json{{"ref", r[i]}, {"hyp", h[i]}});
      write_jsonl(dir / "pairs.jsonl", rows);
      std::vector<std::string> args{"ecgbench-bertscore", "--pairs", (dir / "pairs.jsonl").string(), "--model", mc.bert_model, "--out", (dir / "bertscore.json").string()};
      if (mc.bert_layer >= 0) args.insert(args.end(), {"--layer", std::to_string(mc.bert_layer)});
      if (mc.bert_idf) args.push_back("--idf");
      if (!mc.bert_baseline.empty()) args.insert(args.end(), {"--baseline", mc.bert_baseline});
      if (!std::filesystem::exists(own_exe_dir() / "ecgbench-bertscore"))
        throw Error("BERTScore needs ecgbench-bertscore (built with LibTorch) beside ecgbench-eval in " + own_exe_dir().string());
      const int rc = run_program(args);
      if (rc != 0) throw Error("ecgbench-bertscore failed (exit status " + std::to_string(rc) + ")");
      const Json j = read_json(dir / "bertscore.json");
      std::filesystem::remove_all(dir);
      return BertScoreLists{j["hf-prec"].get<std::vector<double>>(), j["hf-rec"].get<std::vector<double>>(), j["hf-f1"].get<std::vector<double>>()};
    };
  return mo;
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
  std::string results_dir;
  auto* in_opt = res->add_option("--inputs", inputs, "RUN1.json,RUN2.json,... (outputs of score --json, or per-seed files)");
  res->add_option("--dir", results_dir, "an ecgbench-evaluate output folder: the paper's table per probe and RAG setting")->excludes(in_opt);
  res->add_option("--format", format, "markdown | csv | json")->capture_default_str();
  res->add_option("--out", out, "write here instead of stdout");
  CLI11_PARSE(app, argc, argv);
  try {
    if (*sc) {
      const std::set<std::string> wanted = parse_metrics(metrics);
      if (wanted.count("bertscore") && mc.bert_model.empty()) throw Error("bertscore needs --bertscore-model DIR (a local BERT / RoBERTa checkpoint)");
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
      const auto s = evaluate_strings(h, r, wanted, metric_options(mc));
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
    if (!results_dir.empty()) {
      const std::string table = paper_table(results_dir);
      if (out.empty()) std::printf("%s", table.c_str());
      else write_file_atomically(out, table);
      return 0;
    }
    if (inputs.empty()) throw Error("give --inputs A.json,B.json or --dir DIR");
    std::vector<Json> runs;
    for (const auto& f : split(inputs, ','))
      if (!f.empty()) runs.push_back(read_json(f));
    if (runs.size() < 2) throw Error("results needs at least two runs (seeds)");
    if (format != "markdown" && format != "csv" && format != "json") throw Error("unknown --format '" + format + "'");
    const auto rows = multi_seed_table(runs);
    const std::string text = format == "json" ? statistical_results(rows).dump(2) + "\n" : format_table(rows, format);
    if (out.empty()) std::printf("%s", text.c_str());
    else write_file_atomically(out, text);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-eval: %s\n", e.what());
    return 1;
  }
  return 0;
}
