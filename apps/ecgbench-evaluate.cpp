// ecgbench-evaluate: answers every assistant turn of a test set with a trained ELM and scores the
// answers (BLEU, BLEU_sent, METEOR, ROUGE, ACC, optionally BERTScore) per seed, then mean, std and
// 95% CI over seeds. Output per seed in upstream's schema plus a JSONL of every turn; resumable.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "ecgbench/core/strings.hpp"
#include "ecgbench/elm/evaluate.hpp"
#include "ecgbench/eval/bertscore.hpp"

using namespace ecgbench;

int main(int argc, char** argv) {
  CLI::App app{"Evaluate a trained ELM on a test set (per-turn generation, metrics over seeds)"};
  elm::EvaluateSettings s;
  std::string run, data, seeds = "0,1", metrics = "bleu,bleu_sent,meteor,rouge,acc", bert_model, checkpoint, out;
  app.add_option("--run", run, "run folder of ecgbench-train")->required();
  app.add_option("--checkpoint", checkpoint, "a checkpoint folder of the run (default: the latest)");
  app.add_option("--data", data, "test conversations (mapped JSONL), comma-separated")->required();
  app.add_option("--segments", s.segments, "preprocessed segments folder")->required();
  app.add_option("--seeds", seeds, "comma-separated seeds")->capture_default_str();
  app.add_option("--protocol", s.protocol, "gold-history ([H]) | own-history ([P])")->check(CLI::IsMember({"gold-history", "own-history"}))->capture_default_str();
  app.add_option("--perturb", s.perturb, "none | noise | blackout | no-signal")->capture_default_str();
  app.add_option("--max-new-tokens", s.max_new_tokens, "per answer")->capture_default_str();
  app.add_option("--batch-size", s.batch_size, "prompts generated together (left-padded)")->capture_default_str();
  app.add_flag("--sampling", s.sampling, "sample with the LLM's generation_config.json (upstream's effective behaviour) instead of greedy");
  app.add_flag("--upstream-offset", s.upstream_offset, "upstream [P]'s +4 answer offset (one token too many for Qwen / Gemma)");
  app.add_option("--limit", s.limit, "first N conversations only");
  app.add_option("--metrics", metrics, "bleu, bleu_sent, meteor, rouge, acc, bertscore")->capture_default_str();
  app.add_option("--bertscore-model", bert_model, "BERT / RoBERTa folder for bertscore");
  app.add_option("--wordnet", s.metric_options.wordnet, "WordNet 3.0 folder for METEOR");
  app.add_option("--threads", s.threads, "intra-op threads")->capture_default_str();
  app.add_option("--device", s.device, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--precision", s.precision, "fp32 | bf16-autocast | bf16")->capture_default_str();
  app.add_option("--attention", s.attention, "eager | sdpa | auto (default: the run's)");
  app.add_flag("--quiet", [&](std::int64_t) { s.progress = false; }, "no progress line");
  app.add_option("--out", out, "output folder")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    s.run = run;
    s.checkpoint = checkpoint;
    s.out = out;
    for (const auto& d : split(data, ',')) if (!d.empty()) s.data.push_back(d);
    s.seeds.clear();
    for (const auto& x : split(seeds, ',')) if (!x.empty()) s.seeds.push_back(std::stoull(x));
    s.metrics = eval::parse_metrics(metrics);
    if (s.metrics.count("bertscore")) {
      if (bert_model.empty()) throw Error("bertscore needs --bertscore-model DIR");
      s.metric_options.bertscore = [bert_model](const std::vector<std::string>& r, const std::vector<std::string>& h) {
        const eval::BertScorer scorer(bert_model, {});
        const auto b = scorer.score(r, h);
        return eval::BertScoreLists{b.precision, b.recall, b.f1};
      };
    }
    const auto results = elm::evaluate_elm(s);
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& a = results[i]["averages"];
      std::printf("seed %llu: %zu pairs", static_cast<unsigned long long>(s.seeds[i]), a.value("num_pairs", std::size_t{0}));
      for (const char* m : {"BLEU", "METEOR", "ACC"})
        if (a.contains(m)) std::printf("  %s %.2f", m, a[m].get<double>() * 100);
      if (a.contains("ROUGE")) std::printf("  ROUGE-L %.2f", a["ROUGE"]["rouge-l"].get<double>() * 100);
      std::printf("\n");
    }
    std::printf("%s\n", out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-evaluate: %s\n", e.what());
    return 1;
  }
  return 0;
}
