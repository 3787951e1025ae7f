// BLEU exactly as nltk 3.8 computes it (bleu_score.py): clipped n-gram precisions summed over the
// corpus, SmoothingFunction().method1 (a zero numerator becomes 0.1 / denominator), brevity penalty
// exp(1 - r/c), uniform weights, fsum of the weighted logs. ECG-Bench's BLEU is corpus_bleu over
// whitespace tokens; BLEU_sent the mean sentence_bleu with n = min(4, |ref|, |hyp|).
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/eval/text.hpp"

namespace ecgbench::eval {

struct BleuCounts {
  std::vector<std::int64_t> numerators, denominators;  ///< n = 1..N
  std::int64_t hyp_length = 0, ref_length = 0;
};

/// Clipped n-gram counts of one pair (single reference), nltk's modified_precision per n.
inline void add_bleu_counts(const std::vector<std::string>& ref, const std::vector<std::string>& hyp, std::size_t max_n, BleuCounts& c) {
  c.numerators.resize(max_n, 0);
  c.denominators.resize(max_n, 0);
  for (std::size_t n = 1; n <= max_n; ++n) {
    std::map<std::vector<std::string>, std::int64_t> hyp_counts, ref_counts;
    if (hyp.size() >= n)
      for (std::size_t i = 0; i + n <= hyp.size(); ++i) ++hyp_counts[std::vector<std::string>(hyp.begin() + i, hyp.begin() + i + n)];
    if (ref.size() >= n)
      for (std::size_t i = 0; i + n <= ref.size(); ++i) ++ref_counts[std::vector<std::string>(ref.begin() + i, ref.begin() + i + n)];
    std::int64_t clipped = 0, total = 0;
    for (const auto& [g, k] : hyp_counts) {
      total += k;
      auto it = ref_counts.find(g);
      clipped += std::min(k, it == ref_counts.end() ? std::int64_t{0} : it->second);
    }
    c.numerators[n - 1] += clipped;
    c.denominators[n - 1] += std::max<std::int64_t>(1, total);
  }
  c.hyp_length += static_cast<std::int64_t>(hyp.size());
  c.ref_length += static_cast<std::int64_t>(ref.size());
}

namespace detail {
// math.fsum: exactly rounded sum (Shewchuk's partials).
inline double fsum(const std::vector<double>& xs) {
  std::vector<double> partials;
  for (double x : xs) {
    std::size_t i = 0;
    for (double y : partials) {
      if (std::abs(x) < std::abs(y)) std::swap(x, y);
      const double hi = x + y, lo = y - (hi - x);
      if (lo != 0.0) partials[i++] = lo;
      x = hi;
    }
    partials.resize(i);
    partials.push_back(x);
  }
  double s = 0.0;
  for (auto it = partials.rbegin(); it != partials.rend(); ++it) s += *it;  // exact when partials are non-overlapping
  return s;
}
}  // namespace detail

/// nltk corpus_bleu from accumulated counts with uniform weights 1/N and method1 smoothing.
/// Returns 0 when no unigram matches (nltk returns int 0 there).
inline double bleu_from_counts(const BleuCounts& c) {
  const std::size_t N = c.numerators.size();
  if (N == 0 || c.numerators[0] == 0) return 0.0;
  const double bp = c.hyp_length > c.ref_length ? 1.0
                    : c.hyp_length == 0         ? 0.0
                                                : std::exp(1.0 - static_cast<double>(c.ref_length) / static_cast<double>(c.hyp_length));
  std::vector<double> terms;
  const double w = 1.0 / static_cast<double>(N);
  for (std::size_t i = 0; i < N; ++i) {
    const double p = c.numerators[i] == 0 ? (0.0 + 0.1) / static_cast<double>(c.denominators[i])
                                          : static_cast<double>(c.numerators[i]) / static_cast<double>(c.denominators[i]);
    terms.push_back(w * std::log(p));
  }
  return bp * std::exp(detail::fsum(terms));
}

/// corpus_bleu over whitespace tokens, 4-gram uniform weights.
inline double corpus_bleu(const std::vector<std::string>& refs, const std::vector<std::string>& hyps, BleuCounts* debug = nullptr) {
  if (refs.size() != hyps.size()) throw Error("BLEU: " + std::to_string(refs.size()) + " references but " + std::to_string(hyps.size()) + " hypotheses");
  BleuCounts c;
  c.numerators.assign(4, 0);
  c.denominators.assign(4, 0);
  for (std::size_t i = 0; i < refs.size(); ++i) add_bleu_counts(python_split(refs[i]), python_split(hyps[i]), 4, c);
  if (debug) *debug = c;
  return bleu_from_counts(c);
}

/// ECG-Bench's per-pair BLEU: sentence_bleu with n = min(4, |ref|, |hyp|) uniform weights; 0 if n = 0.
inline double sentence_bleu_adaptive(const std::string& ref, const std::string& hyp) {
  const auto r = python_split(ref), h = python_split(hyp);
  const std::size_t n = std::min<std::size_t>({4, r.size(), h.size()});
  if (n == 0) return 0.0;
  BleuCounts c;
  add_bleu_counts(r, h, n, c);
  return bleu_from_counts(c);
}

}  // namespace ecgbench::eval
