// Patient-stratified K-fold splits of a preprocessed index: all segments of a patient land in one
// fold (zero patient overlap), and folds are balanced on labels by iterative stratification at
// patient level (Sechidis et al., ECML 2011): patients carrying the rarest labels are placed first,
// each into the fold that still needs most of its labels. PTB-XL may instead use its own
// `strat_fold` (1..10, mapped to (strat_fold - 1) mod K).
#pragma once

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/data/segment_index.hpp"

namespace ecgbench::data {

/// Fold (0..K-1) of every entry, in index order.
inline std::vector<int> patient_stratified_folds(const std::vector<SegmentEntry>& entries, int folds, std::uint64_t seed = 42) {
  if (folds < 2) throw Error("folds must be at least 2, got " + std::to_string(folds));
  struct Patient {
    std::vector<std::size_t> entries;
    std::vector<int> labels;  // label ids
    double rarity = std::numeric_limits<double>::infinity();
  };
  std::unordered_map<std::string, std::size_t> patient_of;
  std::vector<Patient> patients;
  std::map<std::string, int> label_id;
  std::vector<double> label_segments;
  std::vector<std::vector<int>> entry_labels(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    auto [it, fresh] = patient_of.emplace(e.patient_id.empty() ? "entry:" + e.id : e.patient_id, patients.size());
    if (fresh) patients.emplace_back();
    auto& p = patients[it->second];
    p.entries.push_back(i);
    for (const auto& l : e.labels) {
      auto [lit, new_label] = label_id.emplace(l, static_cast<int>(label_segments.size()));
      if (new_label) label_segments.push_back(0);
      label_segments[lit->second] += 1;
      entry_labels[i].push_back(lit->second);
      if (std::find(p.labels.begin(), p.labels.end(), lit->second) == p.labels.end()) p.labels.push_back(lit->second);
    }
  }
  // Desired amounts per fold (segments overall and per label), decreased as patients are placed.
  std::vector<double> need_total(folds, static_cast<double>(entries.size()) / folds);
  std::vector<std::vector<double>> need_label(folds, std::vector<double>(label_segments.size()));
  for (int f = 0; f < folds; ++f)
    for (std::size_t l = 0; l < label_segments.size(); ++l) need_label[f][l] = label_segments[l] / folds;

  for (auto& p : patients)
    for (int l : p.labels) p.rarity = std::min(p.rarity, label_segments[l]);
  std::vector<std::size_t> order(patients.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto rng = make_rng(seed);
  shuffle(order, rng);  // seeded tie-breaking among equal patients
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (patients[a].rarity != patients[b].rarity) return patients[a].rarity < patients[b].rarity;
    return patients[a].entries.size() > patients[b].entries.size();
  });

  std::vector<int> fold_of(entries.size(), -1);
  for (auto pi : order) {
    const auto& p = patients[pi];
    const double size = static_cast<double>(p.entries.size());
    int best = 0;
    double best_label = -std::numeric_limits<double>::infinity(), best_total = -std::numeric_limits<double>::infinity();
    for (int f = 0; f < folds; ++f) {
      double want = 0;
      for (int l : p.labels) want += need_label[f][l];
      const double total = need_total[f];
      if (want > best_label + 1e-9 || (std::abs(want - best_label) <= 1e-9 && total > best_total + 1e-9)) {
        best = f;
        best_label = want;
        best_total = total;
      }
    }
    for (auto ei : p.entries) {
      for (int l : entry_labels[ei]) need_label[best][l] -= 1;
      fold_of[ei] = best;
    }
    need_total[best] -= size;
  }
  return fold_of;
}

/// PTB-XL's recommended folds: (strat_fold - 1) mod K. Entries without strat_fold are an error.
inline std::vector<int> strat_fold_folds(const std::vector<SegmentEntry>& entries, int folds) {
  if (folds < 2) throw Error("folds must be at least 2");
  std::vector<int> out(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].strat_fold) throw Error({entries[i].id, {}, {}, {}}, "entry has no strat_fold (only PTB-XL has one)");
    out[i] = (*entries[i].strat_fold - 1) % folds;
  }
  return out;
}

}  // namespace ecgbench::data
