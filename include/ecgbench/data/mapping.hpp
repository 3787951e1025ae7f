// Instruction / QA data sets mapped onto preprocessed ECG segments (upstream ECG-Bench's
// PreprocessMapECG): ECG-QA (PTB-XL, MIMIC-IV-ECG), ECG-Chat (pretrain_mimic, ecg_instruct_45k),
// PULSE (ecg_instruct_pulse, ecg_bench_pulse), GEM (ecg_grounding, ecg_grounding_pulse,
// ecg_grounding_test). Each item names its ECG by a path; upstream's rules turn the path into the
// record's stem, and the item is emitted once per segment of that record, like upstream.
#pragma once

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/core/strings.hpp"
#include "ecgbench/data/conversation.hpp"
#include "ecgbench/data/segment_index.hpp"

namespace ecgbench::data {

inline const std::vector<std::string>& mapping_dataset_names() {
  static const std::vector<std::string> names{"ecg-qa_ptbxl",       "ecg-qa_mimic-iv-ecg", "pretrain_mimic",     "ecg_instruct_45k",
                                              "ecg_instruct_pulse", "ecg_bench_pulse",     "ecg_grounding",      "ecg_grounding_pulse",
                                              "ecg_grounding_test"};
  return names;
}

namespace detail {

inline std::vector<std::string> split_path(const std::string& p) { return split(p, '/'); }

inline std::string join(const std::vector<std::string>& v, std::size_t from, std::size_t to, char sep = '_') {
  std::string s;
  for (std::size_t i = from; i < to && i < v.size(); ++i) s += (i > from ? std::string(1, sep) : "") + v[i];
  return s;
}

inline std::string before_dash(const std::string& file) {
  const auto dash = file.find('-');
  std::string s = dash == std::string::npos ? file : file.substr(0, dash);
  const auto dot = s.find('.');
  return dot == std::string::npos ? s : s.substr(0, dot);
}

}  // namespace detail

/// Upstream's message clean-up: `<ecg>` / `<image>` tags (with a following newline) removed;
/// "image" -> "signal" as a whole word, case preserved (image, Image, IMAGE, images); leading role
/// prefixes ("user:", "assistant:", "human:", "gpt:", "q:", "a:") stripped.
inline std::string clean_message(std::string s) {
  for (const char* tag : {"<ecg>\n", "<image>\n", "<image>", "<ecg>"}) {
    for (auto pos = s.find(tag); pos != std::string::npos; pos = s.find(tag)) s.erase(pos, std::string(tag).size());
  }
  static const std::regex word(R"(\b(image|Image|IMAGE)(s|S)?\b)");
  std::string out;
  auto begin = std::sregex_iterator(s.begin(), s.end(), word);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    out += s.substr(last, static_cast<std::size_t>(m.position()) - last);
    const std::string w = m[1].str();
    out += w == "image" ? "signal" : (w == "Image" ? "Signal" : "SIGNAL");
    if (m[2].matched) out += m[2].str() == "s" ? "s" : "S";
    last = static_cast<std::size_t>(m.position() + m.length());
  }
  out += s.substr(last);
  static const std::regex prefix(R"(^\s*(user|assistant|human|gpt|q|a)\s*:\s*)", std::regex::icase);
  out = std::regex_replace(out, prefix, "", std::regex_constants::format_first_only);
  return out;
}

/// One item of a source file, before matching: the record stems of its ECGs and its turns.
struct SourceItem {
  std::vector<std::string> stems;
  std::vector<Turn> turns;
  std::string source_id;
};

struct MappingOptions {
  bool include_comparison = false;  ///< ECG-QA comparison_* questions (two ECGs)
};

