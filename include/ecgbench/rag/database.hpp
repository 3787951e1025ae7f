// The retrieval database of upstream ECG-Bench's RAG (utils/rag_utils.py; PR #3 for the RAG paper)
// on FAISS: per segment a feature vector (upstream's ECG features, 288 or the RAG set's 228), the
// flattened lead-major signal, and their concatenation (features weighted by
// sqrt(signal_dim / feature_dim) as PR #3 does); optional z-scores (per feature across the 12
// leads, per lead over time, PR #3's --normalized_rag_feature). Three IndexIVFFlat(IndexFlatL2)
// indices with nlist = min(100, max(1, n / 30)), trained (k-means seeded, unlike upstream) and
// with a direct map, written as feature.index, signal.index, combined.index beside metadata.jsonl
// (report, segment id, record) aligned with the FAISS ids and manifest.json. Built streaming:
// features are kept (small), signals are computed and added in chunks.
#pragma once

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/index_io.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/core/parallel.hpp"
#include "ecgbench/core/progress.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/data/preprocess.hpp"
#include "ecgbench/data/segment_index.hpp"
#include "ecgbench/signal/ecg_features.hpp"
#include "ecgbench/signal/numpy_reduce.hpp"

namespace ecgbench::rag {

// FAISS 1.7.3 (Debian 12) spells it faiss::Index::idx_t, later versions faiss::idx_t: take it from a member.
using faiss_idx = decltype(faiss::Index::ntotal);

enum class Base { feature, signal, combined };

inline Base parse_base(const std::string& s) {
  if (s == "feature") return Base::feature;
  if (s == "signal") return Base::signal;
  if (s == "combined") return Base::combined;
  throw Error("unknown retrieval base '" + s + "' (signal, feature, combined)");
}
inline const char* to_string(Base b) { return b == Base::feature ? "feature" : (b == Base::signal ? "signal" : "combined"); }

struct BuildOptions {
  bool rag_feature_set = true;  ///< PR #3's 19 per lead (228); false: [P]'s 24 per lead (288)
  bool normalize = false;       ///< PR #3's --normalized_rag_feature
  std::string index_type = "ivfflat";  ///< ivfflat | ivfpq (product quantisation for MIMIC-scale data)
  std::size_t pq_m = 0;                ///< ivfpq sub-quantizers (0: a divisor of the dimension near dim / 16)
  std::uint64_t seed = 1234;           ///< k-means seed (upstream's is unseeded)
  std::size_t chunk = 2048;            ///< vectors added per FAISS call
  unsigned jobs = 1;
  ProgressStyle progress = ProgressStyle::automatic;
};

/// PR #3's per-lead z-score of a [12 x L] signal (np.mean, np.std + 1e-10, float32).
inline std::vector<float> normalize_leads(std::span<const float> x, std::size_t leads = 12) {
  const std::size_t L = x.size() / leads;
  std::vector<float> out(x.size());
  for (std::size_t l = 0; l < leads; ++l) {
    const float* p = x.data() + l * L;
    const float m = signal::numpy::mean(p, L);
    const double sd = static_cast<double>(signal::numpy::stddev(p, L)) + 1e-10;
    for (std::size_t t = 0; t < L; ++t) out[l * L + t] = static_cast<float>((p[t] - m) / sd);
  }
  return out;
}

/// PR #3's z-score of each feature across the 12 leads (features lead-major).
inline std::vector<float> normalize_features(const std::vector<double>& f, std::size_t leads = 12) {
  const std::size_t per = f.size() / leads;
  std::vector<float> out(f.size());
  for (std::size_t k = 0; k < per; ++k) {
    std::vector<double> v(leads);
    for (std::size_t l = 0; l < leads; ++l) v[l] = f[l * per + k];
    const double m = signal::numpy::mean(v.data(), leads), sd = signal::numpy::stddev(v.data(), leads) + 1e-10;
    for (std::size_t l = 0; l < leads; ++l) out[l * per + k] = static_cast<float>((f[l * per + k] - m) / sd);
  }
  return out;
}

struct Match {
  std::int64_t faiss_id = -1;
  std::string id, record, report;
  float distance = 0;  ///< squared L2, as FAISS reports it
};

class Database {
 public:
  /// Opens a database folder (manifest.json, metadata.jsonl, the three indices).
  explicit Database(const std::filesystem::path& dir) : dir_(dir) {
    const auto mf = dir / "manifest.json";
    if (!std::filesystem::exists(mf)) throw Error({dir.string(), {}, {}, {}}, "not a RAG database (no manifest.json; build one with ecgbench-rag build)");
    manifest_ = read_json(mf);
    if (manifest_.value("format", "") != "ecgbench.rag-db") throw Error({mf.string(), {}, {}, "format"}, "not an ecgbench RAG database");
    seg_len_ = json_get<std::size_t>(manifest_, "seg_len", mf.string(), "");
    rag_set_ = json_get<bool>(manifest_, "rag_feature_set", mf.string(), "");
    normalize_ = json_get<bool>(manifest_, "normalize", mf.string(), "");
    const auto md = dir / "metadata.jsonl";
    if (!std::filesystem::exists(md)) throw Error({md.string(), {}, {}, {}}, "the database has no metadata.jsonl");
    for_each_jsonl(md, [&](Json&& j, std::size_t line) {
      Match m;
      m.faiss_id = static_cast<std::int64_t>(meta_.size());
      m.id = json_get<std::string>(j, "id", md.string(), "line " + std::to_string(line));
      m.record = j.value("record", std::string());
      m.report = json_get<std::string>(j, "report", md.string(), "line " + std::to_string(line));
      meta_.push_back(std::move(m));
    });
  }

