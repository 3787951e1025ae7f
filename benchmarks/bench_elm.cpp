// ELM training steps and generation on CPU, beside benchmarks/python/elm_reference.py (the same
// models and steps in plain Python PyTorch; scripts/bench-peers.sh runs both and prints the table).
// The models are the demo's: a Llama with hidden 128, 2 layers, 4 heads / 2 KV heads, intermediate 256
// (resources/demo-llm), random weights.
//   BM_EcgByteTrainStep   end-to-end ECG-Byte: [8, 320] token ids (vocabulary 1754), loss on every token
//   BM_LlavaTrainStep     LLaVA-style: MERL's ResNet-1D (BasicBlock [1, 1, 1, 1], frozen) on [8, 12, 1250]
//                         -> linear projector -> one spliced token in [8, 96] ids (vocabulary 498)
//   BM_Generate/B         greedy decoding, KV cache: B prompts of 64 ids, 32 new tokens each
// Each training step is split into data (collating 8 items into tensors), forward + loss, backward and
// optimiser (AdamW, torch.optim's single-tensor path), reported as per-step counters in ms.
#include <benchmark/benchmark.h>

#include <chrono>

#include "ecgbench/elm/aliases.hpp"
#include "ecgbench/elm/collate.hpp"
#include "ecgbench/train/optimizer.hpp"

using namespace ecgbench;
using namespace ecgbench::elm;

namespace {

models::LlamaOptions demo_llama(std::int64_t vocab) {
  models::LlamaOptions o;
  o.model_type = "llama";
  o.vocab_size = vocab;
  o.hidden_size = 128;
  o.intermediate_size = 256;
  o.num_layers = 2;
  o.num_heads = 4;
  o.num_kv_heads = 2;
  o.head_dim = 32;
  o.rms_norm_eps = 1e-5;
  o.rope_theta = 10000.0;
  o.tie_word_embeddings = true;
  return o;
}

/// `n` items of `len` random ids, labels on every position (ECG-Byte) or from `answer_from` on.
std::vector<data::ElmItem> items(std::int64_t n, std::int64_t len, std::int64_t vocab, std::int64_t answer_from, bool signal) {
  std::vector<data::ElmItem> out;
  const torch::Tensor ids = torch::randint(vocab - 1, {n, len}, torch::kInt32);
  for (std::int64_t i = 0; i < n; ++i) {
    data::ElmItem it;
    it.id = std::to_string(i);
    for (std::int64_t t = 0; t < len; ++t) {
      const auto id = ids[i][t].item<std::int32_t>();
      it.enc.ids.push_back(id);
      it.enc.labels.push_back(t >= answer_from ? id : -100);
      it.enc.attention_mask.push_back(1);
      it.enc.position_ids.push_back(static_cast<std::int32_t>(t));
    }
    if (signal) {
      it.enc.signal_positions = {1};
      const torch::Tensor x = torch::randn({12, 1250});
      it.encoder.values.assign(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
      it.encoder.shape = {12, 1250};
    }
    out.push_back(std::move(it));
  }
  return out;
}

double ms_since(std::chrono::steady_clock::time_point t) { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count(); }

template <class ElmT>
void train_steps(benchmark::State& state, ElmT& elm, const std::vector<data::ElmItem>& batch_items, std::int64_t pad, std::int64_t slots) {
  elm->train();
  train::AdamOptions ao;
  ao.lr = 1e-4;
  train::AdamW opt(*elm, ao);
  {  // warm-up step (allocations, optimiser moments), as the Python peer's
    const ElmBatch b = collate(batch_items, pad, slots);
    opt.zero_grad();
    elm->loss(b).loss.backward();
    opt.step();
  }
  double data = 0, fwd = 0, bwd = 0, step = 0;
  std::int64_t tokens = 0;
  for (auto _ : state) {
    auto t = std::chrono::steady_clock::now();
    const ElmBatch b = collate(batch_items, pad, slots);
    data += ms_since(t);
    t = std::chrono::steady_clock::now();
    opt.zero_grad();
    const auto l = elm->loss(b);
    fwd += ms_since(t);
    t = std::chrono::steady_clock::now();
    l.loss.backward();
    bwd += ms_since(t);
    t = std::chrono::steady_clock::now();
    opt.step();
    step += ms_since(t);
    tokens += b.input_ids.numel();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["data_ms"] = data / n;
  state.counters["forward_ms"] = fwd / n;
  state.counters["backward_ms"] = bwd / n;
  state.counters["optimizer_ms"] = step / n;
  state.counters["steps/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

void BM_EcgByteTrainStep(benchmark::State& state) {
  torch::manual_seed(0);
  ElmOptions o;
  o.train_embeddings = true;
  EcgByteLlama elm(models::encoders::NoEncoder(), models::NoProjector(), models::LlamaForCausalLm(demo_llama(1754)), o);
  elm->configure_trainable(true);
  const auto batch = items(8, 320, 1754, 0, false);
  train_steps(state, elm, batch, 1753, 0);
}
BENCHMARK(BM_EcgByteTrainStep)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

void BM_LlavaTrainStep(benchmark::State& state) {
  torch::manual_seed(0);
  models::MerlOptions mo;
  mo.resnet = models::ResNet1dOptions::named("ResNet(BasicBlock, [1, 1, 1, 1])");
  models::encoders::Merl merl(mo, /*pretraining_head=*/false);
  ElmOptions o;
  o.train_embeddings = true;
  MerlLlava elm(merl, models::LinearProjector(merl->embedding_dim(), 128), models::LlamaForCausalLm(demo_llama(498)), o);
  elm->configure_trainable(true);
  const auto batch = items(8, 96, 498, 80, true);
  train_steps(state, elm, batch, 497, 1);
}
BENCHMARK(BM_LlavaTrainStep)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

void BM_Generate(benchmark::State& state) {
  torch::manual_seed(0);
  const auto bsz = state.range(0);
  ElmOptions o;
  EcgByteLlama elm(models::encoders::NoEncoder(), models::NoProjector(), models::LlamaForCausalLm(demo_llama(1754)), o);
  elm->eval();
  torch::NoGradGuard g;
  const ElmBatch b = collate(items(bsz, 64, 1754, 64, false), 1753, 0);
  models::GenerationOptions gen;
  gen.max_new_tokens = 32;
  gen.eos_token_ids = {};  // never stop early: every row generates 32 tokens
  (void)elm->generate(b, gen);  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(elm->generate(b, gen));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(32 * bsz * state.iterations()), benchmark::Counter::kIsRate);
  state.counters["turns/s"] = benchmark::Counter(static_cast<double>(bsz * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Generate)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