namespace detail {

inline std::vector<Turn> read_turns(const Json& conv, const std::string& file, const std::string& entry) {
  if (!conv.is_array()) throw Error({file, {}, {}, entry}, "'conversations' is not a list");
  std::vector<Turn> turns;
  for (const auto& t : conv) {
    const auto role = parse_role(json_get<std::string>(t, "from", file, entry), file, entry);
    std::string text;
    const auto& v = t.contains("value") ? t.at("value") : Json();
    if (v.is_string()) text = v.get<std::string>();
    else if (v.is_array()) {  // upstream data bug in PULSE ecgqa-test: a list of characters
      for (const auto& ch : v) text += ch.is_string() ? ch.get<std::string>() : ch.dump();
    } else {
      throw Error({file, {}, {}, entry}, "turn without a string 'value'");
    }
    turns.push_back({role, clean_message(text)});
  }
  if (turns.empty()) throw Error({file, {}, {}, entry}, "empty conversation");
  return turns;
}

// PULSE image path -> record stem.
inline std::string pulse_stem(const std::string& image, const std::string& file, const std::string& entry) {
  const auto parts = split_path(image);
  if (parts.size() < 2) throw Error({file, {}, {}, entry}, "unrecognised image path '" + image + "'");
  const std::string& prefix = parts[0];
  const std::string name = before_dash(parts.back());
  if (prefix == "mimic_v4" || prefix == "mimic") {
    // mimic_v4/files/p1000/p10000032/s40689238/40689238-0.png -> files_p1000_..._40689238
    std::vector<std::string> dirs(parts.begin() + 1, parts.end() - 1);
    if (!dirs.empty() && dirs[0] == "files") dirs.erase(dirs.begin());
    dirs.push_back(name);
    return "files_" + join(dirs, 0, dirs.size());
  }
  if (prefix == "ptb-xl" || prefix == "ptbxl") {
    // ptb-xl/.../06002_hr-0.png -> records500_06000_06002_hr
    std::string rec = name;
    if (rec.size() > 3 && rec.substr(rec.size() - 3) == "_hr") rec.resize(rec.size() - 3);
    if (rec.empty() || !std::all_of(rec.begin(), rec.end(), ::isdigit)) throw Error({file, {}, {}, entry}, "unrecognised PTB-XL image '" + image + "'");
    const long id = std::stol(rec);
    char buf[64];
    std::snprintf(buf, sizeof buf, "records500_%05ld_%05ld_hr", id / 1000 * 1000, id);
    return buf;
  }
  if (prefix == "code15_v4" || prefix == "code15") return name;
  // cpsc / csn: matched by record name against the index (see map_items).
  return "name:" + name;
}

}  // namespace detail

/// Reads the items of one source file of data set `name`.
inline std::vector<SourceItem> read_mapping_source_unchecked(const std::string& name, const Json& data, const std::string& file,
                                                             const MappingOptions& opt);

inline std::vector<SourceItem> read_mapping_source(const std::string& name, const Json& data, const std::string& file,
                                                   const MappingOptions& opt = {}) {
  return with_json_errors(file, [&] { return read_mapping_source_unchecked(name, data, file, opt); });
}

