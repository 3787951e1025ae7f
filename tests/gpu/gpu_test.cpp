// The GPU checks of scripts/gpu-check.sh (parity, SDPA, collectives): on CUDA when the machine has
// a GPU, else on the CPU at the same (tiny golden) sizes, which is how CI runs them
// (`gpu-check.sh --dry-run`). LibTorch and header-only dependencies only (no tokenizers, FAISS or
// HDF5): the GPU machine builds this from tests/gpu/CMakeLists.txt without apt.
// ECGBENCH_GPU_DEVICE overrides the device; ECGBENCH_TEST_DATA points at the goldens.
#include "support/catch_with_torch.hpp"

#include <cmath>
#include <cstdlib>
#include <random>

#include "ecgbench/models/models.hpp"
#include "ecgbench/train/distributed.hpp"
#include "ecgbench/train/optimizer.hpp"
#include "ecgbench/train/trainer.hpp"
#include "support/tensor_compare.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::models;

namespace {

torch::Device check_device() {
  if (const char* e = std::getenv("ECGBENCH_GPU_DEVICE"); e && *e) return parse_device(e);
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

/// Fills the CUDA caching allocator's free blocks with NaN (allocate, fill, free), so that a kernel
/// reading memory it never wrote gives NaN instead of a plausible stale value.
void poison(const torch::Device& d) {
  if (!d.is_cuda()) return;
  torch::Tensor t = torch::full({std::int64_t{64} << 20}, NAN, torch::TensorOptions().device(d));
  t.reset();
}

/// Float32 matmuls in float32 (TF32 off), as the goldens were made.
void strict_fp32() {
  at::globalContext().setFloat32MatmulPrecision("highest");
  at::globalContext().setAllowTF32CuDNN(false);
}

using test::relative_error;

/// atol = rtol = 1e-4 over valid rows (the goldens' rule).
bool close_1e4(const torch::Tensor& got, const torch::Tensor& want, const torch::Tensor& mask) { return test::count_outside(got, want, mask, 1e-4, 1e-4) == 0; }

const char* const causal_models[] = {"llama", "qwen2", "gemma2", "gpt2", "opt"};

LmInputs golden_inputs(const std::filesystem::path& dir, const std::string& name, const torch::Device& d) {
  LmInputs in;
  in.input_ids = load_npy_tensor(dir / "input_ids.npy").to(d);
  in.attention_mask = load_npy_tensor(dir / "attention_mask.npy").to(d);
  if (name != "opt") in.position_ids = load_npy_tensor(dir / "position_ids.npy").to(d);
  return in;
}

}  // namespace

TEST_CASE("GPU parity: golden LMs in fp32 equal transformers, bf16 within 3e-2 of float64, greedy ids, KV cache", "[gpu][parity]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden");
  torch::NoGradGuard no_grad;
  const torch::Device dev = check_device();
  strict_fp32();
  for (const std::string name : causal_models) {
    INFO("model " << name << " on " << dev.str());
    const auto dir = test_data_path / name;
    const torch::Tensor mask = load_npy_tensor(dir / "attention_mask.npy");
    auto lm = load_causal_lm(dir, torch::kFloat32, dev);
    poison(dev);
    const torch::Tensor logits = lm->forward(golden_inputs(dir, name, dev)).logits;
    CHECK(logits.device() == dev);
    CHECK(close_1e4(logits, load_npy_tensor(dir / "logits.npy"), mask));
    // bf16 weights against a float64 run of the same model (on the CPU).
    auto ref = load_causal_lm(dir, torch::kFloat64, torch::kCPU);
    const torch::Tensor want64 = ref->forward(golden_inputs(dir, name, torch::kCPU)).logits;
    auto half = load_causal_lm(dir, torch::kBFloat16, dev);
    poison(dev);
    const double r = relative_error(half->forward(golden_inputs(dir, name, dev)).logits, want64, mask);
    INFO("bf16 relative error " << r);
    std::printf("gpu-check: %s bf16 relative error %.4f\n", name.c_str(), r);
    CHECK(r <= 3e-2);  // the CPU measures 1.2-2.9 % on these tiny checkpoints (models_test.cpp)
    // Greedy ids in fp32 equal transformers' generate(), with and without the KV cache.
    const torch::Tensor want = load_npy_tensor(dir / "generated_ids.npy");
    GenerationInputs gi;
    gi.input_ids = load_npy_tensor(dir / "input_ids.npy").narrow(0, 0, 1).to(dev);
    GenerationOptions g;
    g.max_new_tokens = want.size(1) - gi.input_ids.size(1);
    poison(dev);
    CHECK(torch::equal(generate(lm, gi, g).cpu(), want));
    g.use_cache = false;
    CHECK(torch::equal(generate(lm, gi, g).cpu(), want));
  }
}

