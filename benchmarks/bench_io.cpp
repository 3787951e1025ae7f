// ECG I/O throughput: WFDB format 16 and 212 decoding (bytes/s of sample data) and whole-record
// reads (records/s), each against a plain baseline (istream + per-sample conversion).
#include <benchmark/benchmark.h>

#include <fstream>

#include "ecgbench/core/random.hpp"
#include "ecgbench/io/wfdb.hpp"
#include "ecgbench/io/wfdb_writer.hpp"

using namespace ecgbench;

namespace {

std::vector<unsigned char> random_bytes(std::size_t n) {
  auto rng = make_rng(1);
  std::vector<unsigned char> b(n);
  for (auto& x : b) x = static_cast<unsigned char>(rng());
  return b;
}

void BM_DecodeFormat16(benchmark::State& state) {
  const std::size_t n = 12 * 5000 * 16;  // 16 PTB-XL records' worth of samples
  const auto bytes = random_bytes(2 * n);
  std::vector<std::int32_t> out(n);
  for (auto _ : state) {
    io::decode_wfdb_samples(16, bytes, n, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_DecodeFormat16);

void BM_DecodeFormat212(benchmark::State& state) {
  const std::size_t n = 12 * 5000 * 16;
  const auto bytes = random_bytes(n * 3 / 2);
  std::vector<std::int32_t> out(n);
  for (auto _ : state) {
    io::decode_wfdb_samples(212, bytes, n, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_DecodeFormat212);

// A PTB-XL-sized record (12 x 5000, format 16) written once to a temp folder.
const std::filesystem::path& bench_record() {
  static const std::filesystem::path base = [] {
    const auto dir = std::filesystem::temp_directory_path() / "ecgbench-bench-io";
    std::vector<io::WfdbWriteSignal> sigs;
    for (auto l : io::canonical_leads) sigs.push_back({std::string(l), 1000.0, 0, "mV"});
    std::vector<double> x(12 * 5000);
    auto rng = make_rng(2);
    for (auto& v : x) v = std::round(normal(rng, 0, 0.5) * 1000) / 1000;
    io::write_wfdb_format16(dir, "bench_hr", 500, sigs, x);
    return dir / "bench_hr";
  }();
  return base;
}

void BM_ReadRecordWfdb(benchmark::State& state) {
  const auto& rec = bench_record();
  for (auto _ : state) {
    auto r = io::read_ecg12(rec, {.verify_checksums = true});
    benchmark::DoNotOptimize(r.data.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));  // records/s
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 12 * 5000 * 2));
}
BENCHMARK(BM_ReadRecordWfdb);

// Baseline: what a straightforward reader does (istream, per-sample physical conversion).
void BM_ReadRecordBaseline(benchmark::State& state) {
  const auto dat = bench_record().string() + ".dat";
  for (auto _ : state) {
    std::ifstream in(dat, std::ios::binary);
    std::vector<double> x(12 * 5000);
    for (std::size_t i = 0; i < x.size(); ++i) {
      std::int16_t v;
      in.read(reinterpret_cast<char*>(&v), 2);
      x[(i % 12) * 5000 + i / 12] = v / 1000.0;
    }
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 12 * 5000 * 2));
}
BENCHMARK(BM_ReadRecordBaseline);

}  // namespace

BENCHMARK_MAIN();