inline std::vector<SourceItem> read_mapping_source_unchecked(const std::string& name, const Json& data, const std::string& file,
                                                             const MappingOptions& opt) {
  if (std::find(mapping_dataset_names().begin(), mapping_dataset_names().end(), name) == mapping_dataset_names().end())
    throw Error({file, {}, {}, {}}, "unknown data set '" + name + "'");
  if (!data.is_array()) throw Error({file, {}, {}, {}}, "expected a JSON list of items");
  std::vector<SourceItem> out;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto& it = data[i];
    const std::string entry = "entry " + std::to_string(i);
    if (!it.is_object()) throw Error({file, {}, {}, entry}, "item is not an object");
    SourceItem s;
    s.source_id = it.contains("id") ? (it["id"].is_string() ? it["id"].get<std::string>() : it["id"].dump())
                                    : (it.contains("sample_id") ? it["sample_id"].dump() : std::to_string(i));
    if (name.starts_with("ecg-qa")) {
      const auto qtype = json_get<std::string>(it, "question_type", file, entry);
      const bool single = qtype == "single-verify" || qtype == "single-choose" || qtype == "single-query";
      if (!single && !(opt.include_comparison && qtype.starts_with("comparison"))) continue;
      if (it.contains("ecg_path")) {
        // Mapped form: "_".join(path.split("/")[2:]) per ECG.
        for (const auto& p : json_get<std::vector<std::string>>(it, "ecg_path", file, entry)) {
          const auto parts = detail::split_path(p);
          if (parts.size() < 3) throw Error({file, {}, {}, entry}, "ecg_path '" + p + "' has fewer than 3 components");
          s.stems.push_back(detail::join(parts, 2, parts.size()));
        }
      } else if (name == "ecg-qa_ptbxl") {
        // Raw form: PTB-XL ecg ids -> records500/NN000/NNNNN_hr.
        for (const auto id : json_get<std::vector<long>>(it, "ecg_id", file, entry)) {
          char buf[64];
          std::snprintf(buf, sizeof buf, "records500_%05ld_%05ld_hr", id / 1000 * 1000, id);
          s.stems.push_back(buf);
        }
      } else {
        throw Error({file, {}, {}, entry}, "MIMIC-IV-ECG items need 'ecg_path' (run ECG-QA's mapping_mimic_iv_ecg_samples.py first)");
      }
      std::string answer;
      for (const auto& a : json_get<std::vector<std::string>>(it, "answer", file, entry)) answer += (answer.empty() ? "" : " ") + a;
      s.turns = {{Role::user, json_get<std::string>(it, "question", file, entry)}, {Role::assistant, answer}};
    } else if (name == "pretrain_mimic" || name == "ecg_instruct_45k") {
      s.stems.push_back(detail::join(detail::split_path(json_get<std::string>(it, "ecg", file, entry)), 0, 1000));
      s.turns = detail::read_turns(it.at("conversations"), file, entry);
    } else if (name == "ecg_instruct_pulse" || name == "ecg_bench_pulse") {
      s.stems.push_back(detail::pulse_stem(json_get<std::string>(it, "image", file, entry), file, entry));
      if (!it.contains("conversations")) throw Error({file, {}, {}, entry}, "missing key 'conversations'");
      s.turns = detail::read_turns(it.at("conversations"), file, entry);
    } else {  // GEM grounding sets
      const auto ecg = json_get<std::string>(it, "ecg", file, entry);
      const auto parts = detail::split_path(ecg);
      if (parts[0] == "mimic-iv") s.stems.push_back(detail::join(parts, 1, parts.size()));
      else if (parts[0] == "ecg_ptbxl_benchmarking") s.stems.push_back(detail::join(parts, 3, parts.size()));
      else if (parts[0] == "code15") s.stems.push_back(parts.back());
      else throw Error({file, {}, {}, entry}, "unrecognised GEM ecg path '" + ecg + "'");
      if (!it.contains("conversations")) throw Error({file, {}, {}, entry}, "missing key 'conversations'");
      s.turns = detail::read_turns(it.at("conversations"), file, entry);
    }
    out.push_back(std::move(s));
  }
  return out;
}

struct MappingResult {
  std::vector<Conversation> conversations;
  std::size_t items = 0, matched = 0;
  std::vector<std::string> unmatched;  ///< source ids of items whose ECG is not in the index
};

/// Matches items to the segments of the preprocessed index. An item about several ECGs is emitted for
/// every segment index j that all its records have.
inline MappingResult map_items(const std::string& name, const std::vector<SourceItem>& items, const std::vector<SegmentEntry>& index) {
  std::map<std::string, std::map<std::size_t, std::string>> by_stem;  // stem -> j -> segment id
  std::map<std::string, std::string> stem_of_name;                    // record file name -> stem (CPSC/CSN)
  for (const auto& e : index) {
    const auto us = e.id.rfind('_');
    const std::string stem = e.id.substr(0, us);
    by_stem[stem][e.segment] = e.id;
    stem_of_name[e.source.substr(e.source.rfind('/') + 1)] = stem;
  }
  MappingResult r;
  r.items = items.size();
  for (const auto& item : items) {
    std::vector<const std::map<std::size_t, std::string>*> segs;
    for (auto stem : item.stems) {
      if (stem.starts_with("name:")) {
        auto it = stem_of_name.find(stem.substr(5));
        stem = it == stem_of_name.end() ? std::string() : it->second;
      }
      auto it = by_stem.find(stem);
      if (it == by_stem.end()) {
        segs.clear();
        break;
      }
      segs.push_back(&it->second);
    }
    if (segs.empty()) {
      r.unmatched.push_back(item.source_id);
      continue;
    }
    ++r.matched;
    for (const auto& [j, first_id] : *segs[0]) {
      Conversation c;
      c.name = name;
      c.turns = item.turns;
      bool all = true;
      for (const auto* s : segs) {
        auto it = s->find(j);
        if (it == s->end()) {
          all = false;
          break;
        }
        c.ecg.push_back(it->second);
      }
      if (!all) continue;
      c.id = name + ":" + item.source_id + ":" + std::to_string(j);
      r.conversations.push_back(std::move(c));
    }
  }
  return r;
}

