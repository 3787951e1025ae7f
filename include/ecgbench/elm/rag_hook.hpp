// Retrieval augmentation of an ELM's prompts (upstream's --rag): for each ECG the k nearest
// segments of a RAG database (never the ECG's own record), their reports and features re-read from
// the database's segments folder, formatted as upstream's format_search; in the system prompt or
// (PR #3) the first user turn, then the query ECG's own features first.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "ecgbench/data/elm_dataset.hpp"
#include "ecgbench/elm/config.hpp"
#include "ecgbench/rag/database.hpp"
#include "ecgbench/rag/prompt.hpp"

namespace ecgbench::elm {

/// The data pipeline's rag_text hook for a run configuration (nullptr when RAG is off).
inline std::function<std::string(std::span<const float>, const std::string&)> make_rag_hook(const ElmConfig& c) {
  if (c.rag_db.empty()) return nullptr;
  struct State {
    std::mutex mutex;
    rag::Database db;
    std::unique_ptr<data::SegmentStore> store;
    std::unordered_map<std::string, data::SegmentEntry> index;
    signal::EcgFeatureExtractor fx{250};
    explicit State(const std::string& dir) : db(dir) {}
  };
  auto st = std::make_shared<State>(c.rag_db);
  const std::string src = st->db.manifest().value("source", std::string());
  if (!std::filesystem::exists(std::filesystem::path(src) / "index.jsonl"))
    throw Error({c.rag_db, {}, {}, "source"}, "the database's segments folder '" + src + "' is gone (retrieved ECGs are re-read from it)");
  st->store = std::make_unique<data::SegmentStore>(src);
  for (auto& e : data::read_segment_index(std::filesystem::path(src) / "index.jsonl")) {
    const std::string id = e.id;
    st->index.emplace(id, std::move(e));
  }
  if (static_cast<std::int64_t>(st->db.seg_len()) != c.seg_len)
    throw Error({c.rag_db, {}, {}, "seg_len"}, "the database holds " + std::to_string(st->db.seg_len()) + "-sample segments, the run uses " + std::to_string(c.seg_len));
  const auto base = rag::parse_base(c.rag_base);
  const auto info = rag::parse_information(c.rag_info);
  const std::size_t k = static_cast<std::size_t>(c.rag_k);
  const bool user_query = c.rag_mode == "user-query", lead_i = c.rag_upstream_lead_i_only;
  return [st, base, info, k, user_query, lead_i](std::span<const float> segment, const std::string& record) {
    std::lock_guard lock(st->mutex);
    const auto hits = st->db.search(st->db.query_vector(segment, base), k, base, 10, record);
    std::vector<rag::Retrieved> rs;
    for (const auto& h : hits) {
      const auto v = st->store->segment(st->index.at(h.id));
      const std::vector<float> s(v.begin(), v.end());
      rs.push_back({h.report, st->db.rag_feature_set() ? st->fx.rag_features(s) : st->fx.features(s), h.distance});
    }
    const auto& names = st->db.rag_feature_set() ? signal::EcgFeatureExtractor::rag_feature_names() : signal::EcgFeatureExtractor::feature_names();
    const std::string text = rag::format_search(rs, info, names, lead_i);
    if (!user_query) return text;
    const auto own = st->db.rag_feature_set() ? st->fx.rag_features(segment) : st->fx.features(segment);
    return info == rag::Information::report ? text : "Feature Information:\n" + rag::features_by_lead(own, names) + "\n\n" + text;
  };
}

}  // namespace ecgbench::elm