TEST_CASE("GPU SDPA: fused kernels chosen, SDPA equals eager attention, masked padded batches", "[gpu][sdpa]") {
  ECGBENCH_REQUIRE_TEST_DATA("golden");
  torch::NoGradGuard no_grad;
  const torch::Device dev = check_device();
  if (!compat::sdpa_available()) {
    // LibTorch 1.13 (Debian, CI): auto runs eager and an explicit sdpa is refused by name.
    CHECK(!uses_sdpa(AttentionKernel::automatic, false));
    CHECK_THROWS_WITH(require_attention_kernel(AttentionKernel::sdpa), Catch::Contains("needs LibTorch >= 2.1"));
    auto lm = load_causal_lm(test_data_path / "llama");
    CHECK_THROWS_WITH(lm->set_attention(AttentionKernel::sdpa), Catch::Contains("needs LibTorch >= 2.1"));
    return;
  }
  torch::manual_seed(0);
  const auto opts = torch::TensorOptions().device(dev).dtype(torch::kBFloat16);
  const std::int64_t B = 2, H = 8, KV = 2, T = 128, D = 64;
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  const torch::Tensor q = torch::randn({B, H, T, D}, opts), k = torch::randn({B, KV, T, D}, opts), v = torch::randn({B, KV, T, D}, opts);
  const torch::Tensor causal = causal_mask({}, B, T, 0, std::nullopt, torch::kBFloat16, dev);
  const torch::Tensor eager = attend(q, repeat_kv(k, H / KV), repeat_kv(v, H / KV), causal, scale);
  CHECK(relative_error(attend_sdpa(q, k, v, {}, /*is_causal=*/true, scale, H / KV), eager) <= 1e-2);
  // Left-padded batch: row 1 starts 37 tokens late; SDPA takes the additive mask.
  torch::Tensor pad = torch::ones({B, T}, torch::TensorOptions().dtype(torch::kLong).device(dev));
  pad.index_put_({1, torch::indexing::Slice(0, 37)}, 0);
  const torch::Tensor masked = causal_mask(pad, B, T, 0, std::nullopt, torch::kBFloat16, dev);
  CHECK(relative_error(attend_sdpa(q, k, v, masked, false, scale, H / KV), attend(q, repeat_kv(k, H / KV), repeat_kv(v, H / KV), masked, scale),
                  pad.view({B, 1, T}).expand({B, H, T}).contiguous().view({B, H, T})) <= 1e-2);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  if (dev.is_cuda()) {
    // sdp::SDPBackend: 0 = math; 1 flash, 2 memory-efficient, 3 cuDNN (numbering of 2.x).
    const torch::Tensor kx = repeat_kv(k, H / KV), vx = repeat_kv(v, H / KV);
    const auto plain = at::_fused_sdp_choice(q, kx, vx, c10::optional<at::Tensor>(), 0.0, true, scale);
    const auto with_mask = at::_fused_sdp_choice(q, kx, vx, masked, 0.0, false, scale);
    std::printf("gpu-check: sdpa backend causal=%lld masked=%lld\n", static_cast<long long>(plain), static_cast<long long>(with_mask));
    CHECK(plain > 0);
    CHECK(with_mask > 0);
  }
#endif
  // A whole model: the golden Llama with SDPA equals itself with eager attention (bf16, 1e-2).
  const auto dir = test_data_path / "llama";
  auto lm = load_causal_lm(dir, torch::kBFloat16, dev);
  lm->set_attention(AttentionKernel::eager);
  const torch::Tensor mask = load_npy_tensor(dir / "attention_mask.npy");
  const torch::Tensor e = lm->forward(golden_inputs(dir, "llama", dev)).logits;
  lm->set_attention(AttentionKernel::sdpa);
  CHECK(relative_error(lm->forward(golden_inputs(dir, "llama", dev)).logits, e, mask) <= 1e-2);
  LmInputs unpadded;  // no mask: is_causal
  unpadded.input_ids = load_npy_tensor(dir / "input_ids.npy").narrow(0, 0, 1).to(dev);
  const torch::Tensor s1 = lm->forward(unpadded).logits;
  lm->set_attention(AttentionKernel::eager);
  CHECK(relative_error(s1, lm->forward(unpadded).logits) <= 1e-2);
}

