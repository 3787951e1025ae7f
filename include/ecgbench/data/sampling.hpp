// Choosing segments for ECG-Byte tokenizer training, as upstream ECG-Bench does: `random`
// (uniform without replacement) or `stratified` (morphological clustering: per-lead statistics as
// features, standardised, PCA keeping 95% of the variance, k-means with k from the elbow of the
// inertia curve, then an equal share drawn from every cluster and the rest topped up at random).
// Also amplitude percentiles over a random subsample of values.
#pragma once

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/core/parallel.hpp"
#include "ecgbench/data/preprocess.hpp"
#include "ecgbench/signal/ecg_features.hpp"

namespace ecgbench::data {

/// `n` distinct indices of [0, total) in random order (all of them when n >= total).
inline std::vector<std::size_t> sample_random(std::size_t total, std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> idx(total);
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  auto rng = make_rng(seed);
  shuffle(idx, rng);
  idx.resize(std::min(n, total));
  return idx;
}

/// Per lead: mean, std, max, min, median, p25, p75, mean |dx|, RMS dx (9 x 12 = 108 features);
/// the statistics part of upstream's ECGFeatureExtractor.
inline std::vector<double> morphology_features(std::span<const float> seg, std::size_t leads, std::size_t len) {
  std::vector<double> f;
  f.reserve(leads * 9);
  std::vector<double> v(len);
  for (std::size_t l = 0; l < leads; ++l) {
    const float* x = seg.data() + l * len;
    double mean = 0, sq = 0, dabs = 0, dsq = 0;
    for (std::size_t t = 0; t < len; ++t) {
      v[t] = x[t];
      mean += x[t];
      if (t > 0) {
        const double d = static_cast<double>(x[t]) - x[t - 1];
        dabs += std::abs(d);
        dsq += d * d;
      }
    }
    mean /= static_cast<double>(len);
    for (std::size_t t = 0; t < len; ++t) sq += (x[t] - mean) * (x[t] - mean);
    std::sort(v.begin(), v.end());
    auto pct = [&](double p) {  // numpy's linear interpolation
      const double pos = p * static_cast<double>(len - 1);
      const auto i = static_cast<std::size_t>(pos);
      return i + 1 < len ? v[i] + (pos - static_cast<double>(i)) * (v[i + 1] - v[i]) : v[i];
    };
    f.insert(f.end(), {mean, std::sqrt(sq / static_cast<double>(len)), v.back(), v.front(), pct(0.5), pct(0.25), pct(0.75),
                       len > 1 ? dabs / static_cast<double>(len - 1) : 0.0, len > 1 ? std::sqrt(dsq / static_cast<double>(len - 1)) : 0.0});
  }
  return f;
}

struct KMeansResult {
  std::vector<int> assignment;
  double inertia = 0;
  int k = 0;
};

/// Lloyd's k-means with k-means++ seeding on the rows of X.
inline KMeansResult kmeans(const Eigen::MatrixXd& X, int k, std::uint64_t seed, int iterations = 100) {
  const auto n = static_cast<std::size_t>(X.rows());
  if (k < 1 || static_cast<std::size_t>(k) > n) throw Error("k-means: k = " + std::to_string(k) + " for " + std::to_string(n) + " points");
  auto rng = make_rng(seed);
  Eigen::MatrixXd C(k, X.cols());
  C.row(0) = X.row(static_cast<Eigen::Index>(uniform_index(rng, n)));
  std::vector<double> d2(n, std::numeric_limits<double>::infinity());
  for (int c = 1; c < k; ++c) {
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      d2[i] = std::min(d2[i], (X.row(static_cast<Eigen::Index>(i)) - C.row(c - 1)).squaredNorm());
      total += d2[i];
    }
    double r = uniform01(rng) * total;
    std::size_t pick = n - 1;
    for (std::size_t i = 0; i < n; ++i) {
      r -= d2[i];
      if (r <= 0) {
        pick = i;
        break;
      }
    }
    C.row(c) = X.row(static_cast<Eigen::Index>(pick));
  }
  KMeansResult res;
  res.k = k;
  res.assignment.assign(n, 0);
  for (int it = 0; it < iterations; ++it) {
    bool changed = false;
    res.inertia = 0;
    for (std::size_t i = 0; i < n; ++i) {
      Eigen::Index best = 0;
      const double d = (C.rowwise() - X.row(static_cast<Eigen::Index>(i))).rowwise().squaredNorm().minCoeff(&best);
      res.inertia += d;
      if (res.assignment[i] != static_cast<int>(best)) {
        res.assignment[i] = static_cast<int>(best);
        changed = true;
      }
    }
    if (!changed && it > 0) break;
    Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(k, X.cols());
    std::vector<std::size_t> cnt(k, 0);
    for (std::size_t i = 0; i < n; ++i) {
      sum.row(res.assignment[i]) += X.row(static_cast<Eigen::Index>(i));
      ++cnt[res.assignment[i]];
    }
    for (int c = 0; c < k; ++c)
      if (cnt[c] > 0) C.row(c) = sum.row(c) / static_cast<double>(cnt[c]);
  }
  return res;
}

