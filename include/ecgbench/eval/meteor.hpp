// METEOR exactly as nltk's meteor_score([ref.split()], hyp.split()) with its defaults (alpha 0.9,
// beta 3, gamma 0.5): lower-cased words, then three greedy stages on the words still unmatched
// (exact, Porter stem, WordNet synonym of the hypothesis *stem*), each scanning hypothesis words last
// to first and, for each, reference words last to first; fragmentation penalty on chunks.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ecgbench/eval/porter_stemmer.hpp"
#include "ecgbench/eval/text.hpp"
#include "ecgbench/eval/wordnet.hpp"

namespace ecgbench::eval {

struct MeteorOptions {
  double alpha = 0.9, beta = 3.0, gamma = 0.5;
  MorphyVersion morphy = MorphyVersion::nltk39;  ///< upstream pins nltk 3.9.1
};

using WordMatch = std::pair<std::size_t, std::size_t>;  ///< (hypothesis index, reference index)

struct MeteorDetail {
  double score = 0;
  std::size_t hyp_len = 0, ref_len = 0, matches = 0, chunks = 0;
  std::vector<WordMatch> exact, stem, synonym;  ///< in the order the stages found them
};

/// Scores sentence pairs. Thread-safe; caches stems and synonym sets across calls.
class MeteorScorer {
 public:
  explicit MeteorScorer(const WordNet& wordnet, MeteorOptions opt = {}) : wordnet_(wordnet), opt_(opt) {}

  /// nltk single_meteor_score(reference, hypothesis) on already split words.
  [[nodiscard]] MeteorDetail score_words(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) const {
    using Enum = std::vector<std::pair<std::size_t, std::string>>;
    Enum h, r;
    for (std::size_t i = 0; i < hyp.size(); ++i) h.emplace_back(i, python_lower(hyp[i]));
    for (std::size_t j = 0; j < ref.size(); ++j) r.emplace_back(j, python_lower(ref[j]));
    MeteorDetail d;
    d.hyp_len = h.size();
    d.ref_len = r.size();
    auto match = [](Enum& hs, Enum& rs, auto&& same, std::vector<WordMatch>& out) {
      for (std::size_t i = hs.size(); i-- > 0;) {
        for (std::size_t j = rs.size(); j-- > 0;) {
          if (same(hs[i].second, rs[j].second)) {
            out.emplace_back(hs[i].first, rs[j].first);
            hs.erase(hs.begin() + static_cast<std::ptrdiff_t>(i));
            rs.erase(rs.begin() + static_cast<std::ptrdiff_t>(j));
            break;
          }
        }
      }
    };
    auto equal = [](const std::string& a, const std::string& b) { return a == b; };
    match(h, r, equal, d.exact);
    for (auto& [i, w] : h) w = stem(w);  // the remaining words are stems from here on
    for (auto& [j, w] : r) w = stem(w);
    match(h, r, equal, d.stem);
    // Synonym stage: the hypothesis stem's WordNet lemma names (plus itself) contain the reference stem.
    for (std::size_t i = h.size(); i-- > 0;) {
      const auto syns = synonyms(h[i].second);
      for (std::size_t j = r.size(); j-- > 0;) {
        if (r[j].second == h[i].second || syns->count(r[j].second)) {
          d.synonym.emplace_back(h[i].first, r[j].first);
          h.erase(h.begin() + static_cast<std::ptrdiff_t>(i));
          r.erase(r.begin() + static_cast<std::ptrdiff_t>(j));
          break;
        }
      }
    }
    std::vector<WordMatch> all = d.exact;
    all.insert(all.end(), d.stem.begin(), d.stem.end());
    all.insert(all.end(), d.synonym.begin(), d.synonym.end());
    std::stable_sort(all.begin(), all.end(), [](const WordMatch& a, const WordMatch& b) { return a.first < b.first; });
    d.matches = all.size();
    if (d.hyp_len == 0 || d.ref_len == 0 || d.matches == 0) return d;  // nltk's ZeroDivisionError -> 0.0
    d.chunks = 1;
    for (std::size_t i = 0; i + 1 < all.size(); ++i)
      if (!(all[i + 1].first == all[i].first + 1 && all[i + 1].second == all[i].second + 1)) ++d.chunks;
    const double m = static_cast<double>(d.matches);
    const double precision = m / static_cast<double>(d.hyp_len), recall = m / static_cast<double>(d.ref_len);
    const double fmean = (precision * recall) / (opt_.alpha * precision + (1 - opt_.alpha) * recall);
    const double frag = static_cast<double>(d.chunks) / m;
    const double penalty = opt_.gamma * std::pow(frag, opt_.beta);
    d.score = (1 - penalty) * fmean;
    return d;
  }

  /// meteor_score([ref.split()], hyp.split()).
  [[nodiscard]] MeteorDetail score(const std::string& ref, const std::string& hyp) const {
    return score_words(python_split(ref), python_split(hyp));
  }

 private:
  std::string stem(const std::string& w) const {
    std::lock_guard lock(mutex_);
    auto it = stems_.find(w);
    if (it != stems_.end()) return it->second;
    return stems_.emplace(w, stemmer_.stem(w)).first->second;
  }
  std::shared_ptr<const std::unordered_set<std::string>> synonyms(const std::string& w) const {
    {
      std::lock_guard lock(mutex_);
      if (auto it = synonyms_.find(w); it != synonyms_.end()) return it->second;
    }
    std::unordered_set<std::string> set;
    for (auto& name : wordnet_.synset_lemma_names(python_lower(w), opt_.morphy))
      if (name.find('_') == std::string::npos) set.insert(std::move(name));
    auto ptr = std::make_shared<const std::unordered_set<std::string>>(std::move(set));
    std::lock_guard lock(mutex_);
    return synonyms_.emplace(w, ptr).first->second;
  }

  const WordNet& wordnet_;
  MeteorOptions opt_;
  PorterStemmer stemmer_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, std::string> stems_;
  mutable std::unordered_map<std::string, std::shared_ptr<const std::unordered_set<std::string>>> synonyms_;
};

/// ECG-Bench's METEOR: the mean (numpy) of per-pair meteor_score over the pairs (callers drop pairs
/// with an empty side first, as for every metric).
inline double meteor(const std::vector<std::string>& refs, const std::vector<std::string>& hyps, const MeteorScorer& scorer,
                     std::vector<MeteorDetail>* details = nullptr) {
  if (refs.size() != hyps.size()) throw Error("METEOR: " + std::to_string(hyps.size()) + " hypotheses but " + std::to_string(refs.size()) + " references");
  std::vector<double> scores;
  scores.reserve(refs.size());
  for (std::size_t i = 0; i < refs.size(); ++i) {
    auto d = scorer.score(refs[i], hyps[i]);
    scores.push_back(d.score);
    if (details) details->push_back(std::move(d));
  }
  return numpy_mean(scores);
}

}  // namespace ecgbench::eval
