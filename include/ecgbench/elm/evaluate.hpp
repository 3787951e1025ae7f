// Evaluation of a trained ELM as ECG-Bench does it (upstream-inventory §8): for every assistant
// turn of the test conversations the prefix up to that answer is the prompt, the model answers
// (greedy by default; the checkpoint's generation_config with `sampling`), generation stops at the
// template's end-of-turn tokens, answers are decoded without special tokens and stripped, pairs with
// an empty side are dropped, and the metrics are computed per seed; over seeds, mean, std and 95 %
// CI. History holds the gold answers ([H], default) or the model's own earlier answers ([P]).
// Batched with left padding and a KV cache (answers equal those of batch 1). Resumable: finished
// turns are appended to turns_seed_<s>.jsonl and skipped on restart.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "ecgbench/core/progress.hpp"
#include "ecgbench/elm/builder.hpp"
#include "ecgbench/elm/collate.hpp"
#include "ecgbench/elm/train_run.hpp"
#include "ecgbench/models/device.hpp"
#include "ecgbench/eval/evaluate_strings.hpp"
#include "ecgbench/train/checkpoint.hpp"

namespace ecgbench::elm {

struct EvaluateSettings {
  std::filesystem::path run;    ///< run folder of ecgbench-train
  std::filesystem::path checkpoint;  ///< a checkpoint folder (default: the run's latest)
  std::vector<std::string> data;  ///< test conversations (mapped JSONL)
  std::string segments;
  std::vector<std::uint64_t> seeds{0, 1};
  std::string protocol = "gold-history";  ///< gold-history ([H]) | own-history ([P])
  std::string perturb = "none";           ///< none | noise | blackout | no-signal
  std::int64_t max_new_tokens = 128, batch_size = 8, limit = 0;
  bool sampling = false;         ///< the LLM's generation_config.json (temperature, top-p, top-k)
  bool upstream_offset = false;  ///< [P]'s +4 answer offset (one token too many for ChatML / Gemma)
  std::set<std::string> metrics{"bleu", "bleu_sent", "meteor", "rouge", "acc"};
  eval::MetricOptions metric_options;
  std::filesystem::path out;
  bool progress = true;
  std::string device = "cpu";
  std::string precision = "fp32";  ///< fp32 | bf16-autocast | bf16 (models/device.hpp)
  std::string attention;           ///< auto | eager | sdpa; empty: the run's
  int threads = 1;
};

/// One evaluated turn.
struct TurnResult {
  std::string id;
  std::size_t turn = 0;  ///< index of the assistant turn within the conversation
  std::string question, gold, generated;
  std::int64_t tokens = 0, prompt_tokens = 0;
  double seconds = 0;
  [[nodiscard]] Json to_json() const {
    return {{"id", id},         {"turn", turn},         {"question", question}, {"gold", gold}, {"generated", generated},
            {"tokens", tokens}, {"prompt_tokens", prompt_tokens}, {"seconds", seconds}};
  }
};

/// Upstream [P]'s answer offset: it cut each prompt 4 tokens after the start of the assistant turn,
/// which is the Llama 3 header exactly; for ChatML / Gemma (3-token headers) the first answer token
/// joins the prompt and leaves the scored text. Applied to a prompt built up to the header; returns
/// the gold text that remains.
inline std::string apply_upstream_offset(data::ElmItem& item, const std::vector<std::int32_t>& answer_ids, const tokenize::HfTokenizer& tok) {
  if (answer_ids.empty()) return "";
  item.enc.ids.push_back(answer_ids.front());
  item.enc.labels.push_back(-100);
  item.enc.attention_mask.push_back(1);
  item.enc.position_ids.push_back(item.enc.position_ids.empty() ? 0 : item.enc.position_ids.back() + 1);
  return std::string(tokenize::trim_whitespace(tok.decode(std::span<const std::int32_t>(answer_ids).subspan(1), true)));
}

/// Generation settings: greedy, or with `sampling` the LLM folder's generation_config.json.
inline models::GenerationOptions generation_options(const ElmConfig& c, const ElmTokenizers& tok, const EvaluateSettings& s, std::uint64_t seed) {
  models::GenerationOptions g;
  g.max_new_tokens = s.max_new_tokens;
  for (const auto& stop : tokenize::chat_stop_tokens(tok.format))
    if (auto id = tok.text.token_to_id(stop)) g.eos_token_ids.push_back(*id);
  if (auto eos = tok.text.eos_id()) g.eos_token_ids.push_back(*eos);
  g.pad_token_id = tok.text.pad_id();
  g.seed = seed;
  if (s.sampling) {
    const auto f = std::filesystem::path(c.llm) / "generation_config.json";
    Json gc = std::filesystem::exists(f) ? read_json(f) : Json::object();
    g.do_sample = gc.value("do_sample", true);
    g.temperature = gc.value("temperature", 1.0);
    g.top_p = gc.value("top_p", 1.0);
    g.top_k = gc.value("top_k", 50);
  }
  return g;
}

template <class ElmT>
std::vector<Json> evaluate_typed(ElmConfig& c, const EvaluateSettings& s) {
  namespace fs = std::filesystem;
  ElmTokenizers tok = prepare_tokenizers(c);
  ElmT elm = build_elm<ElmT>(c, tok);
  fs::path ckpt = s.checkpoint;
  if (ckpt.empty()) {
    const auto latest = train::CheckpointStore(s.run).latest();
    if (!latest) throw Error({s.run.string(), {}, {}, {}}, "the run folder has no checkpoint (checkpoints/step-N); train first");
    ckpt = *latest;
  }
  if (!fs::exists(ckpt / "model.safetensors")) throw Error({ckpt.string(), {}, {}, {}}, "not a checkpoint folder (no model.safetensors)");
  elm->load_trainable(ckpt);
  const auto [dev, precision] = models::parse_placement(s.device, s.precision);
  models::place(*elm, dev, precision);
  elm->eval();
  std::vector<data::Conversation> convs;
  for (const auto& f : s.data) {
    auto part = data::read_conversations(f);
    convs.insert(convs.end(), part.begin(), part.end());
  }
  if (s.limit > 0 && static_cast<std::size_t>(s.limit) < convs.size()) convs.resize(static_cast<std::size_t>(s.limit));
  data::ElmDataOptions dopt = data_options(c, tok, false);
  dopt.perturbation = represent::parse_perturbation(s.perturb);
  fs::create_directories(s.out);
  std::vector<Json> per_seed;
  for (const auto seed : s.seeds) {
    const fs::path seed_json = s.out / eval::seed_file_name(seed, s.perturb, !c.rag_db.empty());
    const fs::path turns_jsonl = s.out / ("turns_seed_" + std::to_string(seed) + (s.perturb == "none" ? "" : "_" + s.perturb) + ".jsonl");
    if (fs::exists(seed_json)) {  // finished earlier
      per_seed.push_back(read_json(seed_json));
      continue;
    }
    torch::manual_seed(seed);
    dopt.seed = seed;
    data::ElmDataset ds(convs, s.segments, tok.text, tok.ecg ? &*tok.ecg : nullptr, dopt);
    const models::GenerationOptions gen = generation_options(c, tok, s, seed);
    // Resume: turns already written.
    std::map<std::pair<std::string, std::size_t>, TurnResult> done;
    if (fs::exists(turns_jsonl))
      for_each_jsonl(turns_jsonl, [&](Json&& j, std::size_t) {
        TurnResult t;
        t.id = j.at("id").get<std::string>(), t.turn = j.at("turn").get<std::size_t>(), t.question = j.value("question", ""), t.gold = j.at("gold").get<std::string>();
        t.generated = j.at("generated").get<std::string>(), t.tokens = j.value("tokens", 0), t.seconds = j.value("seconds", 0.0);
        t.prompt_tokens = j.value("prompt_tokens", 0);
        done[{t.id, t.turn}] = t;
      });
    std::ofstream log(turns_jsonl, std::ios::app);
    if (!log) throw Error({turns_jsonl.string(), {}, {}, {}}, "cannot open for appending");
    std::size_t total_turns = 0;
    for (std::size_t i = 0; i < ds.size(); ++i)
      for (const auto& t : ds.conversation(i).turns) total_turns += t.role == data::Role::assistant;
    std::optional<Progress> progress;
    if (s.progress) progress.emplace("evaluate seed " + std::to_string(seed), total_turns, "turns");
    std::vector<std::vector<data::Turn>> history(ds.size());  // own-history: the turns with generated answers
    for (std::size_t i = 0; i < ds.size(); ++i) history[i] = ds.conversation(i).turns;
    std::vector<TurnResult> results;
    std::vector<std::pair<std::size_t, std::size_t>> order;  // (conversation, turn) of each result
    for (std::size_t start = 0; start < ds.size(); start += static_cast<std::size_t>(std::max<std::int64_t>(1, s.batch_size))) {
      const std::size_t end = std::min(ds.size(), start + static_cast<std::size_t>(std::max<std::int64_t>(1, s.batch_size)));
      // Assistant turn k of every conversation of the batch, k = 0, 1, ...
      for (std::size_t k = 0;; ++k) {
        std::vector<std::size_t> rows;
        std::vector<std::size_t> turn_index;
        std::vector<data::ElmItem> items;
        std::vector<std::string> golds, questions;
        for (std::size_t i = start; i < end; ++i) {
          const auto& turns = ds.conversation(i).turns;
          std::size_t seen = 0, at = turns.size();
          for (std::size_t t = 0; t < turns.size(); ++t)
            if (turns[t].role == data::Role::assistant && seen++ == k) {
              at = t;
              break;
            }
          if (at == turns.size()) continue;
          const std::string id = ds.conversation(i).id;
          if (auto it = done.find({id, k}); it != done.end()) {  // resumed
            results.push_back(it->second);
            order.emplace_back(i, k);
            if (s.protocol == "own-history") history[i][at].text = it->second.generated;
            if (progress) progress->tick();
            continue;
          }
          std::vector<data::Turn> prefix(history[i].begin(), history[i].begin() + static_cast<std::ptrdiff_t>(at));
          auto item = ds.prompt(i, prefix);
          if (!item) continue;
          std::string gold = std::string(tokenize::trim_whitespace(turns[at].text));
          if (s.upstream_offset && tok.format != tokenize::ChatFormat::llama3) gold = apply_upstream_offset(*item, tok.text.encode(turns[at].text, false), tok.text);
          rows.push_back(i);
          turn_index.push_back(at);
          items.push_back(std::move(*item));
          golds.push_back(gold);
          std::string q;
          for (std::size_t t = at; t-- > 0;)
            if (turns[t].role == data::Role::user) {
              q = turns[t].text;
              break;
            }
          questions.push_back(q);
        }
        bool any_left = false;
        for (std::size_t i = start; i < end; ++i) {
          std::size_t n = 0;
          for (const auto& t : ds.conversation(i).turns) n += t.role == data::Role::assistant;
          any_left |= n > k + 1;
        }
        if (!items.empty()) {
          const auto t0 = std::chrono::steady_clock::now();
          const ElmBatch b = collate(items, *tok.text.pad_id(), c.encoder_tokens).to(dev);
          const models::PrecisionScope amp(precision, dev);
          const torch::Tensor out = elm->generate(b, gen).to(torch::kCPU);
          const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / static_cast<double>(items.size());
          for (std::size_t r = 0; r < items.size(); ++r) {
            std::vector<std::int32_t> ids;
            for (std::int64_t j = 0; j < out.size(1); ++j) {
              const auto id = out[static_cast<std::int64_t>(r)][j].item<std::int64_t>();
              if (std::find(gen.eos_token_ids.begin(), gen.eos_token_ids.end(), id) != gen.eos_token_ids.end()) break;
              ids.push_back(static_cast<std::int32_t>(id));
            }
            TurnResult tr;
            tr.id = ds.conversation(rows[r]).id;
            tr.turn = k;
            tr.question = questions[r];
            tr.gold = golds[r];
            tr.generated = std::string(tokenize::trim_whitespace(tok.text.decode(ids, true)));
            tr.tokens = static_cast<std::int64_t>(ids.size());
            tr.prompt_tokens = static_cast<std::int64_t>(items[r].enc.ids.size());
            tr.seconds = secs;
            if (s.protocol == "own-history") history[rows[r]][turn_index[r]].text = tr.generated;
            log << tr.to_json().dump() << '\n';
            results.push_back(std::move(tr));
            order.emplace_back(rows[r], k);
            if (progress) progress->tick();
          }
          log.flush();
        }
        if (!any_left) break;
      }
    }
    if (progress) progress->finish();
    // Scores and qa_results in dataset order (conversation, then turn), whatever the batch size.
    std::vector<std::size_t> idx(results.size());
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return order[a] < order[b]; });
    std::vector<std::string> gts, gens;
    for (const auto i : idx) gts.push_back(results[i].gold), gens.push_back(results[i].generated);
    Json averages = eval::evaluate_strings(gens, gts, s.metrics, s.metric_options);
    Json j{{"averages", averages}, {"qa_results", {{"gt_answers", gts}, {"gen_answers", gens}}},
           {"settings", {{"protocol", s.protocol}, {"perturb", s.perturb}, {"sampling", s.sampling}, {"checkpoint", ckpt.string()}, {"turns", results.size()},
                         {"skipped", ds.report()}}}};
    write_json(seed_json, j);
    per_seed.push_back(j);
  }
  if (per_seed.size() >= 2) write_json(s.out / "statistical_results.json", eval::statistical_results(eval::multi_seed_table(per_seed)));
  return per_seed;
}

/// Evaluates the run's composition; returns the per-seed results (as written).
#if defined(ECGBENCH_ELM_PREBUILT) && !defined(ECGBENCH_ELM_DEFINE_INFERENCE)
std::vector<Json> evaluate_elm(const EvaluateSettings& s);  // compiled once: elm/prebuilt.hpp
#else
ECGBENCH_ELM_INFERENCE_LINKAGE std::vector<Json> evaluate_elm(const EvaluateSettings& s) {
  if (s.protocol != "gold-history" && s.protocol != "own-history") throw Error("unknown protocol '" + s.protocol + "' (gold-history, own-history)");
  (void)represent::parse_perturbation(s.perturb);
  if (s.seeds.empty()) throw Error("no seeds to evaluate");
  if (s.data.empty()) throw Error("no test data");
  (void)models::parse_precision(s.precision);
  ElmConfig c = ElmConfig::read(s.run);
  if (!s.attention.empty()) c.attention = s.attention;
  torch::set_num_threads(s.threads);
  return dispatch_elm(c, [&]<class ElmT>() { return evaluate_typed<ElmT>(c, s); });
}
#endif

}  // namespace ecgbench::elm
