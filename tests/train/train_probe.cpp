// A small program the training tests run as a separate process (to kill it with SIGKILL, to start
// it as data-parallel ranks): an MLP with dropout on synthetic data, trained by the Trainer.
//   train_probe --run DIR --steps N [--save-every K] [--seed S] [--resume] [--batch B] [--accum A]
//               [--sleep-ms M] [--fail-rank R --fail-step K] [--nan-step K] [--no-dropout] [--out FINAL.safetensors]
// Single process unless WORLD_SIZE > 1 (then gloo, ranks from torchrun's variables).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "ecgbench/train/trainer.hpp"

using namespace ecgbench;
using namespace ecgbench::train;

namespace {

struct ProbeBatch {
  torch::Tensor x, y;
};

/// 96 items: x from a formula of the index, y a nonlinear function of x.
struct ProbeData {
  std::size_t size() const { return 96; }
  ProbeBatch batch(std::span<const std::size_t> idx) const {
    std::vector<float> xs, ys;
    for (auto i : idx)
      for (int d = 0; d < 6; ++d) xs.push_back(static_cast<float>(std::sin(0.37 * static_cast<double>(i) + 1.3 * d)));
    torch::Tensor x = torch::tensor(xs).view({static_cast<std::int64_t>(idx.size()), 6});
    torch::Tensor y = torch::tanh(x.matmul(torch::linspace(-1, 1, 12).view({6, 2})) + 0.1);
    return {x, y};
  }
};

class ProbeMlpImpl : public torch::nn::Module {
 public:
  ProbeMlpImpl() {
    l1 = register_module("l1", torch::nn::Linear(6, 32));
    l2 = register_module("l2", torch::nn::Linear(32, 2));
  }
  LossOutput loss(const ProbeBatch& b) {
    if (nan_now) return {l1->weight.sum() * std::nan(""), 1};  // differentiable, like a real divergence
    const torch::Tensor h = torch::dropout(torch::relu(l1->forward(b.x)), dropout, is_training());
    return {torch::mse_loss(l2->forward(h), b.y), b.x.size(0)};
  }
  torch::nn::Linear l1{nullptr}, l2{nullptr};
  bool nan_now = false;
  double dropout = 0.2;
};
TORCH_MODULE(ProbeMlp);

std::string arg(int argc, char** argv, const char* name, const std::string& fallback = "") {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}
bool flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return true;
  return false;
}

struct Hooks {
  ProbeMlp* model;
  int rank, fail_rank;
  std::int64_t fail_step, nan_step, sleep_ms;
  void on_step(const StepInfo& s) {
    if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    if (rank == fail_rank && s.step == fail_step) throw Error("rank " + std::to_string(rank) + " failed on purpose at step " + std::to_string(s.step));
    if (s.step + 1 == nan_step) (*model)->nan_now = true;
  }
};

}  // namespace

int main(int argc, char** argv) {
  try {
    torch::set_num_threads(1);
    Distributed dist = init_distributed("gloo", std::chrono::seconds(60));
    torch::manual_seed(11);  // same initial weights everywhere (rank 0's are broadcast anyway)
    ProbeMlp model;
    if (flag(argc, argv, "--no-dropout")) model->dropout = 0.0;  // ranks draw their own masks: DDP == 1 process only without
    ProbeData data;
    TrainOptions o;
    o.run_dir = arg(argc, argv, "--run");
    o.max_steps = std::stoll(arg(argc, argv, "--steps", "20"));
    o.epochs = 100;
    o.save_every = std::stoll(arg(argc, argv, "--save-every", "0"));
    o.seed = std::stoull(arg(argc, argv, "--seed", "3"));
    o.resume = flag(argc, argv, "--resume");
    o.batch_size = std::stoul(arg(argc, argv, "--batch", "4"));
    o.grad_accum = std::stoll(arg(argc, argv, "--accum", "1"));
    o.keep = 2;
    o.log_every = 1;
    o.progress = false;
    o.clip_norm = 1.0;
    o.schedule = Schedule::cosine_decay(0.01, 3, o.max_steps);
    AdamW opt(*model, AdamOptions{});
    Hooks hooks{&model, dist.rank, std::stoi(arg(argc, argv, "--fail-rank", "-1")), std::stoll(arg(argc, argv, "--fail-step", "-1")),
                std::stoll(arg(argc, argv, "--nan-step", "-1")), std::stoll(arg(argc, argv, "--sleep-ms", "0"))};
    Trainer trainer(o, dist);
    trainer.fit(model, data, opt, hooks);
    const std::string out = arg(argc, argv, "--out");
    if (!out.empty() && dist.is_main()) {
      std::map<std::string, torch::Tensor> params;
      for (const auto& p : model->named_parameters()) params[p.key()] = p.value();
      save_tensors(out, params);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_probe: %s\n", e.what());
    return 1;
  }
  return 0;
}
