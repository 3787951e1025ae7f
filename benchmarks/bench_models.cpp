// LibTorch model throughput on a small Llama configuration (random weights): forward tokens/s, and
// generation tokens/s with the KV cache against a loop that recomputes the whole prefix each step.
// benchmarks/python/llama_reference.py runs the same model in Python PyTorch for comparison.
#include <benchmark/benchmark.h>

#include "ecgbench/models/models.hpp"

using namespace ecgbench;
using namespace ecgbench::models;

namespace {

LlamaOptions small_llama() {
  LlamaOptions o;
  o.model_type = "llama";
  o.vocab_size = 4096;
  o.hidden_size = 256;
  o.intermediate_size = 688;
  o.num_layers = 4;
  o.num_heads = 8;
  o.num_kv_heads = 4;
  o.head_dim = 32;
  o.rms_norm_eps = 1e-5;
  o.rope_theta = 500000.0;
  return o;
}

LlamaForCausalLm& model() {
  static LlamaForCausalLm m = [] {
    torch::manual_seed(0);
    LlamaForCausalLm lm(small_llama());
    lm->eval();
    return lm;
  }();
  return m;
}

void BM_LlamaForward(benchmark::State& state) {
  torch::set_num_threads(1);
  torch::NoGradGuard g;
  const auto batch = state.range(0), len = state.range(1);
  LmInputs in;
  in.input_ids = torch::randint(0, 4096, {batch, len}, torch::kLong);
  for (auto _ : state) benchmark::DoNotOptimize(model()->forward(in).logits.data_ptr());
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(state.iterations() * batch * len), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LlamaForward)->Args({1, 128})->Args({4, 128})->Unit(benchmark::kMillisecond);

void BM_LlamaGenerate(benchmark::State& state) {
  torch::set_num_threads(1);
  const bool cache = state.range(0) != 0;
  GenerationInputs gi;
  gi.input_ids = torch::randint(0, 4096, {1, 32}, torch::kLong);
  GenerationOptions o;
  o.max_new_tokens = 64;
  o.use_cache = cache;
  for (auto _ : state) benchmark::DoNotOptimize(generate(model(), gi, o).data_ptr());
  state.counters["new tokens/s"] = benchmark::Counter(static_cast<double>(state.iterations() * o.max_new_tokens), benchmark::Counter::kIsRate);
  state.SetLabel(cache ? "KV cache" : "no cache (full recompute)");
}
BENCHMARK(BM_LlamaGenerate)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