TEST_CASE("GPU collectives at world size 1: all-reduce, broadcast, a data-parallel step equals the plain step bit for bit", "[gpu][nccl]") {
  const torch::Device dev = check_device();
  const std::string backend = dev.is_cuda() ? "nccl" : "gloo";
  ::unsetenv("WORLD_SIZE"), ::unsetenv("RANK");
  std::mt19937 rng(std::random_device{}());
  ::setenv("MASTER_PORT", std::to_string(20000 + rng() % 20000).c_str(), 1);
  train::Distributed dist = train::init_distributed(backend, std::chrono::seconds(30), /*group_at_world_one=*/true);
  REQUIRE(dist.active());
  INFO("backend " << backend << " on " << dev.str());
  torch::Tensor x = torch::arange(6, torch::TensorOptions().dtype(torch::kFloat32).device(dev));
  const torch::Tensor before = x.clone();
  dist.all_reduce_sum(x);
  CHECK(torch::equal(x, before));
  std::vector<torch::Tensor> b{x};
  dist.broadcast(b, 0);
  CHECK(torch::equal(b[0], before));

  torch::manual_seed(3);
  torch::nn::Sequential a(torch::nn::Linear(16, 32), torch::nn::Tanh(), torch::nn::Linear(32, 4));
  torch::nn::Sequential c(torch::nn::Linear(16, 32), torch::nn::Tanh(), torch::nn::Linear(32, 4));
  {
    torch::NoGradGuard g;
    for (std::size_t i = 0; i < a->parameters().size(); ++i) c->parameters()[i].copy_(a->parameters()[i]);
  }
  a->to(dev), c->to(dev);
  const torch::Tensor in = torch::randn({8, 16}).to(dev), target = torch::randn({8, 4}).to(dev);
  train::AdamW oa(*a), oc(*c);
  (a->forward(in) - target).pow(2).mean().backward();
  oa.step();
  train::GradientReducer reducer(dist, c->parameters());
  reducer.arm();
  (c->forward(in) - target).pow(2).mean().backward();
  reducer.finish();
  oc.step();
  for (std::size_t i = 0; i < a->parameters().size(); ++i) CHECK(torch::equal(a->parameters()[i], c->parameters()[i]));
}

