// ecgbench-demo: the main job on built-in defaults, runnable on a fresh machine with no data:
//   1. synthesise a PTB-XL-shaped 12-lead data set (ECGSYN-based; sinus rhythm, sinus bradycardia,
//      sinus tachycardia and atrial fibrillation in equal shares) with ECG-QA-style questions,
//   2. preprocess it exactly like a real base data set (paper filter chain, 250 Hz, 5-s segments),
//   3. map the questions onto the segments (train: patients of folds 1-9, test: fold 10),
//   4. train an ECG-Byte tokenizer on the segments and encode them,
//   5. train two small ELMs from scratch with ecgbench-train (an end-to-end ECG-Byte Llama and a
//      small MERL ResNet-1D + Llama trained end to end), the tiny Llama built from the config and
//      tokenizer shipped in resources/demo-llm,
//   6. evaluate them on the held-out patients with ecgbench-evaluate,
// then print every metric, accuracy per question type beside the majority answer, a 12-lead plot
// and summary.json (with the exact train / evaluate commands, runnable from the output folder).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <optional>

#include "ecgbench/core/core.hpp"
#include "ecgbench/core/subprocess.hpp"
#include "ecgbench/data/data.hpp"
#include "ecgbench/eval/eval.hpp"
#include "ecgbench/eval/evaluate_strings.hpp"
#include "ecgbench/io/io.hpp"
#include "ecgbench/represent/represent.hpp"
#include "ecgbench/signal/signal.hpp"
#include "ecgbench/synth/synth.hpp"
#include "ecgbench/tokenize/tokenize.hpp"

using namespace ecgbench;
namespace fs = std::filesystem;

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Runs an app beside this one in `cwd`; fails with the command line when it exits non-zero.
void run_app(const fs::path& cwd, const std::vector<std::string>& args) {
  std::string line;
  for (const auto& a : args) line += (line.empty() ? "" : " ") + a;
  if (run_program(args, cwd) != 0) throw Error("step failed: " + line);
}