  [[nodiscard]] std::size_t size() const { return meta_.size(); }
  [[nodiscard]] std::size_t seg_len() const { return seg_len_; }
  [[nodiscard]] bool rag_feature_set() const { return rag_set_; }
  [[nodiscard]] std::size_t feature_dim() const { return 12 * (rag_set_ ? signal::EcgFeatureExtractor::rag_features_per_lead : signal::EcgFeatureExtractor::features_per_lead); }
  [[nodiscard]] std::size_t signal_dim() const { return 12 * seg_len_; }
  [[nodiscard]] double feature_weight() const { return std::sqrt(static_cast<double>(signal_dim()) / static_cast<double>(feature_dim())); }
  [[nodiscard]] const Json& manifest() const { return manifest_; }

  /// The query vector of one [12 x L] segment for `base`, made as the database's vectors were.
  [[nodiscard]] std::vector<float> query_vector(std::span<const float> segment, Base base) const {
    if (segment.size() != 12 * seg_len_)
      throw Error({dir_.string(), {}, {}, {}}, "the database holds " + std::to_string(seg_len_) + "-sample segments, the query has " + std::to_string(segment.size() / 12));
    return make_vector(segment, base, rag_set_, normalize_, feature_weight());
  }

  /// k nearest segments (nprobe clusters visited, upstream: 10). Results whose record is
  /// `exclude_record` (the query's own record) are skipped, so the query is never its own neighbour.
  std::vector<Match> search(const std::vector<float>& q, std::size_t k, Base base, std::size_t nprobe = 10, const std::string& exclude_record = {}) {
    if (k == 0) throw Error("k must be at least 1");
    if (k > meta_.size()) throw Error({dir_.string(), {}, {}, {}}, "k = " + std::to_string(k) + " is larger than the database (" + std::to_string(meta_.size()) + " segments)");
    faiss::Index& idx = index(base);
    if (q.size() != static_cast<std::size_t>(idx.d)) throw Error({dir_.string(), {}, {}, to_string(base)}, "query has " + std::to_string(q.size()) + " dimensions, the index " + std::to_string(idx.d));
    if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(&idx)) ivf->nprobe = std::min<std::size_t>(nprobe, ivf->nlist);
    std::size_t want = k;
    std::vector<Match> out;
    while (true) {
      const std::size_t kk = std::min(meta_.size(), want + (exclude_record.empty() ? 0 : 16));
      std::vector<float> dist(kk);
      std::vector<faiss_idx> ids(kk);
      idx.search(1, q.data(), static_cast<faiss_idx>(kk), dist.data(), ids.data());
      out.clear();
      for (std::size_t i = 0; i < kk && out.size() < k; ++i) {
        if (ids[i] < 0) continue;
        const Match& m = meta_.at(static_cast<std::size_t>(ids[i]));
        if (!exclude_record.empty() && m.record == exclude_record) continue;
        Match r = m;
        r.distance = dist[i];
        out.push_back(std::move(r));
      }
      if (out.size() >= k || kk >= meta_.size()) return out;
      want *= 2;
    }
  }

  /// The vector of one kind for a segment (float32), as stored: features (optionally z-scored),
  /// signal (optionally per-lead z-scored), or [features x weight, signal].
  static std::vector<float> make_vector(std::span<const float> segment, Base base, bool rag_set, bool normalize, double weight) {
    std::vector<float> feat, sig;
    if (base != Base::signal) {
      const signal::EcgFeatureExtractor fx(250);
      const auto f = rag_set ? fx.rag_features(segment) : fx.features(segment);
      feat = normalize ? normalize_features(f) : std::vector<float>(f.begin(), f.end());
    }
    if (base != Base::feature) sig = normalize ? normalize_leads(segment) : std::vector<float>(segment.begin(), segment.end());
    if (base == Base::feature) return feat;
    if (base == Base::signal) return sig;
    std::vector<float> out;
    out.reserve(feat.size() + sig.size());
    for (float v : feat) out.push_back(static_cast<float>(v * weight));
    out.insert(out.end(), sig.begin(), sig.end());
    return out;
  }