namespace {
struct ToyBatch {
  torch::Tensor x, y;
  [[nodiscard]] ToyBatch pin_memory() const { return {x.pin_memory(), y.pin_memory()}; }
  [[nodiscard]] ToyBatch to(torch::Device d, bool non_blocking) const { return {x.to(d, non_blocking), y.to(d, non_blocking)}; }
  [[nodiscard]] std::vector<torch::Tensor> tensors() const { return {x, y}; }
};
static_assert(train::StageableBatch<ToyBatch>);
struct ToyData {
  torch::Tensor x = torch::randn({64, 16}), y = torch::randn({64, 4});
  [[nodiscard]] std::size_t size() const { return 64; }
  ToyBatch batch(std::span<const std::size_t> idx) const {
    std::vector<std::int64_t> i(idx.begin(), idx.end());
    const torch::Tensor t = torch::tensor(i);
    return {x.index_select(0, t), y.index_select(0, t)};
  }
};
struct ToyNetImpl : torch::nn::Module {
  torch::nn::Linear a{nullptr}, b{nullptr};
  torch::Device device = torch::kCPU;
  std::int64_t arrived_on_device = 0;
  ToyNetImpl() { a = register_module("a", torch::nn::Linear(16, 32)), b = register_module("b", torch::nn::Linear(32, 4)); }
  train::LossOutput loss(const ToyBatch& batch) {
    arrived_on_device += batch.x.device() == device;
    const torch::Tensor out = b->forward(torch::tanh(a->forward(batch.x.to(device))));
    return {(out - batch.y.to(device)).pow(2).mean(), batch.x.size(0)};
  }
};
TORCH_MODULE(ToyNet);
}  // namespace

TEST_CASE("GPU staged batches: pinned copies on a side stream train exactly as batches the model copies itself", "[gpu][stage]") {
  const torch::Device dev = check_device();
  torch::manual_seed(5);
  ToyData data;
  ToyNet net[2];
  for (int run = 0; run < 2; ++run) {
    torch::manual_seed(6);
    net[run] = ToyNet();
    net[run]->to(dev);
    net[run]->device = dev;
    train::TrainOptions o;
    o.device = dev;
    o.stage_batches = run == 1;
    o.batch_size = 8, o.max_steps = 6, o.progress = false, o.save_at_end = false, o.seed = 1;
    train::AdamW opt(*net[run]);
    train::Trainer(o).fit(net[run], data, opt);
  }
  INFO("on " << dev.str());
  // Staged: every batch reached the model on the device; unstaged: on the host (the model copies it).
  CHECK(net[1]->arrived_on_device == 6);
  CHECK(net[0]->arrived_on_device == (dev.is_cuda() ? 0 : 6));
  for (std::size_t i = 0; i < net[0]->parameters().size(); ++i) CHECK(torch::equal(net[0]->parameters()[i], net[1]->parameters()[i]));
}

// Hidden (run by gpu-check.sh when tests/gpu/make_hf_llama.py could run, i.e. transformers is there):
// our Llama against transformers' on a Llama-3.2-1B-shaped random checkpoint, on the same device.
TEST_CASE("GPU parity with transformers on a Llama-3.2-1B-shaped checkpoint", "[.hf1b]") {
  const char* env = std::getenv("ECGBENCH_GPU_HF_DIR");
  REQUIRE(env != nullptr);
  const std::filesystem::path dir = env;
  torch::NoGradGuard no_grad;
  const torch::Device dev = check_device();
  strict_fp32();
  const torch::Tensor mask = load_npy_tensor(dir / "attention_mask.npy");
  LmInputs in;
  in.input_ids = load_npy_tensor(dir / "input_ids.npy").to(dev);
  in.attention_mask = mask.to(dev);
  in.position_ids = load_npy_tensor(dir / "position_ids.npy").to(dev);
  {
    auto lm = load_causal_lm(dir, torch::kFloat32, dev);
    poison(dev);
    const torch::Tensor got = lm->forward(in).logits;
    const torch::Tensor want = load_npy_tensor(dir / "logits_fp32.npy");
    const double max_abs = ((got.cpu() - want).abs() * mask.unsqueeze(-1)).max().item<double>();
    std::printf("gpu-check: hf1b fp32 max |diff| %.3g\n", max_abs);
    CHECK(close_1e4(got, want, mask));
  }
  auto half = load_causal_lm(dir, torch::kBFloat16, dev);
  poison(dev);
  const double r = relative_error(half->forward(in).logits, load_npy_tensor(dir / "logits_fp32.npy"), mask);
  std::printf("gpu-check: hf1b bf16 relative error %.3g\n", r);
  CHECK(r <= 2e-2);
}