/// ECG-QA template of a question (the synthetic set's five).
std::string question_type(const std::string& q) {
  if (q.rfind("Does this ECG show", 0) == 0) return "rhythm (verify)";
  if (q.rfind("Which rhythm", 0) == 0) return "rhythm (choose)";
  if (q.rfind("What is the heart rate", 0) == 0) return "heart rate";
  if (q.rfind("Is the PR interval", 0) == 0) return "PR interval";
  if (q.rfind("Is the QRS duration", 0) == 0) return "QRS duration";
  return "other";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ecgbench demo: synthesise -> preprocess -> map QA -> ECG-Byte, on built-in defaults"};
  std::string out = "demo-output";
  std::size_t n = 300, merges = 1000, steps = 500, byte_steps = 300, test_limit = 0;
  std::uint64_t seed = 0;
  unsigned jobs = 0;
  bool quiet = false;
  app.add_option("--out", out, "output folder")->capture_default_str();
  app.add_option("--n", n, "synthetic records")->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--merges", merges, "ECG-Byte merges")->capture_default_str();
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_option("--jobs", jobs, "threads (0 = all cores)")->capture_default_str();
  app.add_option("--steps", steps, "training steps of the encoder ELM (0: skip training and evaluation)")->capture_default_str();
  app.add_option("--byte-steps", byte_steps, "training steps of the ECG-Byte ELM")->capture_default_str();
  app.add_option("--test-limit", test_limit, "held-out conversations evaluated (0: all)")->capture_default_str();
  std::optional<std::size_t> byte_test_limit;
  app.add_option("--byte-test-limit", byte_test_limit,
                 "held-out conversations evaluated for the ECG-Byte ELM (default: --test-limit; its prompts hold every ECG token of the segment, "
                 "as upstream's inference does, ~1 s each here)");
  app.add_flag("--quiet", quiet, "no progress output");
  CLI11_PARSE(app, argc, argv);
  // Torch's intra-op threads (--threads of each step) times OpenBLAS's own pool oversubscribe the
  // cores: the steps run with one BLAS thread unless the caller chose otherwise.
  ::setenv("OPENBLAS_NUM_THREADS", "1", 0);
  try {
    const auto style = quiet ? ProgressStyle::quiet : ProgressStyle::automatic;
    const fs::path root(out);
    const auto t_all = std::chrono::steady_clock::now();

    std::printf("[1/6] synthesising %zu 12-lead ECGs (ECGSYN model) -> %s\n", n, (root / "synthetic").c_str());
    std::fflush(stdout);
    auto t0 = std::chrono::steady_clock::now();
    synth::DatasetOptions so;
    so.records = n;
    so.seed = seed;
    so.jobs = jobs;
    so.progress = style;
    // Four classes in equal shares, so that the questions are not 85 % one answer (rate and AF are
    // what a small model learns first); see synth::DatasetOptions::rhythms.
    so.rhythms = {synth::Rhythm::sinus, synth::Rhythm::sinus_bradycardia, synth::Rhythm::sinus_tachycardia, synth::Rhythm::atrial_fibrillation};
    const auto syn = synth::write_dataset(root / "synthetic", so);
    const double t_synth = seconds_since(t0);

    std::printf("[2/6] preprocessing (paper filter chain, 250 Hz, 1250-sample segments)\n");
    std::fflush(stdout);
    fs::remove_all(root / "preprocessed");  // a fresh run each time (the synthetic set was rewritten)
    data::PreprocessOptions po;
    po.data_dir = root / "synthetic";
    po.out_dir = root / "preprocessed";
    po.jobs = jobs;
    po.progress = style;
    log::set_level(log::Level::error);
    const auto pp = data::run_preprocess(po);

    std::printf("[3/6] mapping the ECG-QA-style questions onto the segments\n");
    std::fflush(stdout);
    t0 = std::chrono::steady_clock::now();
    const auto index = data::read_segment_index(po.out_dir / "index.jsonl");
    std::size_t matched = 0, items_total = 0;
    std::vector<Json> rows;
    std::map<std::string, std::size_t> split_sizes;
    for (const char* split : {"train", "test"}) {  // the synthetic set's test split holds the fold-10 patients
      const auto f = root / "synthetic/ecgqa/ptbxl/template" / split / "synthetic.json";
      auto part = data::read_mapping_source("ecg-qa_ptbxl", read_json(f), f.string());
      const auto mapped_part = data::map_items("ecg-qa_ptbxl", part, index);
      matched += mapped_part.matched, items_total += mapped_part.items;
      std::vector<Json> split_rows;
      for (const auto& c : mapped_part.conversations) split_rows.push_back(to_json(c)), rows.push_back(to_json(c));
      split_sizes[split] = split_rows.size();
      write_jsonl(root / "mapped" / (std::string(split) + ".jsonl"), split_rows);
    }
    write_jsonl(root / "mapped/ecg-qa_synthetic_mapped_1250.jsonl", rows);
    struct {
      std::size_t matched, items;
      std::vector<data::Conversation> conversations;
    } mapped{matched, items_total, {}};
    for (const auto& r : rows) mapped.conversations.push_back(data::conversation_from_json(r, "mapped", ""));
    const double t_map = seconds_since(t0);

    std::printf("[4/6] training an ECG-Byte tokenizer (%zu merges) and encoding every segment\n", merges);
    std::fflush(stdout);
    t0 = std::chrono::steady_clock::now();
    const auto corpus = tokenize::read_segment_symbols(po.out_dir, {}, jobs);
    const auto merge_list = tokenize::train_bpe(std::vector<std::string_view>(corpus.symbols.begin(), corpus.symbols.end()), {.merges = merges, .progress = style});
    const tokenize::EcgByteTokenizer tok(std::string(tokenize::ecg_alphabet), merge_list);
    tok.save(root / "ecg_byte_tokenizer.json");
    // A 12-lead plot of the first synthetic ECG (clinical paper) for people to look at.
    data::SegmentStore store(po.out_dir);
    represent::ClinicalPlotOptions cpo;
    cpo.title = index.front().id + " (synthetic)";
    const auto plot_path = root / "plots" / (index.front().id + ".png");
    represent::write_png(plot_path, represent::clinical_ecg_plot(store.segment(index.front()), cpo));
    const double t_train = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const auto encoded = tokenize::encode_corpus(tok, corpus, tokenize::EncodeMode::longest_match, jobs);
    const double t_encode = seconds_since(t0);
    if (const auto v = tokenize::verify_corpus(tok, corpus, encoded); v.failures) throw Error(std::to_string(v.failures) + " segments do not round-trip");
    const auto st = tokenize::token_stats(corpus, encoded, tok.vocab_size());

    std::printf("\n== ecgbench demo summary ==\n");
    std::printf("%-34s %zu records, %zu patients, %zu questions (%.2f s, %.0f records/s)\n", "synthetic data set", syn.records, syn.patients,
                syn.questions, t_synth, syn.records / t_synth);
    for (const auto& [name, count] : syn.per_rhythm) std::printf("    %-30s %zu\n", name.c_str(), count);
    std::printf("%-34s %zu records -> %zu segments, %zu skipped (%.2f s, %.0f records/s)\n", "preprocessing (paper filters)", pp.processed,
                pp.segments, pp.skipped, pp.seconds, pp.records / pp.seconds);
    std::printf("%-34s %zu of %zu questions matched -> %zu conversations (%.2f s)\n", "QA mapping", mapped.matched, mapped.items,
                rows.size(), t_map);
    std::printf("%-34s %zu merges, vocabulary %zu (%.2f s)\n", "ECG-Byte training", tok.merges().size(), tok.vocab_size(), t_train);
    std::printf("%-34s %.2fx compression; tokens per segment: median %zu, max %zu (%.2f s, %.1f M symbols/s)\n", "ECG-Byte encoding", st.compression,
                st.median, st.max, t_encode, st.symbols / t_encode / 1e6);
    if (!mapped.conversations.empty()) {
      const auto& c = mapped.conversations.front();
      std::printf("%-34s [%s] user: %s | assistant: %s\n", "example conversation", c.ecg[0].c_str(), c.turns[0].text.c_str(), c.turns[1].text.c_str());
    }
    std::printf("%-34s %s\n", "12-lead plot", plot_path.c_str());
    if (steps > 0) {
      std::fflush(stdout);
      // The small LLM ships in the repository; a copy in the output folder keeps the commands relative.
      fs::remove_all(root / "demo-llm");
      fs::copy(fs::path(ECGBENCH_SOURCE_DIR) / "resources" / "demo-llm", root / "demo-llm");
      struct ElmRun {
        std::string name, paradigm;
        std::vector<std::string> train, evaluate;
      };
      const std::string st = std::to_string(steps), th = std::to_string(jobs ? jobs : 2);
      // A small MERL ResNet-1D (BasicBlock [1, 1, 1, 1]): convolutions learn rate and rhythm in a few
      // hundred steps, where a transformer encoder trained from scratch does not (measured).
      write_json(root / "merl_tiny.json", Json{{"encoder", "merl"}, {"seq_len", 1250}, {"resnet", "ResNet(BasicBlock, [1, 1, 1, 1])"}});
      const std::vector<std::string> common{"--llm", "demo-llm", "--llm-from-scratch", "--no-peft", "--data", "mapped/train.jsonl", "--segments", "preprocessed",
                                            "--no-system-prompt", "--optimizer", "adamw", "--lr", "1e-3", "--schedule", "cosine", "--warmup", "30",
                                            "--batch-size", "8", "--epochs", "20", "--balance-answers", "3", "--seed", std::to_string(seed), "--threads", th, "--quiet"};
      std::vector<ElmRun> elms{
          {"ecg-byte", "ecg-byte", {"ecgbench-train", "--paradigm", "ecg-byte", "--encoder", "none", "--representation", "ecg-tokens", "--ecg-tokenizer",
                                    "ecg_byte_tokenizer.json", "--llm-input-len", "320", "--ecg-tokens-kept", "250", "--max-steps", std::to_string(byte_steps)}, {}},
          {"merl", "end2end-encoder", {"ecgbench-train", "--paradigm", "end2end-encoder", "--encoder", "merl", "--encoder-config", "merl_tiny.json",
                                       "--representation", "signal", "--llm-input-len", "96", "--max-steps", st}, {}}};
      Json summary_elms = Json::array();
      std::printf("\n[5/6] training two ELMs from scratch (%zu and %zu steps) and [6/6] evaluating them on held-out patients\n", byte_steps, steps);
      for (auto& e : elms) {
        e.train.insert(e.train.end(), common.begin(), common.end());
        e.train.insert(e.train.end(), {"--out", "runs/" + e.name});
        e.evaluate = {"ecgbench-evaluate", "--run", "runs/" + e.name, "--data", "mapped/test.jsonl", "--segments", "preprocessed", "--seeds", "0",
                      "--max-new-tokens", "8", "--batch-size", "16", "--threads", th, "--quiet", "--out", "eval/" + e.name};
        const std::size_t limit = e.name == "ecg-byte" && byte_test_limit ? *byte_test_limit : test_limit;
        if (limit > 0) e.evaluate.insert(e.evaluate.end() - 2, {"--limit", std::to_string(limit)});
        std::printf("    %s: train ...\n", e.name.c_str());
        std::fflush(stdout);
        fs::remove_all(root / "runs" / e.name);
        fs::remove_all(root / "eval" / e.name);
        const auto t_tr = std::chrono::steady_clock::now();
        run_app(root, e.train);
        const double train_seconds = seconds_since(t_tr);
        std::printf("    %s: evaluate ...\n", e.name.c_str());
        std::fflush(stdout);
        run_app(root, e.evaluate);
        // Accuracy per question type and the majority answer of the training data per type.
        std::map<std::string, std::map<std::string, std::size_t>> train_answers;
        for_each_jsonl(root / "mapped/train.jsonl", [&](Json&& j, std::size_t) {
          const auto c = data::conversation_from_json(j, "train", "");
          train_answers[question_type(c.turns[0].text)][c.turns[1].text]++;
        });
        std::map<std::string, std::pair<std::size_t, std::size_t>> acc, base;  // type -> (right, total)
        std::size_t right = 0, total = 0, base_right = 0;
        for_each_jsonl(root / "eval" / e.name / "turns_seed_0.jsonl", [&](Json&& j, std::size_t) {
          const std::string type = question_type(j["question"].get<std::string>());
          const auto& answers = train_answers[type];
          std::string majority;
          std::size_t best = 0;
          for (const auto& [a, count] : answers)
            if (count > best) best = count, majority = a;
          const bool ok = j["generated"] == j["gold"], bok = majority == j["gold"].get<std::string>();
          acc[type].first += ok, acc[type].second++;
          base[type].first += bok, base[type].second++;
          right += ok, base_right += bok, ++total;
        });
        const Json metrics = read_json(root / "eval" / e.name / eval::seed_file_name(0, "none"))["averages"];
        std::printf("\n  %s (%s), %zu held-out questions, trained in %.0f s\n", e.name.c_str(), e.paradigm.c_str(), total, train_seconds);
        std::printf("  %-18s %8s %10s\n", "question type", "accuracy", "majority");
        for (const auto& [type, rt] : acc)
          std::printf("  %-18s %7.1f%% %9.1f%%\n", type.c_str(), 100.0 * rt.first / rt.second, 100.0 * base[type].first / base[type].second);
        std::printf("  %-18s %7.1f%% %9.1f%%\n", "all", total ? 100.0 * right / total : 0.0, total ? 100.0 * base_right / total : 0.0);
        std::printf("  metrics x 100:");
        for (const char* m : {"BLEU", "BLEU_sent", "METEOR", "ACC"})
          if (metrics.contains(m)) std::printf("  %s %.2f", m, metrics[m].get<double>() * 100);
        if (metrics.contains("ROUGE"))
          std::printf("  ROUGE-1 %.2f  ROUGE-2 %.2f  ROUGE-L %.2f", metrics["ROUGE"]["rouge-1"].get<double>() * 100, metrics["ROUGE"]["rouge-2"].get<double>() * 100,
                      metrics["ROUGE"]["rouge-l"].get<double>() * 100);
        std::printf("\n  per-turn answers: %s\n", (root / "eval" / e.name / "turns_seed_0.jsonl").c_str());
        Json per_type = Json::object();
        for (const auto& [type, rt] : acc) per_type[type] = {{"accuracy", double(rt.first) / rt.second}, {"majority_baseline", double(base[type].first) / base[type].second}, {"questions", rt.second}};
        auto joined = [](const std::vector<std::string>& v) { Json a = Json::array(); for (const auto& x : v) a.push_back(x); return a; };
        summary_elms.push_back({{"name", e.name}, {"paradigm", e.paradigm}, {"accuracy", total ? double(right) / total : 0.0},
                                {"majority_baseline", total ? double(base_right) / total : 0.0}, {"held_out_questions", total}, {"train_seconds", train_seconds},
                                {"metrics", metrics}, {"per_question_type", per_type}, {"train_command", joined(e.train)}, {"evaluate_command", joined(e.evaluate)},
                                {"answers", (fs::path("eval") / e.name / "turns_seed_0.jsonl").string()}});
      }
      write_json(root / "summary.json", Json{{"elms", summary_elms}, {"plot", (fs::path("plots") / plot_path.filename()).string()}, {"seed", seed}, {"records", n}});
      std::printf("\n%-34s %s\n", "summary", (root / "summary.json").c_str());
    }
    std::printf("%-34s %.1f s; outputs in %s\n", "total", seconds_since(t_all), root.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-demo: %s\n", e.what());
    return 1;
  }
  return 0;
}
