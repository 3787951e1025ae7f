// ecgbench-bertscore: BERTScore of reference / hypothesis pairs with a local BERT or RoBERTa
// checkpoint (LibTorch). ecgbench-eval, which is torch-free, runs it for `--metrics bertscore`;
// it can also be run on its own. Input: JSONL with "ref" and "hyp"; output: JSON with bert-score's
// per-pair lists as upstream stores them ({"hf-prec": [...], "hf-rec": [...], "hf-f1": [...]}).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "ecgbench/core/json.hpp"
#include "ecgbench/eval/bertscore.hpp"

using namespace ecgbench;

int main(int argc, char** argv) {
  CLI::App app{"BERTScore of ref/hyp pairs with a local BERT / RoBERTa checkpoint"};
  std::string pairs, model, baseline, out;
  std::int64_t layer = -1;
  bool idf = false;
  int threads = 1;
  app.add_option("--pairs", pairs, "JSONL, one {\"ref\": ..., \"hyp\": ...} per line")->required();
  app.add_option("--model", model, "BERT / RoBERTa folder (config.json, safetensors, tokenizer files)")->required();
  app.add_option("--layer", layer, "hidden layer (default: bert-score's choice for the folder name, else the last)");
  app.add_flag("--idf", idf, "idf weights from the references");
  app.add_option("--baseline", baseline, "bert-score rescale_baseline CSV (LAYER,P,R,F)");
  app.add_option("--threads", threads, "intra-op threads")->capture_default_str();
  app.add_option("--out", out, "output JSON")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    torch::set_num_threads(threads);
    std::vector<std::string> refs, hyps;
    for_each_jsonl(pairs, [&](Json&& j, std::size_t line) {
      refs.push_back(json_get<std::string>(j, "ref", pairs, "line " + std::to_string(line)));
      hyps.push_back(json_get<std::string>(j, "hyp", pairs, "line " + std::to_string(line)));
    });
    eval::BertScoreOptions o;
    if (layer >= 0) o.layer = layer;
    o.idf = idf;
    if (!baseline.empty()) o.baseline = baseline;
    const eval::BertScorer scorer(model, o);
    const auto b = scorer.score(refs, hyps);
    write_json(out, Json{{"hf-prec", b.precision}, {"hf-rec", b.recall}, {"hf-f1", b.f1}});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-bertscore: %s\n", e.what());
    return 1;
  }
  return 0;
}
