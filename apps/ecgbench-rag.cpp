// ecgbench-rag: the retrieval database of upstream ECG-Bench's RAG on FAISS.
//   build    --segments DIR [--ids LIST] --out DB [--features all|rag] [--normalize] [--index-type ivfflat|ivfpq] [--seed S]
//   query    --db DB (--ecg SEGMENT_ID --segments DIR | --npy X.npy) [--k 3] [--base signal|feature|combined] [--json] [--prompt]
//   features --npy X.npy [--rag] --out F.npy
#include <CLI/CLI.hpp>

#include <cstdio>

#include "ecgbench/core/npy.hpp"
#include "ecgbench/rag/database.hpp"
#include "ecgbench/rag/prompt.hpp"
#include "ecgbench/eval/text.hpp"

using namespace ecgbench;

int main(int argc, char** argv) {
  CLI::App app{"RAG database of ECG segments (FAISS): build, query, features"};
  app.require_subcommand(1);
  std::string segments, ids_file, out, features_set = "rag", index_type = "ivfflat", db_dir, ecg, npy_in, base = "signal", info = "combined";
  bool normalize = false, as_json = false, rag_set = false, prompt = false, upstream_lead_i = false;
  std::uint64_t seed = 1234;
  std::size_t k = 3, nprobe = 10, pq_m = 0;
  unsigned jobs = 0;
  auto* b = app.add_subcommand("build", "build feature / signal / combined indices from a preprocessed folder");
  b->add_option("--segments", segments, "preprocessed folder (index.jsonl + shards)")->required();
  b->add_option("--ids", ids_file, "only these segment ids (one per line)");
  b->add_option("--features", features_set, "rag (19 per lead, PR #3) | all (24 per lead, [P])")->check(CLI::IsMember({"rag", "all"}))->capture_default_str();
  b->add_flag("--normalize", normalize, "PR #3's z-scores (per feature across leads, per lead over time)");
  b->add_option("--index-type", index_type, "ivfflat | ivfpq (product quantisation, for millions of segments)")->capture_default_str();
  b->add_option("--pq-m", pq_m, "ivfpq sub-quantizers (default: a divisor near dim / 16)");
  b->add_option("--seed", seed, "k-means seed")->capture_default_str();
  b->add_option("--jobs", jobs, "feature threads (0 = all cores)")->capture_default_str();
  b->add_option("--out", out, "database folder")->required();
  auto* q = app.add_subcommand("query", "nearest segments of one ECG");
  q->add_option("--db", db_dir, "database folder")->required();
  auto* by_id = q->add_option("--ecg", ecg, "segment id (with --segments)");
  q->add_option("--segments", segments, "preprocessed folder holding --ecg");
  q->add_option("--npy", npy_in, "a [12, L] float32 segment")->excludes(by_id);
  q->add_option("--k", k, "neighbours")->capture_default_str();
  q->add_option("--base", base, "signal | feature | combined")->capture_default_str();
  q->add_option("--nprobe", nprobe, "IVF clusters visited (upstream: 10)")->capture_default_str();
  q->add_flag("--json", as_json, "print a JSON list");
  q->add_flag("--prompt", prompt, "print the prompt text an ELM would receive");
  q->add_option("--info", info, "prompt: feature | report | combined")->capture_default_str();
  q->add_flag("--upstream-lead-i-only", upstream_lead_i, "prompt: upstream's bug (only lead I's features)");
  auto* f = app.add_subcommand("features", "one ECG's feature vector (float64)");
  f->add_option("--npy", npy_in, "a [12, L] float32 segment")->required();
  f->add_flag("--rag", rag_set, "the RAG set (228) instead of all 288");
  f->add_option("--out", out, "F.npy")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    auto load_npy = [](const std::string& p) {
      const auto a = npy::load(p);
      if (a.shape().size() != 2 || a.shape()[0] != 12) throw Error({p, {}, {}, {}}, "expected a [12, L] array");
      return a.to_vector<float>();
    };
    if (*b) {
      rag::BuildOptions o;
      o.rag_feature_set = features_set == "rag";
      o.normalize = normalize;
      o.index_type = index_type;
      o.pq_m = pq_m;
      o.seed = seed;
      o.jobs = jobs;
      std::vector<std::string> ids;
      if (!ids_file.empty())
        for (auto& line : eval::text_lines(read_file(ids_file))) if (!line.empty()) ids.push_back(line);
      const auto n = rag::build_database(segments, out, o, ids);
      std::printf("%s: %zu segments (feature.index, signal.index, combined.index, metadata.jsonl)\n", out.c_str(), n);
    } else if (*q) {
      rag::Database db(db_dir);
      std::vector<float> sig;
      std::string record;
      if (!npy_in.empty()) {
        sig = load_npy(npy_in);
      } else {
        if (ecg.empty() || segments.empty()) throw Error("give --ecg SEGMENT_ID with --segments DIR, or --npy X.npy");
        const auto index = data::read_segment_index(std::filesystem::path(segments) / "index.jsonl");
        const auto it = std::find_if(index.begin(), index.end(), [&](const data::SegmentEntry& e) { return e.id == ecg; });
        if (it == index.end()) throw Error({segments, {}, {}, {}}, "no segment '" + ecg + "'");
        data::SegmentStore store(segments);
        const auto v = store.segment(*it);
        sig.assign(v.begin(), v.end());
        record = it->source;  // its own record is never a neighbour
      }
      const auto bb = rag::parse_base(base);
      const auto hits = db.search(db.query_vector(sig, bb), k, bb, nprobe, record);
      if (prompt) {
        std::vector<rag::Retrieved> rs;
        const signal::EcgFeatureExtractor fx(250);
        const std::string src = db.manifest().value("source", std::string());
        data::SegmentStore store(src);
        const auto index = data::read_segment_index(std::filesystem::path(src) / "index.jsonl");
        for (const auto& h : hits) {
          const auto it = std::find_if(index.begin(), index.end(), [&](const data::SegmentEntry& e) { return e.id == h.id; });
          if (it == index.end()) throw Error({src, {}, {}, {}}, "the database's segments folder no longer holds '" + h.id + "'");
          const auto v = store.segment(*it);
          const std::vector<float> s(v.begin(), v.end());
          rs.push_back({h.report, db.rag_feature_set() ? fx.rag_features(s) : fx.features(s), h.distance});
        }
        const auto& names = db.rag_feature_set() ? signal::EcgFeatureExtractor::rag_feature_names() : signal::EcgFeatureExtractor::feature_names();
        std::printf("%s", rag::format_search(rs, rag::parse_information(info), names, upstream_lead_i).c_str());
      } else if (as_json) {
        Json j = Json::array();
        for (const auto& h : hits) j.push_back({{"id", h.id}, {"distance", h.distance}, {"report", h.report}, {"record", h.record}});
        std::printf("%s\n", j.dump(2).c_str());
      } else {
        for (const auto& h : hits) std::printf("%-32s %14.4f  %s\n", h.id.c_str(), h.distance, h.report.c_str());
      }
    } else {
      const auto sig = load_npy(npy_in);
      const signal::EcgFeatureExtractor fx(250);
      const auto v = rag_set ? fx.rag_features(sig) : fx.features(sig);
      npy::save<double>(out, v, {v.size()});
      std::printf("%s: %zu features\n", out.c_str(), v.size());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-rag: %s\n", e.what());
    return 1;
  }
  return 0;
}