 private:
  faiss::Index& index(Base b) {
    auto& slot = indices_[static_cast<int>(b)];
    if (!slot) {
      const auto p = dir_ / (std::string(to_string(b)) + ".index");
      if (!std::filesystem::exists(p)) throw Error({p.string(), {}, {}, {}}, "index file missing from the database");
      try {
        slot.reset(faiss::read_index(p.c_str()));
      } catch (const std::exception& e) {
        throw Error({p.string(), {}, {}, {}}, std::string("cannot read the FAISS index: ") + e.what());
      }
      if (static_cast<std::size_t>(slot->ntotal) != meta_.size())
        throw Error({p.string(), {}, {}, {}}, "the index holds " + std::to_string(slot->ntotal) + " vectors, metadata.jsonl " + std::to_string(meta_.size()));
    }
    return *slot;
  }

  std::filesystem::path dir_;
  Json manifest_;
  std::size_t seg_len_ = 0;
  bool rag_set_ = true, normalize_ = false;
  std::vector<Match> meta_;
  std::unique_ptr<faiss::Index> indices_[3];
};

/// An empty IVF index of dimension d (IVFFlat over IndexFlatL2, or IVFPQ with 8-bit codes).
inline std::unique_ptr<faiss::IndexIVF> make_ivf(std::size_t d, std::size_t nlist, const BuildOptions& o) {
  auto* quantizer = new faiss::IndexFlatL2(static_cast<faiss_idx>(d));
  std::unique_ptr<faiss::IndexIVF> idx;
  if (o.index_type == "ivfflat") {
    idx = std::make_unique<faiss::IndexIVFFlat>(quantizer, d, nlist);
  } else if (o.index_type == "ivfpq") {
    std::size_t m = o.pq_m;
    if (m == 0) {
      m = std::max<std::size_t>(1, d / 16);
      while (d % m) --m;
    }
    if (d % m) throw Error("ivfpq: pq_m (" + std::to_string(m) + ") must divide the dimension " + std::to_string(d));
    idx = std::make_unique<faiss::IndexIVFPQ>(quantizer, d, nlist, m, 8);
  } else {
    delete quantizer;
    throw Error("unknown index type '" + o.index_type + "' (ivfflat, ivfpq)");
  }
  idx->own_fields = true;
  idx->cp.seed = static_cast<int>(o.seed % 2147483647u);
  return idx;
}

inline void write_index(const faiss::Index& idx, const std::filesystem::path& path) {
  const std::string tmp = path.string() + ".tmp." + std::to_string(::getpid());
  faiss::write_index(&idx, tmp.c_str());
  std::filesystem::rename(tmp, path);
}

