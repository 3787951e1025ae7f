// Tests for include/ecgbench/signal/ecg_features.hpp and include/ecgbench/rag: upstream's feature
// extractor against ../shared/data/golden/ecg-features, scipy's find_peaks and upstream's prompt
// text (tests/rag/golden/make_prompt_golden.py), FAISS neighbours against Python's faiss
// (tests/rag/golden/make_faiss_golden.py), the database end to end and its refusals.
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <numbers>
#include <random>

#include "ecgbench/core/npy.hpp"
#include "ecgbench/rag/database.hpp"
#include "ecgbench/rag/prompt.hpp"
#include "ecgbench/signal/ecg_features.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;

namespace {
const std::filesystem::path rag_golden = std::filesystem::path(ECGBENCH_SOURCE_DIR) / "tests" / "rag" / "golden";
}

TEST_CASE("ECG features equal upstream's ECGFeatureExtractor", "[rag][features][golden]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden/ecg-features");
  const signal::EcgFeatureExtractor fx(250);
  for (const std::string id : {"06000_hr_0", "06001_hr_1", "06002_hr_0_2s", "06002_hr_1_flat_lead"})
    for (const bool rag : {false, true}) {
      INFO(id << (rag ? " rag" : " all"));
      const auto sig = npy::load(test_data_path / (id + ".npy")).to_vector<float>();
      const auto got = rag ? fx.rag_features(sig) : fx.features(sig);
      const auto want = npy::load(test_data_path / (id + (rag ? ".rag_features.npy" : ".features.npy"))).to_vector<double>();
      REQUIRE(got.size() == (rag ? 228u : 288u));
      REQUIRE(got.size() == want.size());
      for (std::size_t i = 0; i < want.size(); ++i) {
        INFO("feature " << i % (rag ? 19 : 24) << " of lead " << i / (rag ? 19 : 24) << ": " << got[i] << " vs " << want[i]);
        CHECK(std::abs(got[i] - want[i]) <= std::max(1e-9, 1e-6 * std::abs(want[i])));
      }
    }
  CHECK_THROWS_WITH(fx.features(std::vector<float>(11 * 10, 0.0f)), Catch::Contains("[leads, samples]"));
  std::vector<float> nan(12 * 100, 0.0f);
  nan[3] = NAN;
  CHECK_THROWS_WITH(fx.features(nan), Catch::Contains("NaN"));
}

TEST_CASE("order statistics by selection equal a full sort, the FFT equals a direct DFT", "[rag][features]") {
  std::mt19937 g(7);
  for (std::size_t n = 2; n < 60; ++n) {
    std::vector<float> v(n);
    for (auto& x : v) x = static_cast<float>(g() % 9);  // many ties
    std::vector<float> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    for (const double q : {0.0, 25.0, 50.0, 75.0, 100.0}) {
      const auto [a, b] = signal::numpy::percentile_positions(n, q);
      std::vector<std::size_t> pos{a, b};
      pos.erase(std::unique(pos.begin(), pos.end()), pos.end());
      auto part = v;
      signal::numpy::select_sorted(part, 0, n, pos.data(), pos.data() + pos.size());
      CHECK(signal::numpy::percentile_sorted(part, q) == signal::numpy::percentile_sorted(sorted, q));
    }
  }
  // Mixed radix (4, 2, 3, 5, a prime factor, a prime length) against the O(n^2) definition.
  for (const std::size_t n : {1u, 2u, 8u, 12u, 30u, 49u, 77u, 97u, 1024u, 1250u}) {
    std::vector<std::complex<double>> x(n);
    for (auto& c : x) c = {std::sin(0.37 * static_cast<double>(g() % 1000)), std::cos(0.11 * static_cast<double>(g() % 1000))};
    const auto X = signal::fft(x);
    double err = 0, scale = 0;
    for (std::size_t k = 0; k < n; k += std::max<std::size_t>(1, n / 64)) {
      std::complex<double> acc = 0;
      for (std::size_t j = 0; j < n; ++j) acc += x[j] * std::polar(1.0, -2 * std::numbers::pi * static_cast<double>((j * k) % n) / static_cast<double>(n));
      err = std::max(err, std::abs(acc - X[k])), scale = std::max(scale, std::abs(acc));
    }
    INFO("n = " << n);
    CHECK(err <= 1e-12 * std::max(1.0, scale) * static_cast<double>(n));
    if (n % 2 == 0) {  // the real-input transform equals the complex one on the real parts
      std::vector<double> r(n);
      std::vector<std::complex<double>> rc(n);
      for (std::size_t j = 0; j < n; ++j) r[j] = x[j].real(), rc[j] = r[j];
      const auto R = signal::rfft_even(r), C = signal::fft(rc);
      REQUIRE(R.size() == n / 2 + 1);
      for (std::size_t k = 0; k <= n / 2; ++k) CHECK(std::abs(R[k] - C[k]) <= 1e-12 * static_cast<double>(n));
    }
  }
}

