// bench_gpu_step: training-step throughput of an end-to-end ECG-Byte ELM (a Llama-family LLM whose
// vocabulary holds the signal tokens; resources/gpu/llama-3.2-1b-ecg-byte.json is Llama-3.2-1B's
// shape), random weights, full fine-tune: bf16 autocast over float32 master weights, fused AdamW
// (ATen's, on CUDA), SDPA attention. Times warm-up + timed steps (synchronised wall clock around
// each phase), reports tokens/s, forward / backward / optimizer ms, and MFU with PaLM's count
// (6 N + 12 L d T FLOPs per token, N = matmul parameters with the LM head) against the given peaks.
// The peer (PyTorch eager, same config and ids) is benchmarks/python/gpu_step_reference.py; both
// are run by scripts/gpu-check.sh. No Google Benchmark: the GPU machine has LibTorch and headers only.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "ecgbench/core/json.hpp"
#include "ecgbench/models/device.hpp"
#include "ecgbench/models/llm/llama.hpp"
#include "ecgbench/models/tensor_io.hpp"
#include "ecgbench/train/optimizer.hpp"

using namespace ecgbench;

namespace {

void sync(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize(d.index());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Training-step throughput of an ECG-Byte ELM (GPU check)"};
  std::string config, device = "cuda", precision = "bf16-autocast", attention = "auto", kernel = "auto", ids_file, out;
  std::int64_t batch = 16, seq = 1024, warmup = 5, steps = 20;
  double peak_tflops = 989.0, measured_tflops = 0;
  std::uint64_t seed = 0;
  app.add_option("--config", config, "model config.json (e.g. resources/gpu/llama-3.2-1b-ecg-byte.json)")->required();
  app.add_option("--device", device, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--precision", precision, "fp32 | bf16-autocast | bf16")->capture_default_str();
  app.add_option("--attention", attention, "eager | sdpa | auto")->capture_default_str();
  app.add_option("--optimizer-kernel", kernel, "auto | plain | foreach | fused")->capture_default_str();
  app.add_option("--batch", batch, "sequences per step")->capture_default_str();
  app.add_option("--seq", seq, "tokens per sequence")->capture_default_str();
  app.add_option("--warmup", warmup, "untimed steps")->capture_default_str();
  app.add_option("--steps", steps, "timed steps")->capture_default_str();
  app.add_option("--ids", ids_file, "int64 [batch, seq + 1] token ids (.npy; the peer's); default: uniform random with --seed");
  app.add_option("--seed", seed, "weights and ids")->capture_default_str();
  app.add_option("--peak-tflops", peak_tflops, "the card's dense bf16 peak (H200: 989)")->capture_default_str();
  app.add_option("--measured-tflops", measured_tflops, "a measured matmul ceiling (gpu-check's probe)");
  app.add_option("--out", out, "JSON report");
  CLI11_PARSE(app, argc, argv);
  try {
    const auto [dev, prec] = models::parse_placement(device, precision);
    torch::manual_seed(seed);
    const auto cfg = hf::ModelConfig::load(config);
    const models::LlamaOptions lo = models::LlamaOptions::from_config(cfg);
    models::LlamaForCausalLm lm(lo);
    lm->set_attention(models::parse_attention_kernel(attention));
    models::place(*lm, dev, prec);
    lm->train();
    train::AdamOptions ao;
    ao.lr = 1e-5, ao.weight_decay = 0.01, ao.kernel = train::parse_adam_kernel(kernel);
    train::AdamW opt(*lm, ao);

    torch::Tensor ids = ids_file.empty() ? torch::randint(lo.vocab_size, {batch, seq + 1}, torch::kLong) : models::load_npy_tensor(ids_file).to(torch::kLong);
    if (ids.dim() != 2 || ids.size(0) != batch || ids.size(1) != seq + 1)
      throw Error({ids_file, {}, {}, {}}, "expected int64 [" + std::to_string(batch) + ", " + std::to_string(seq + 1) + "] token ids");
    ids = ids.to(dev);
    const torch::Tensor inputs = ids.narrow(1, 0, seq), labels = ids.narrow(1, 1, seq).reshape({-1});

    std::vector<double> fwd, bwd, upd, total;
    double last_loss = NAN;
    for (std::int64_t s = 0; s < warmup + steps; ++s) {
      using Clock = std::chrono::steady_clock;
      sync(dev);
      const auto t0 = Clock::now();
      torch::Tensor loss;
      {
        const models::PrecisionScope amp(prec, dev);
        models::LmInputs in;
        in.input_ids = inputs;  // no padding: causal attention without a mask
        const torch::Tensor logits = lm->forward(in).logits;
        loss = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}).to(torch::kFloat32), labels);
      }
      sync(dev);
      const auto t1 = Clock::now();
      loss.backward();
      sync(dev);
      const auto t2 = Clock::now();
      opt.step();
      opt.zero_grad();
      sync(dev);
      const auto t3 = Clock::now();
      if (s >= warmup) {
        auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
        fwd.push_back(ms(t0, t1)), bwd.push_back(ms(t1, t2)), upd.push_back(ms(t2, t3)), total.push_back(ms(t0, t3));
      }
      if (s + 1 == warmup + steps) last_loss = loss.item<double>();  // one host read, after the last step
    }
    // PaLM's count: N = the matmul weights (attention, MLP, LM head; not norms or the embedding lookup).
    const double d = static_cast<double>(lo.hidden_size), L = static_cast<double>(lo.num_layers), T = static_cast<double>(seq);
    const double per_layer = d * lo.num_heads * lo.head_dim * 2 + d * lo.num_kv_heads * lo.head_dim * 2 + 3 * d * lo.intermediate_size;
    const double n_matmul = L * per_layer + d * static_cast<double>(lo.vocab_size);
    const double flops_per_token = 6 * n_matmul + 12 * L * d * T;
    const double step_ms = median(total), tokens_per_s = static_cast<double>(batch * seq) / (step_ms / 1000.0);
    const double achieved_tflops = tokens_per_s * flops_per_token / 1e12;
    Json r = {{"bench", "bench_gpu_step"}, {"device", dev.str()}, {"torch", TORCH_VERSION}, {"config", config}, {"batch", batch}, {"seq", seq},
              {"precision", precision}, {"attention", attention}, {"optimizer_kernel", train::to_string(opt.kernel())}, {"warmup", warmup}, {"steps", steps},
              {"step_ms", step_ms}, {"forward_ms", median(fwd)}, {"backward_ms", median(bwd)}, {"optimizer_ms", median(upd)},
              {"tokens_per_s", tokens_per_s}, {"matmul_params", n_matmul}, {"flops_per_token", flops_per_token}, {"achieved_tflops", achieved_tflops},
              {"mfu_vs_peak", achieved_tflops / peak_tflops}, {"peak_tflops", peak_tflops}, {"last_loss", last_loss}};
    if (measured_tflops > 0) r["mfu_vs_measured"] = achieved_tflops / measured_tflops;
    if (!std::isfinite(last_loss)) throw Error("the loss is not finite after " + std::to_string(warmup + steps) + " steps (" + precision + ")");
    std::printf("%s\n", r.dump().c_str());
    if (!out.empty()) write_json(out, r);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gpu_step: %s\n", e.what());
    return 1;
  }
  return 0;
}