/// Standardises features, projects on the principal components that explain `variance` of the
/// total, and standardises the projection (upstream: PCA(0.95) then StandardScaler).
inline Eigen::MatrixXd pca_projection(Eigen::MatrixXd X, double variance = 0.95) {
  // Zero mean, unit (population) variance per column; constant columns are left unscaled.
  auto standardise = [](Eigen::MatrixXd& M) {
    const Eigen::RowVectorXd mean = M.colwise().mean();
    M.rowwise() -= mean;
    Eigen::RowVectorXd sd = (M.array().square().colwise().sum() / std::max<Eigen::Index>(1, M.rows())).sqrt();
    for (Eigen::Index j = 0; j < sd.size(); ++j)
      if (sd[j] < 1e-12) sd[j] = 1;
    M.array().rowwise() /= sd.array();
  };
  standardise(X);
  const Eigen::MatrixXd cov = X.transpose() * X / std::max<double>(1.0, static_cast<double>(X.rows() - 1));
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
  const Eigen::VectorXd vals = eig.eigenvalues().reverse();
  const Eigen::MatrixXd vecs = eig.eigenvectors().rowwise().reverse();
  const double total = std::max(vals.sum(), 1e-300);
  Eigen::Index keep = 0;
  double acc = 0;
  while (keep < vals.size() && acc < variance * total) acc += vals[keep++];
  Eigen::MatrixXd Y = X * vecs.leftCols(std::max<Eigen::Index>(1, keep));
  standardise(Y);
  return Y;
}

struct StratifiedSample {
  std::vector<std::size_t> chosen;  ///< indices into the feature rows
  int clusters = 0;
};

/// k is the knee of the inertia curve over k = 2..max_k: the k with the largest second difference
/// I(k-1) - 2 I(k) + I(k+1). (Upstream takes argmin(diff(I)) + 2, capped by the best silhouette;
/// that rule picks the k *before* the largest drop, so with three clear clusters it returns 2.)
inline StratifiedSample sample_stratified(const Eigen::MatrixXd& features, std::size_t n, int max_clusters, std::uint64_t seed) {
  const auto total = static_cast<std::size_t>(features.rows());
  if (total == 0) return {};
  const Eigen::MatrixXd Y = pca_projection(features);
  const int kmax = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(std::max(2, max_clusters)), total));
  int k = std::min<int>(2, static_cast<int>(total));
  if (kmax > 2) {
    std::vector<double> inertia;
    for (int c = 2; c <= kmax; ++c) inertia.push_back(kmeans(Y, c, seed).inertia);
    double best = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 1; i + 1 < inertia.size(); ++i) {
      const double bend = inertia[i - 1] - 2 * inertia[i] + inertia[i + 1];
      if (bend > best) {
        best = bend;
        k = static_cast<int>(i) + 2;
      }
    }
  }
  const auto km = kmeans(Y, k, seed);
  std::vector<std::vector<std::size_t>> members(k);
  for (std::size_t i = 0; i < total; ++i) members[km.assignment[i]].push_back(i);
  auto rng = make_rng(seed, 1);
  StratifiedSample out;
  out.clusters = k;
  std::vector<char> taken(total, 0);
  const std::size_t share = std::min(n, total) / static_cast<std::size_t>(k);
  for (auto& m : members) {
    shuffle(m, rng);
    for (std::size_t i = 0; i < std::min(share, m.size()); ++i) {
      out.chosen.push_back(m[i]);
      taken[m[i]] = 1;
    }
  }
  std::vector<std::size_t> rest;
  for (std::size_t i = 0; i < total; ++i)
    if (!taken[i]) rest.push_back(i);
  shuffle(rest, rng);
  for (std::size_t i = 0; out.chosen.size() < std::min(n, total); ++i) out.chosen.push_back(rest[i]);
  return out;
}

