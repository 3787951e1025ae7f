// Encoder forward throughput and the optimiser step, beside benchmarks/python/encoders_reference.py
// (the same modules and the same step in plain Python PyTorch; scripts/bench-peers.sh runs both):
//   BM_StMemForward   ST-MEM ViT-B `forward_encoding` on [8, 12, 1250], eval, no autograd
//   BM_MerlForward    MERL's ResNet-101 1-D on [8, 12, 1250], eval, no autograd
//   BM_AdamWStep      AdamW over 100M parameters (100 tensors of 1M), gradients set
// Threads: torch's intra-op pool as OMP_NUM_THREADS / torch::set_num_threads leave it (1 under make).
#include <benchmark/benchmark.h>

#include "ecgbench/models/encoders/encoders.hpp"
#include "ecgbench/train/optimizer.hpp"

using namespace ecgbench;
using namespace ecgbench::models;

namespace {

void BM_StMemForward(benchmark::State& state) {
  torch::manual_seed(0);
  encoders::StMem m(MaeOptions::named(MaeKind::st_mem, "base", 1250));
  m->eval();
  torch::NoGradGuard g;
  const torch::Tensor x = torch::randn({8, 12, 1250});
  (void)m->vit_encoding(x);  // warm-up: first-touch allocations, as the Python peer's warm-up call
  for (auto _ : state) benchmark::DoNotOptimize(m->vit_encoding(x));
  state.counters["samples/s"] = benchmark::Counter(8.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StMemForward)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void BM_MerlForward(benchmark::State& state) {
  torch::manual_seed(0);
  encoders::ResNet1d m(ResNet1dOptions::named("resnet101"));
  m->eval();
  torch::NoGradGuard g;
  const torch::Tensor x = torch::randn({8, 12, 1250});
  (void)m->forward(x);  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(m->forward(x));
  state.counters["samples/s"] = benchmark::Counter(8.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MerlForward)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void BM_AdamWStep(benchmark::State& state) {
  torch::manual_seed(0);
  train::ParamGroup group;
  group.weight_decay = 0.01;
  for (int i = 0; i < 100; ++i) {
    torch::Tensor p = (torch::randn({1'000'000}) * 0.02).requires_grad_(true);
    p.mutable_grad() = torch::randn_like(p) * 1e-3;
    group.params.push_back(p);
    group.names.push_back("p" + std::to_string(i));
  }
  train::AdamOptions o;
  o.lr = 1e-4;
  train::AdamW opt({group}, o);
  opt.step();  // allocates the moments, as the Python peer's warm-up step does
  for (auto _ : state) opt.step();
  state.counters["parameters"] = 1e8;
}
BENCHMARK(BM_AdamWStep)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
