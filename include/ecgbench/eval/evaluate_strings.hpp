// Upstream ECG-Bench's `evaluate_strings` and `run_statistical_analysis` as library calls, torch-free:
// pairs with an empty side dropped, then BLEU, BLEU_sent, METEOR, ROUGE (F of 1 / 2 / L), ACC and,
// through a callback that LibTorch code provides, BERTScore (per-pair lists, as upstream stores
// them). The multi-seed table: per metric, values x 100, mean, sample std, 95 % Student-t interval.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/eval/bleu.hpp"
#include "ecgbench/eval/meteor.hpp"
#include "ecgbench/eval/rouge.hpp"
#include "ecgbench/eval/statistics.hpp"
#include "ecgbench/eval/text.hpp"
#include "ecgbench/eval/wordnet.hpp"

namespace ecgbench::eval {

inline const std::set<std::string>& metric_names() {
  static const std::set<std::string> m{"bleu", "bleu_sent", "meteor", "rouge", "acc", "bertscore"};
  return m;
}

/// Parses "bleu,meteor,..." (each must be a known metric).
inline std::set<std::string> parse_metrics(const std::string& list) {
  std::set<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto end = list.find(',', start);
    const std::string m = list.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!m.empty()) {
      if (!metric_names().count(m)) throw Error("unknown metric '" + m + "' (available: bleu, bleu_sent, meteor, rouge, acc, bertscore)");
      out.insert(m);
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

/// BERTScore's per-pair precision, recall and F1.
struct BertScoreLists {
  std::vector<double> precision, recall, f1;
};

struct MetricOptions {
  std::string wordnet;       ///< WordNet 3.0 folder (empty: the default)
  std::string nltk = "3.9";  ///< METEOR's morphy behaviour: 3.9 (upstream's pin) or 3.8
  /// Upstream: a pair whose hypothesis or reference is nothing but dots makes the rouge package raise,
  /// ending the whole evaluation. By default such a pair scores ROUGE 0 (counted in
  /// `rouge_empty_pairs`); true restores the error.
  bool upstream_rouge_empty_error = false;
  /// BERTScore (needs a BERT / RoBERTa model, hence LibTorch); required when "bertscore" is asked for.
  std::function<BertScoreLists(const std::vector<std::string>& refs, const std::vector<std::string>& hyps)> bertscore;
};

/// Scores hypotheses against references as upstream does; `num_pairs` = the pairs kept.
inline Json evaluate_strings(const std::vector<std::string>& hyps, const std::vector<std::string>& refs, const std::set<std::string>& metrics,
                             const MetricOptions& mo = {}) {
  if (hyps.size() != refs.size()) throw Error(std::to_string(hyps.size()) + " hypotheses but " + std::to_string(refs.size()) + " references");
  std::vector<std::string> h, r;
  for (std::size_t i = 0; i < hyps.size(); ++i)
    if (!hyps[i].empty() && !refs[i].empty()) h.push_back(hyps[i]), r.push_back(refs[i]);
  Json out = Json::object();
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
    const WordNet& wn = WordNet::shared(mo.wordnet.empty() ? WordNet::default_directory() : std::filesystem::path(mo.wordnet));
    const MeteorScorer scorer(wn, {0.9, 3.0, 0.5, mo.nltk == "3.8" ? MorphyVersion::nltk38 : MorphyVersion::nltk39});
    out["METEOR"] = meteor(r, h, scorer);
  }
  if (metrics.count("bertscore")) {
    if (!mo.bertscore) throw Error("bertscore needs a BERT / RoBERTa model (bertscore_model); this build or call has none");
    const auto b = mo.bertscore(r, h);
    out["BERTSCORE"] = {{"hf-prec", b.precision}, {"hf-rec", b.recall}, {"hf-f1", b.f1}};
  }
  if (metrics.count("rouge")) {
    std::vector<std::string> rh, rr;  // the pairs rouge can score
    for (std::size_t i = 0; i < h.size(); ++i)
      if (mo.upstream_rouge_empty_error || (!detail::rouge_sentences(h[i]).empty() && !detail::rouge_sentences(r[i]).empty()))
        rh.push_back(h[i]), rr.push_back(r[i]);
    if (rh.size() == h.size()) {
      const auto s = rouge_average(h, r);
      out["ROUGE"] = {{"rouge-1", s.rouge1.f}, {"rouge-2", s.rouge2.f}, {"rouge-l", s.rougeL.f}};
    } else {  // empty pairs count as 0 in the mean over all pairs
      const double k = static_cast<double>(rh.size()) / static_cast<double>(h.size());
      const auto s = rh.empty() ? RougeScores{} : rouge_average(rh, rr);
      out["ROUGE"] = {{"rouge-1", s.rouge1.f * k}, {"rouge-2", s.rouge2.f * k}, {"rouge-l", s.rougeL.f * k}};
      out["rouge_empty_pairs"] = h.size() - rh.size();
    }
  }
  if (metrics.count("acc")) {
    std::vector<double> v;
    for (std::size_t i = 0; i < h.size(); ++i) v.push_back(h[i] == r[i] ? 1.0 : 0.0);
    out["ACC"] = numpy_mean(v);
  }
  out["num_pairs"] = h.size();
  return out;
}

/// One row of the multi-seed table: a metric's values over runs (x 100) and their statistics.
struct ResultRow {
  std::string metric;
  std::vector<double> values;
  MetricStats stats;
};

/// Upstream's run_statistical_analysis over per-run metric objects (outputs of evaluate_strings, or
/// their `averages`). Metrics missing from any run are left out.
inline std::vector<ResultRow> multi_seed_table(const std::vector<Json>& runs) {
  if (runs.size() < 2) throw Error("statistics need at least two runs (seeds or folds)");
  std::vector<ResultRow> rows;
  auto collect = [&](const std::string& name, auto get) {
    std::vector<double> v;
    for (const auto& run : runs) {
      const Json& r = run.contains("averages") ? run["averages"] : run;
      const std::optional<double> x = get(r);
      if (!x) return;
      v.push_back(*x * 100.0);
    }
    rows.push_back({name, v, summarize(v)});
  };
  for (const char* m : {"BLEU", "BLEU_sent", "METEOR", "ACC"})
    collect(m, [&](const Json& r) { return r.contains(m) && r[m].is_number() ? std::optional<double>(r[m].get<double>()) : std::nullopt; });
  for (const char* m : {"rouge-1", "rouge-2", "rouge-l"})
    collect(std::string("ROUGE ") + m, [&](const Json& r) {
      return r.contains("ROUGE") && r["ROUGE"].contains(m) ? std::optional<double>(r["ROUGE"][m].get<double>()) : std::nullopt;
    });
  for (const char* m : {"hf-prec", "hf-rec", "hf-f1"})
    collect(std::string("BERTSCORE ") + m, [&](const Json& r) -> std::optional<double> {
      if (!r.contains("BERTSCORE") || !r["BERTSCORE"].contains(m)) return std::nullopt;
      const Json& v = r["BERTSCORE"][m];
      if (v.is_array()) return v.empty() ? std::nullopt : std::optional<double>(numpy_mean(v.get<std::vector<double>>()));
      return v.get<double>();
    });
  return rows;
}

/// `statistical_results.json`: {metric: {mean, std, conf_interval, raw_values}}.
inline Json statistical_results(const std::vector<ResultRow>& rows) {
  Json j = Json::object();
  for (const auto& r : rows) j[r.metric] = {{"mean", r.stats.mean}, {"std", r.stats.std}, {"conf_interval", {r.stats.ci_low, r.stats.ci_high}}, {"raw_values", r.values}};
  return j;
}

/// The table as Markdown ("| metric | mean | std | 95% CI |") or CSV.
inline std::string format_table(const std::vector<ResultRow>& rows, const std::string& format) {
  if (format != "markdown" && format != "csv") throw Error("unknown table format '" + format + "' (markdown, csv, json)");
  std::string table = format == "csv" ? "metric,mean,std,ci_low,ci_high\n" : "| metric | mean | std | 95% CI |\n|---|---|---|---|\n";
  for (const auto& r : rows) {
    char buf[256];
    if (format == "csv") std::snprintf(buf, sizeof buf, "%s,%.6f,%.6f,%.6f,%.6f\n", r.metric.c_str(), r.stats.mean, r.stats.std, r.stats.ci_low, r.stats.ci_high);
    else std::snprintf(buf, sizeof buf, "| %s | %.2f | %.2f | [%.2f, %.2f] |\n", r.metric.c_str(), r.stats.mean, r.stats.std, r.stats.ci_low, r.stats.ci_high);
    table += buf;
  }
  return table;
}

/// Upstream's per-seed result file name ([P]: seed_{seed}_{perturb}_{rag}_{blackout}_{no_signal}.json,
/// the flags as Python prints them): probe `none | noise | blackout | no-signal`.
inline std::string seed_file_name(std::uint64_t seed, const std::string& probe, bool rag = false) {
  auto flag = [](bool b) { return b ? std::string("True") : std::string("None"); };
  return "seed_" + std::to_string(seed) + "_" + flag(probe == "noise") + "_" + flag(rag) + "_" + flag(probe == "blackout") + "_" + flag(probe == "no-signal") + ".json";
}

/// The paper's table from a folder of per-seed files (seed_{s}_{noise}_{rag}_{blackout}_{no_signal}.json):
/// per probe and RAG setting, mean +- std over seeds of BLEU, METEOR, ROUGE-L, BERTScore-F1 and ACC, x 100.
inline std::string paper_table(const std::filesystem::path& dir) {
  std::map<std::string, std::vector<Json>> groups;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("seed_", 0) != 0 || e.path().extension() != ".json") continue;
    std::vector<std::string> parts;
    std::string cur;
    for (char ch : n.substr(0, n.size() - 5)) {
      if (ch == '_') parts.push_back(cur), cur.clear();
      else cur += ch;
    }
    parts.push_back(cur);
    if (parts.size() != 6) continue;
    const std::string probe = parts[2] == "True" ? "noise" : parts[4] == "True" ? "blackout" : parts[5] == "True" ? "no-signal" : "none";
    groups[probe + (parts[3] == "True" ? " | RAG" : " | -")].push_back(read_json(e.path()));
  }
  if (groups.empty()) throw Error({dir.string(), {}, {}, {}}, "no per-seed result files (seed_*.json)");
  std::string out = "| probe | RAG | seeds | BLEU | METEOR | ROUGE-L | BERTScore-F1 | ACC |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& [key, runs] : groups) {
    auto cell = [&](auto get) -> std::string {
      std::vector<double> v;
      for (const auto& r : runs) {
        const Json& a = r.contains("averages") ? r["averages"] : r;
        const auto x = get(a);
        if (!x) return "-";
        v.push_back(*x * 100);
      }
      char buf[64];
      if (v.size() == 1) std::snprintf(buf, sizeof buf, "%.2f", v[0]);
      else std::snprintf(buf, sizeof buf, "%.2f +- %.2f", summarize(v).mean, summarize(v).std);
      return buf;
    };
    auto num = [](const char* m) { return [m](const Json& a) { return a.contains(m) && a[m].is_number() ? std::optional<double>(a[m].get<double>()) : std::nullopt; }; };
    const auto bar = key.find(" | ");
    out += "| " + key.substr(0, bar) + " | " + key.substr(bar + 3) + " | " + std::to_string(runs.size()) + " | " + cell(num("BLEU")) + " | " + cell(num("METEOR")) + " | " +
           cell([](const Json& a) { return a.contains("ROUGE") ? std::optional<double>(a["ROUGE"]["rouge-l"].get<double>()) : std::nullopt; }) + " | " +
           cell([](const Json& a) -> std::optional<double> {
             if (!a.contains("BERTSCORE") || !a["BERTSCORE"]["hf-f1"].is_array() || a["BERTSCORE"]["hf-f1"].empty()) return std::nullopt;
             return numpy_mean(a["BERTSCORE"]["hf-f1"].get<std::vector<double>>());
           }) +
           " | " + cell(num("ACC")) + " |\n";
  }
  return out;
}

}  // namespace ecgbench::eval