/// Mixes mapped data sets: each input's conversations are sampled with its weight (w <= 1: a random
/// w-fraction without replacement; w > 1: all of them plus (w - 1) x size drawn with replacement),
/// then shuffled. Deterministic for a seed; weights all 1 and no shuffle = plain concatenation.
inline std::vector<Conversation> mix_conversations(const std::vector<std::vector<Conversation>>& inputs, const std::vector<double>& weights,
                                                   std::uint64_t seed, bool shuffle_output = true) {
  if (!weights.empty() && weights.size() != inputs.size())
    throw Error("mix: " + std::to_string(weights.size()) + " weights for " + std::to_string(inputs.size()) + " inputs");
  auto rng = make_rng(seed);
  std::vector<Conversation> out;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const double w = weights.empty() ? 1.0 : weights[k];
    if (!(w >= 0) || !std::isfinite(w)) throw Error("mix: weight " + std::to_string(w) + " is not a non-negative number");
    const auto& in = inputs[k];
    std::vector<std::size_t> idx(in.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    if (w < 1.0) {
      shuffle(idx, rng);
      idx.resize(static_cast<std::size_t>(std::llround(w * static_cast<double>(in.size()))));
      std::sort(idx.begin(), idx.end());
    } else if (w > 1.0 && !in.empty()) {
      const auto extra = static_cast<std::size_t>(std::llround((w - 1.0) * static_cast<double>(in.size())));
      for (std::size_t e = 0; e < extra; ++e) idx.push_back(uniform_index(rng, in.size()));
    }
    for (auto i : idx) out.push_back(in[i]);
  }
  if (shuffle_output) shuffle(out, rng);
  return out;
}

/// Class-balanced oversampling for single-answer QA: conversations are grouped by their first
/// question; within a group, a conversation whose first answer is rare is repeated
/// round(majority count / its answer's count) times, at most `max_factor`. Without it a small model
/// learns the majority answer of imbalanced questions first (85 % "no" and "normal" in ECG-QA-like
/// sets) and the ECG late. Deterministic: the result is shuffled with `seed`.
inline std::vector<Conversation> balance_answers(const std::vector<Conversation>& in, double max_factor, std::uint64_t seed) {
  if (!(max_factor >= 1) || !std::isfinite(max_factor)) throw Error("balance_answers: max_factor must be a number >= 1, got " + std::to_string(max_factor));
  auto key = [](const Conversation& c) -> std::pair<std::string, std::string> {
    std::string q, a;
    for (const auto& t : c.turns) {
      if (t.role == Role::user && q.empty()) q = t.text;
      else if (t.role == Role::assistant && !q.empty()) {
        a = t.text;
        break;
      }
    }
    return {q, a};
  };
  std::map<std::pair<std::string, std::string>, std::size_t> count;
  std::map<std::string, std::size_t> majority;
  for (const auto& c : in) ++count[key(c)];
  for (const auto& [k, n] : count) majority[k.first] = std::max(majority[k.first], n);
  std::vector<Conversation> out;
  for (const auto& c : in) {
    const auto k = key(c);
    const double ratio = static_cast<double>(majority[k.first]) / static_cast<double>(count[k]);
    const auto reps = static_cast<std::size_t>(std::max(1.0, std::min(max_factor, std::round(ratio))));
    for (std::size_t r = 0; r < reps; ++r) out.push_back(c);
  }
  auto rng = make_rng(seed, 0x62616cull);
  shuffle(out, rng);
  return out;
}

}  // namespace ecgbench::data