/// Builds a database from a preprocessed folder (all its segments, or `ids` when given).
inline std::size_t build_database(const std::filesystem::path& segments_dir, const std::filesystem::path& out, const BuildOptions& o,
                                  const std::vector<std::string>& ids = {}) {
  const auto index_path = segments_dir / "index.jsonl";
  if (!std::filesystem::exists(index_path)) throw Error({index_path.string(), {}, {}, {}}, "segments folder has no index.jsonl");
  auto entries = data::read_segment_index(index_path);
  if (!ids.empty()) {
    std::set<std::string> keep(ids.begin(), ids.end());
    std::erase_if(entries, [&](const data::SegmentEntry& e) { return !keep.count(e.id); });
  }
  if (entries.empty()) throw Error({index_path.string(), {}, {}, {}}, "no segments to put in the database");
  const std::size_t n = entries.size(), seg_len = entries.front().segment_len;
  for (const auto& e : entries)
    if (e.segment_len != seg_len) throw Error({index_path.string(), {}, {}, e.id}, "segments of different lengths in one folder");
  data::SegmentStore store(segments_dir);
  std::mutex store_mutex;
  auto segment = [&](std::size_t i) {
    std::lock_guard lock(store_mutex);
    const auto v = store.segment(entries[i]);
    return std::vector<float>(v.begin(), v.end());
  };
  const std::size_t fdim = 12 * (o.rag_feature_set ? signal::EcgFeatureExtractor::rag_features_per_lead : signal::EcgFeatureExtractor::features_per_lead);
  const std::size_t sdim = 12 * seg_len, cdim = fdim + sdim;
  const double weight = std::sqrt(static_cast<double>(sdim) / static_cast<double>(fdim));
  // Pass 1: every segment's feature vector (kept: 228 floats each).
  std::vector<float> features(n * fdim);
  {
    Progress p("rag features", n, "segments", o.progress);
    const signal::EcgFeatureExtractor fx(250);
    parallel_for(n, o.jobs, [&](std::size_t i) {
      const auto seg = segment(i);
      const auto f = o.rag_feature_set ? fx.rag_features(seg) : fx.features(seg);
      const auto v = o.normalize ? normalize_features(f) : std::vector<float>(f.begin(), f.end());
      std::copy(v.begin(), v.end(), features.begin() + static_cast<std::ptrdiff_t>(i * fdim));
      p.tick();
    });
  }
  const std::size_t nlist = std::min<std::size_t>(100, std::max<std::size_t>(1, n / 30));
  auto fidx = make_ivf(fdim, nlist, o), sidx = make_ivf(sdim, nlist, o), cidx = make_ivf(cdim, nlist, o);
  // Training set: all vectors up to what k-means uses anyway (max_points_per_centroid x nlist).
  const std::size_t cap = static_cast<std::size_t>(fidx->cp.max_points_per_centroid) * nlist;
  std::vector<std::size_t> train_ids(n);
  std::iota(train_ids.begin(), train_ids.end(), std::size_t{0});
  if (n > cap) {
    Rng rng = make_rng(o.seed, 0x52414700ull);
    shuffle(train_ids, rng);
    train_ids.resize(cap);
    std::sort(train_ids.begin(), train_ids.end());
  }
  auto signal_vec = [&](std::size_t i) {
    const auto seg = segment(i);
    return o.normalize ? normalize_leads(seg) : seg;
  };
  {
    std::vector<float> tf(train_ids.size() * fdim), ts(train_ids.size() * sdim), tc(train_ids.size() * cdim);
    for (std::size_t r = 0; r < train_ids.size(); ++r) {
      const std::size_t i = train_ids[r];
      const auto s = signal_vec(i);
      std::copy(features.begin() + static_cast<std::ptrdiff_t>(i * fdim), features.begin() + static_cast<std::ptrdiff_t>((i + 1) * fdim), tf.begin() + static_cast<std::ptrdiff_t>(r * fdim));
      std::copy(s.begin(), s.end(), ts.begin() + static_cast<std::ptrdiff_t>(r * sdim));
      for (std::size_t k = 0; k < fdim; ++k) tc[r * cdim + k] = static_cast<float>(features[i * fdim + k] * weight);
      std::copy(s.begin(), s.end(), tc.begin() + static_cast<std::ptrdiff_t>(r * cdim + fdim));
    }
    const auto m = static_cast<faiss_idx>(train_ids.size());
    fidx->train(m, tf.data());
    sidx->train(m, ts.data());
    cidx->train(m, tc.data());
  }
  // Pass 2: add in chunks.
  {
    Progress p("rag index", n, "segments", o.progress);
    for (std::size_t start = 0; start < n; start += o.chunk) {
      const std::size_t c = std::min(o.chunk, n - start);
      std::vector<float> ss(c * sdim), cc(c * cdim);
      for (std::size_t r = 0; r < c; ++r) {
        const auto s = signal_vec(start + r);
        std::copy(s.begin(), s.end(), ss.begin() + static_cast<std::ptrdiff_t>(r * sdim));
        for (std::size_t k = 0; k < fdim; ++k) cc[r * cdim + k] = static_cast<float>(features[(start + r) * fdim + k] * weight);
        std::copy(s.begin(), s.end(), cc.begin() + static_cast<std::ptrdiff_t>(r * cdim + fdim));
      }
      fidx->add(static_cast<faiss_idx>(c), features.data() + start * fdim);
      sidx->add(static_cast<faiss_idx>(c), ss.data());
      cidx->add(static_cast<faiss_idx>(c), cc.data());
      p.tick(c);
    }
  }
  for (auto* idx : {fidx.get(), sidx.get(), cidx.get()}) idx->make_direct_map();
  std::filesystem::create_directories(out);
  write_index(*fidx, out / "feature.index");
  write_index(*sidx, out / "signal.index");
  write_index(*cidx, out / "combined.index");
  std::vector<Json> meta;
  for (const auto& e : entries) meta.push_back({{"id", e.id}, {"record", e.source}, {"report", e.report}});
  write_jsonl(out / "metadata.jsonl", meta);
  write_json(out / "manifest.json", Json{{"format", "ecgbench.rag-db"}, {"version", 1}, {"segments", n}, {"seg_len", seg_len}, {"rag_feature_set", o.rag_feature_set},
                                         {"normalize", o.normalize}, {"feature_dim", fdim}, {"signal_dim", sdim}, {"feature_weight", weight}, {"nlist", nlist},
                                         {"index_type", o.index_type}, {"seed", o.seed}, {"source", segments_dir.string()}});
  return n;
}

}  // namespace ecgbench::rag