/// Feature rows of segments for stratified sampling: upstream's ECGFeatureExtractor (24 per lead,
/// 288 for 12 leads; the default) or the 9 per-lead statistics of `morphology_features` (faster).
enum class SamplingFeatures { upstream, morphology };

inline SamplingFeatures parse_sampling_features(const std::string& s) {
  if (s == "upstream") return SamplingFeatures::upstream;
  if (s == "morphology") return SamplingFeatures::morphology;
  throw Error("unknown sampling features '" + s + "' (upstream or morphology)");
}

inline Eigen::MatrixXd segment_feature_matrix(const std::vector<SegmentEntry>& entries, SegmentStore& store, SamplingFeatures kind = SamplingFeatures::upstream,
                                              double fs = 250, unsigned threads = 0) {
  const std::size_t per_lead = kind == SamplingFeatures::upstream ? signal::EcgFeatureExtractor::features_per_lead : 9;
  Eigen::MatrixXd F(static_cast<Eigen::Index>(entries.size()), static_cast<Eigen::Index>(12 * per_lead));
  for (const auto& e : entries) (void)store.segment(e);  // map every shard before going parallel
  const signal::EcgFeatureExtractor extractor(fs);
  parallel_for(entries.size(), threads, [&](std::size_t i) {
    const auto seg = store.segment(entries[i]);
    const auto f = kind == SamplingFeatures::upstream ? extractor.features(seg, 12) : morphology_features(seg, 12, entries[i].segment_len);
    for (std::size_t c = 0; c < f.size(); ++c) F(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c)) = f[c];
  });
  return F;
}

/// Segment indices for tokenizer training: `random` or `stratified` (see sample_stratified).
struct SegmentSample {
  std::vector<std::size_t> chosen;
  int clusters = 0;  ///< stratified only
};

inline SegmentSample sample_segments(const std::vector<SegmentEntry>& entries, SegmentStore& store, const std::string& method, std::size_t n,
                                     int max_clusters, std::uint64_t seed, SamplingFeatures features = SamplingFeatures::upstream) {
  if (method == "random") return {sample_random(entries.size(), n, seed), 0};
  if (method == "stratified") {
    const auto s = sample_stratified(segment_feature_matrix(entries, store, features), n, max_clusters, seed);
    return {s.chosen, s.clusters};
  }
  throw Error("unknown sampling method '" + method + "' (random or stratified)");
}

/// numpy.percentile (linear) of a sample of values.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) throw Error("percentile of an empty sample");
  std::sort(v.begin(), v.end());
  const double pos = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto i = static_cast<std::size_t>(pos);
  return i + 1 < v.size() ? v[i] + (pos - static_cast<double>(i)) * (v[i + 1] - v[i]) : v[i];
}

/// Amplitude range of a preprocessed set: p1 / p99 of a random sample of `n` values (an equal share
/// per segment), and the exact min / max over every value.
struct AmplitudeStats {
  double p1 = 0, p99 = 0, min = 0, max = 0;
  std::size_t values = 0;
};

inline AmplitudeStats amplitude_percentiles(const std::vector<SegmentEntry>& entries, SegmentStore& store, std::size_t n, std::uint64_t seed) {
  if (entries.empty()) throw Error("amplitude percentiles of an empty index");
  auto rng = make_rng(seed);
  std::vector<double> values;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  const std::size_t per = std::max<std::size_t>(1, n / entries.size());
  for (const auto& e : entries) {
    const auto seg = store.segment(e);
    for (float v : seg) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
    for (std::size_t k = 0; k < per && values.size() < n; ++k) values.push_back(seg[uniform_index(rng, seg.size())]);
  }
  return {percentile(values, 1), percentile(values, 99), lo, hi, values.size()};
}

}  // namespace ecgbench::data
