// ROUGE-1, ROUGE-2 and summary-level ROUGE-L exactly as the `rouge` package 1.0.1 (pltrdy) computes
// them, which is what ECG-Bench reports: texts are cut at every '.', empty pieces dropped, each piece's
// whitespace collapsed; words of all pieces concatenated; n-grams are sets (duplicates count once);
// ROUGE-L takes, per reference sentence, the union of the words of one reconstructed LCS with every
// hypothesis sentence (a running set across reference sentences). f = 2pr / (p + r + 1e-8).
// Case-sensitive. The corpus value is the plain average of per-pair scores (get_scores(avg=True)).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/eval/text.hpp"

namespace ecgbench::eval {

struct RougeScore {
  double f = 0, p = 0, r = 0;
  std::size_t hyp = 0, ref = 0, overlap = 0;  ///< the counts behind p and r
};

struct RougeScores {
  RougeScore rouge1, rouge2, rougeL;
};

namespace detail {

// rouge's preprocessing: [" ".join(s.split()) for s in text.split(".") if len(s) > 0].
inline std::vector<std::string> rouge_sentences(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto dot = text.find('.', start);
    const std::string piece = text.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!piece.empty()) {
      std::string joined;
      for (const auto& w : python_split(piece)) joined += (joined.empty() ? "" : " ") + w;
      out.push_back(joined);
    }
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

// sentence.split(" ") for each sentence, concatenated ("" gives one empty word).
inline std::vector<std::string> rouge_words(const std::vector<std::string>& sentences) {
  std::vector<std::string> words;
  for (const auto& s : sentences) {
    std::size_t start = 0;
    while (true) {
      const auto sp = s.find(' ', start);
      words.push_back(s.substr(start, sp == std::string::npos ? std::string::npos : sp - start));
      if (sp == std::string::npos) break;
      start = sp + 1;
    }
  }
  return words;
}

inline RougeScore f_r_p(std::size_t hyp, std::size_t ref, std::size_t overlap) {
  RougeScore s;
  s.hyp = hyp;
  s.ref = ref;
  s.overlap = overlap;
  s.p = hyp == 0 ? 0.0 : static_cast<double>(overlap) / static_cast<double>(hyp);
  s.r = ref == 0 ? 0.0 : static_cast<double>(overlap) / static_cast<double>(ref);
  s.f = 2.0 * ((s.p * s.r) / (s.p + s.r + 1e-8));
  return s;
}

inline RougeScore rouge_n(const std::vector<std::string>& hyp_words, const std::vector<std::string>& ref_words, std::size_t n) {
  auto grams = [n](const std::vector<std::string>& w) {
    std::set<std::vector<std::string>> g;
    for (std::size_t i = 0; i + n <= w.size(); ++i) g.emplace(w.begin() + static_cast<std::ptrdiff_t>(i), w.begin() + static_cast<std::ptrdiff_t>(i + n));
    return g;
  };
  const auto h = grams(hyp_words), r = grams(ref_words);
  std::size_t overlap = 0;
  for (const auto& g : h) overlap += r.count(g);
  return f_r_p(h.size(), r.size(), overlap);
}

// Words of one LCS of x (reference sentence) and y (hypothesis sentence), reconstructed as rouge does.
inline std::vector<std::string> recon_lcs(const std::vector<std::string>& x, const std::vector<std::string>& y) {
  const std::size_t n = x.size(), m = y.size();
  std::vector<std::vector<int>> t(n + 1, std::vector<int>(m + 1, 0));
  for (std::size_t i = 1; i <= n; ++i)
    for (std::size_t j = 1; j <= m; ++j) t[i][j] = x[i - 1] == y[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
  std::vector<std::string> out;
  std::size_t i = n, j = m;
  while (i > 0 && j > 0) {
    if (x[i - 1] == y[j - 1]) {
      out.push_back(x[i - 1]);
      --i;
      --j;
    } else if (t[i - 1][j] > t[i][j - 1]) {
      --i;
    } else {
      --j;
    }
  }
  return out;
}

}  // namespace detail

/// The three scores of one pair; an empty side (nothing but dots) is an Error, as rouge raises.
inline RougeScores rouge_scores(const std::string& hyp, const std::string& ref) {
  const auto hs = detail::rouge_sentences(hyp), rs = detail::rouge_sentences(ref);
  if (hs.empty()) throw Error("ROUGE: hypothesis is empty after splitting at '.' ('" + hyp + "')");
  if (rs.empty()) throw Error("ROUGE: reference is empty after splitting at '.' ('" + ref + "')");
  const auto hw = detail::rouge_words(hs), rw = detail::rouge_words(rs);
  RougeScores s;
  s.rouge1 = detail::rouge_n(hw, rw, 1);
  s.rouge2 = detail::rouge_n(hw, rw, 2);
  const std::set<std::string> m_set(rw.begin(), rw.end()), n_set(hw.begin(), hw.end());
  std::set<std::string> lcs_union;
  std::size_t llcs = 0;
  for (const auto& r_sentence : rs) {
    const auto r_words = detail::rouge_words({r_sentence});
    const std::size_t before = lcs_union.size();
    for (const auto& h_sentence : hs)
      for (auto& w : detail::recon_lcs(r_words, detail::rouge_words({h_sentence}))) lcs_union.insert(std::move(w));
    llcs += lcs_union.size() - before;
  }
  RougeScore l;
  l.hyp = n_set.size();
  l.ref = m_set.size();
  l.overlap = llcs;
  l.r = static_cast<double>(llcs) / static_cast<double>(l.ref);
  l.p = static_cast<double>(llcs) / static_cast<double>(l.hyp);
  l.f = 2.0 * ((l.p * l.r) / (l.p + l.r + 1e-8));
  s.rougeL = l;
  return s;
}

/// Rouge().get_scores(hyps, refs, avg=True) F values: per-pair scores summed in order, divided by count.
inline RougeScores rouge_average(const std::vector<std::string>& hyps, const std::vector<std::string>& refs) {
  if (hyps.size() != refs.size()) throw Error("ROUGE: " + std::to_string(hyps.size()) + " hypotheses but " + std::to_string(refs.size()) + " references");
  RougeScores sum;
  for (std::size_t i = 0; i < hyps.size(); ++i) {
    const auto s = rouge_scores(hyps[i], refs[i]);
    for (auto [acc, v] : {std::pair{&sum.rouge1, &s.rouge1}, std::pair{&sum.rouge2, &s.rouge2}, std::pair{&sum.rougeL, &s.rougeL}}) {
      acc->f += v->f;
      acc->p += v->p;
      acc->r += v->r;
    }
  }
  const double n = hyps.empty() ? 1.0 : static_cast<double>(hyps.size());
  for (auto* acc : {&sum.rouge1, &sum.rouge2, &sum.rougeL}) {
    acc->f /= n;
    acc->p /= n;
    acc->r /= n;
  }
  return sum;
}

}  // namespace ecgbench::eval