TEST_CASE("find_peaks equals scipy's on plateaus and the distance rule", "[rag][features]") {
  const Json g = read_json(rag_golden / "prompt_and_peaks.json");
  for (const auto& c : g["peaks"]) {
    const auto x = c["x"].get<std::vector<double>>();
    const auto p = signal::find_peaks(x, c["height"].get<double>(), c["distance"].get<double>());
    INFO("distance " << c["distance"]);
    CHECK(p == c["peaks"].get<std::vector<std::size_t>>());
  }
}

TEST_CASE("FAISS IVF-Flat returns Python faiss's neighbours and distances", "[rag][faiss][golden]") {
  const auto x = npy::load(rag_golden / "vectors.npy"), q = npy::load(rag_golden / "queries.npy");
  const auto want_ids = npy::load(rag_golden / "ids.npy").to_vector<std::int64_t>();
  const auto want_d = npy::load(rag_golden / "distances.npy").to_vector<float>();
  const std::size_t n = x.shape()[0], d = x.shape()[1], nq = q.shape()[0];
  rag::BuildOptions o;
  o.seed = 1234;
  const std::size_t nlist = std::min<std::size_t>(100, std::max<std::size_t>(1, n / 30));
  auto idx = rag::make_ivf(d, nlist, o);
  const auto xv = x.to_vector<float>(), qv = q.to_vector<float>();
  idx->train(static_cast<rag::faiss_idx>(n), xv.data());
  idx->add(static_cast<rag::faiss_idx>(n), xv.data());
  idx->make_direct_map();
  idx->nprobe = 3;
  std::vector<float> dist(nq * 4);
  std::vector<rag::faiss_idx> ids(nq * 4);
  idx->search(static_cast<rag::faiss_idx>(nq), qv.data(), 4, dist.data(), ids.data());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    CHECK(ids[i] == want_ids[i]);
    CHECK(dist[i] == Approx(want_d[i]).epsilon(1e-5));
  }
}

TEST_CASE("prompt text is byte-identical to upstream's format_search, the filter rule", "[rag][prompt][golden]") {
  const Json g = read_json(rag_golden / "prompt_and_peaks.json");
  std::vector<rag::Retrieved> results;
  for (std::size_t i = 0; i < g["features"].size(); ++i) results.push_back({g["reports"][i].get<std::string>(), g["features"][i].get<std::vector<double>>(), 0});
  const auto& names = signal::EcgFeatureExtractor::feature_names();
  for (const std::string info : {"combined", "feature", "report"}) {
    INFO(info);
    const std::string mine = rag::format_search(results, rag::parse_information(info), names, /*upstream_lead_i_only=*/true);
    CHECK(mine == g["format_search_" + info].get<std::string>());
  }
  // Ours (default): every feature as 12 lead values, with the lead order stated.
  const std::string fixed = rag::format_search(results, rag::Information::combined, names);
  CHECK_THAT(fixed, Catch::Contains("The lead order is I, II, III, aVL, aVR, aVF, V1, V2, V3, V4, V5, V6."));
  CHECK_THAT(fixed, Catch::Contains("mean: [" + rag::python_float_repr(rag::python_round6(results[0].features[0])) + ", "));
  // Filter: > 50 % near-zero features, or a tiny total, is dropped.
  CHECK(rag::keep_result(std::vector<double>(10, 1.0)));
  CHECK(!rag::keep_result(std::vector<double>{1, 1, 1, 1e-4, 1e-4, 1e-4, 1e-4}));
  CHECK(!rag::keep_result(std::vector<double>(10, 0.04)));  // sum 0.4 < 0.5
  CHECK(rag::python_float_repr(1e-05) == "1e-05");
  CHECK(rag::python_float_repr(0.0001) == "0.0001");
  CHECK(rag::python_float_repr(2.5) == "2.5");
  CHECK(rag::python_float_repr(1e16) == "1e+16");
  CHECK(rag::python_float_repr(123456789.125) == "123456789.125");
  CHECK(rag::python_round6(0.1234565) == 0.123456);  // the binary value lies below the tie
  CHECK(rag::system_prompt_with("SYS", "RAG") == "SYS\nRAG");
}

TEST_CASE("RAG database: build, query, own record excluded, refusals", "[rag][db]") {
  // A small preprocessed folder: 40 segments of 4 shapes, two segments per record.
  const auto dir = test::temp_dir() / "rag-db";
  const auto seg = dir / "segments";
  std::filesystem::create_directories(seg);
  const std::size_t n = 40, L = 500;
  std::vector<float> all(n * 12 * L);
  std::string index;
  for (std::size_t i = 0; i < n; ++i) {
    const double f = 0.05 + 0.04 * static_cast<double>(i % 4);
    for (std::size_t c = 0; c < 12; ++c)
      for (std::size_t t = 0; t < L; ++t) all[(i * 12 + c) * L + t] = static_cast<float>(std::sin(f * t + 0.1 * c + 0.01 * i) * (1 + 0.1 * c));
    data::SegmentEntry e;
    e.id = "rec" + std::to_string(i / 2) + "_" + std::to_string(i % 2);
    e.source = "rec" + std::to_string(i / 2);
    e.row = i, e.report = "shape " + std::to_string(i % 4), e.patient_id = e.source, e.orig_sf = 250, e.target_sf = 250, e.segment_len = L;
    index += data::to_json(e).dump() + "\n";
  }
  const std::size_t shape[3] = {n, 12, L};
  npy::save<float>(data::shard_path(seg, 0), all, shape);
  write_file_atomically(seg / "index.jsonl", index);
  rag::BuildOptions o;
  o.progress = ProgressStyle::quiet;
  CHECK(rag::build_database(seg, dir / "db", o) == n);
  for (const char* f : {"feature.index", "signal.index", "combined.index", "metadata.jsonl", "manifest.json"}) CHECK(std::filesystem::exists(dir / "db" / f));
  rag::Database db(dir / "db");
  CHECK(db.size() == n);
  CHECK(db.feature_dim() == 228);
  const std::span<const float> q(all.data() + 6 * 12 * L, 12 * L);  // rec3_0, shape 2
  for (const auto base : {rag::Base::signal, rag::Base::feature, rag::Base::combined}) {
    INFO(rag::to_string(base));
    const auto hits = db.search(db.query_vector(q, base), 3, base, 10, "rec3");
    REQUIRE(hits.size() == 3);
    for (const auto& h : hits) CHECK(h.record != "rec3");  // never its own record
    CHECK(hits[0].report == "shape 2");
    CHECK(hits[0].distance <= hits[1].distance);
  }
  // Without exclusion the query finds itself at distance 0.
  const auto self = db.search(db.query_vector(q, rag::Base::signal), 1, rag::Base::signal, 10);
  CHECK(self[0].id == "rec3_0");
  CHECK(self[0].distance == Approx(0).margin(1e-3));
  CHECK_THROWS_WITH(db.search(db.query_vector(q, rag::Base::signal), n + 1, rag::Base::signal), Catch::Contains("larger than the database"));
  CHECK_THROWS_WITH(db.query_vector(std::vector<float>(12 * 250, 0.0f), rag::Base::signal), Catch::Contains("500-sample segments"));
  std::filesystem::remove(dir / "db" / "metadata.jsonl");
  CHECK_THROWS_WITH(rag::Database(dir / "db"), Catch::Contains("metadata.jsonl"));
  CHECK_THROWS_WITH(rag::Database(dir / "nothing"), Catch::Contains("not a RAG database"));
  CHECK_THROWS_WITH(rag::parse_base("hybrid"), Catch::Contains("signal, feature, combined"));
}
