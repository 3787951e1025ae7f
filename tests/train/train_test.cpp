// Tests for include/ecgbench/train: schedules, Adam / AdamW trajectories equal to torch.optim
// (goldens made by tests/train/golden/make_optim_golden.py), the sampler, checkpoints (atomic,
// keep-last-K, SIGKILL + resume bit-identical), data-parallel training on Gloo (2 ranks == 1 rank
// with the combined batch), failing ranks, bad checkpoints.
#include "support/catch_with_torch.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "ecgbench/models/tensor_io.hpp"
#include "ecgbench/train/trainer.hpp"
#include "support/test_data.hpp"

extern char** environ;

using namespace ecgbench;
using namespace ecgbench::train;

namespace {

const std::filesystem::path golden_dir = std::filesystem::path(ECGBENCH_SOURCE_DIR) / "tests" / "train" / "golden";

torch::Tensor golden(const std::string& name) { return models::load_npy_tensor(golden_dir / (name + ".npy")); }

struct MlpBatch {
  torch::Tensor x, y, mask;
};
struct GoldenData {
  torch::Tensor x = golden("x"), y = golden("y"), mask = golden("mask");
  std::size_t size() const { return static_cast<std::size_t>(x.size(0)); }
  MlpBatch batch(std::span<const std::size_t> idx) const {
    std::vector<std::int64_t> i(idx.begin(), idx.end());
    const auto t = torch::tensor(i);
    return {x.index_select(0, t), y.index_select(0, t), mask.index_select(0, t)};
  }
};

class GoldenMlpImpl : public torch::nn::Module {
 public:
  GoldenMlpImpl() {
    l1 = register_module("l1", torch::nn::Linear(8, 16));
    ln = register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({16})));
    l2 = register_module("l2", torch::nn::Linear(16, 4));
    torch::NoGradGuard g;
    for (auto& p : named_parameters()) p.value().copy_(golden("init_" + p.key()));
  }
  LossOutput loss(const MlpBatch& b) {
    const torch::Tensor out = l2->forward(torch::tanh(ln->forward(l1->forward(b.x))));
    const torch::Tensor count = b.mask.sum();
    return {((out - b.y).pow(2) * b.mask).sum() / count, static_cast<std::int64_t>(count.item<float>())};
  }
  torch::nn::Linear l1{nullptr}, l2{nullptr};
  torch::nn::LayerNorm ln{nullptr};
};
TORCH_MODULE(GoldenMlp);

/// Runs out of memory as the CUDA allocator reports it (c10::Error), from the third batch on.
class OomMlpImpl : public GoldenMlpImpl {
 public:
  LossOutput loss(const MlpBatch& b) {
    if (++calls_ >= 3) TORCH_CHECK(false, "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.35 GiB total capacity)");
    return GoldenMlpImpl::loss(b);
  }

 private:
  int calls_ = 0;
};
TORCH_MODULE(OomMlp);

std::string app_path(const std::string& name) { return std::string(ECGBENCH_APP_DIR) + "/" + name; }
std::string probe_path() { return ECGBENCH_TRAIN_PROBE; }

/// Runs a command; returns its exit status (and stderr in `err`).
int run(const std::vector<std::string>& args, std::string* err = nullptr) {
  std::string cmd;
  for (const auto& a : args) cmd += "'" + a + "' ";
  const auto errfile = test::temp_dir() / ("stderr-" + std::to_string(std::rand()));
  cmd += "2>'" + errfile.string() + "'";
  const int rc = std::system(cmd.c_str());
  if (err) *err = read_file(errfile);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
  return pid;
}

bool same_tensors(const std::filesystem::path& a, const std::filesystem::path& b) {
  const auto x = load_tensors(a), y = load_tensors(b);
  if (x.size() != y.size()) return false;
  for (const auto& [k, t] : x)
    if (!y.count(k) || !torch::equal(t, y.at(k))) return false;
  return true;
}

}  // namespace

TEST_CASE("schedules: upstream's Noam in each era, linear, cosine, constant", "[train][schedule]") {
  // Paper era: d_model^-0.5, counter k + 1: peak at step 500 = 2048^-0.5 500^-0.5 = 9.88e-4 (Llama-3.2-1B).
  const Schedule paper = Schedule::noam_paper(2048, 500);
  CHECK(paper.lr(499) == Approx(std::pow(2048.0, -0.5) * std::pow(500.0, -0.5)).epsilon(1e-12));
  CHECK(paper.lr(499) == Approx(9.882e-4).epsilon(1e-3));
  CHECK(paper.lr(0) == Approx(std::pow(2048.0, -0.5) * std::pow(500.0, -1.5)).epsilon(1e-12));
  CHECK(paper.lr(1999) == Approx(std::pow(2048.0, -0.5) / std::sqrt(2000.0)).epsilon(1e-12));
  // [P] / [H] counter: steps 0 and 1 both use s = 1.
  const Schedule head = Schedule::noam_head(1e-4, 1.0, 500);
  CHECK(head.lr(0) == head.lr(1));
  CHECK(head.lr(500) == Approx(1e-4).epsilon(1e-12));  // the peak is --lr
  CHECK(head.lr(2000) == Approx(1e-4 * std::sqrt(500.0 / 2000.0)).epsilon(1e-12));
  CHECK(Schedule::noam_head(1e-12, 1.0, 500).lr(3) == 1e-8);  // floor
  // Gemma-2-2B and Qwen2.5-1.5B peaks quoted by the inventory.
  CHECK(Schedule::noam_paper(2304).lr(499) == Approx(9.3e-4).epsilon(2e-3));
  CHECK(Schedule::noam_paper(1536).lr(499) == Approx(1.14e-3).epsilon(2e-3));
  const Schedule lin = Schedule::linear_decay(1.0, 10, 110);
  CHECK(lin.lr(5) == Approx(0.5));
  CHECK(lin.lr(60) == Approx(0.5));
  CHECK(lin.lr(200) == 0.0);
  const Schedule cosv = Schedule::cosine_decay(2.0, 0, 100);
  CHECK(cosv.lr(50) == Approx(1.0));
  CHECK(cosv.lr(100) == Approx(0.0).margin(1e-15));
  CHECK(Schedule::constant(3e-4, 4).lr(2) == Approx(1.5e-4));
  CHECK(batch_scale(2, 4, 1) == 4.0);
  CHECK(batch_scale(2, 1, 8, 4) == 4.0);
  const Schedule back = Schedule::from_json(head.to_json(), "s.json");
  CHECK(back.lr(777) == head.lr(777));
  CHECK_THROWS_WITH(Schedule::from_json(Json{{"kind", "step"}, {"init_lr", 1}, {"warmup", 1}, {"total_steps", 1}, {"paper_counter", false}}, "s.json"),
                    Catch::Contains("unknown schedule 'step'"));
}

TEST_CASE("Adam and AdamW follow torch.optim + LambdaLR for 50 steps with accumulation and clipping", "[train][optim][golden]") {
  // Every kernel this build can run on the CPU; foreach must equal plain bit for bit (same arithmetic).
  std::vector<AdamKernel> kernels{AdamKernel::plain, AdamKernel::foreach, AdamKernel::automatic};
  if (compat::fused_adam_available(torch::kCPU)) kernels.push_back(AdamKernel::fused);
  std::map<std::string, torch::Tensor> plain_result;
  for (const AdamKernel kernel : kernels)
  for (const std::string c : {"adam_noam", "adamw_cosine"}) {
    INFO(c << " with the " << to_string(kernel) << " kernel");
    torch::manual_seed(0);
    GoldenMlp model;
    GoldenData data;
    TrainOptions o;
    o.batch_size = 4;
    o.grad_accum = 2;
    o.max_steps = 50;
    o.epochs = 100;
    o.shuffle = false;
    o.clip_norm = 1.0;
    o.progress = false;
    o.save_at_end = false;
    o.schedule = c == "adam_noam" ? Schedule::noam_head(0.05, 1.0, 10) : Schedule::cosine_decay(0.03, 5, 50);
    const auto groups = parameter_groups(*model, 0.01, /*no_decay_on_norms_and_biases=*/true);
    REQUIRE(groups.size() == 2);
    CHECK(groups[1].names == std::vector<std::string>{"l1.bias", "ln.weight", "ln.bias", "l2.bias"});
    AdamOptions ao;  // upstream's betas (0.9, 0.99), eps 1e-8
    ao.kernel = kernel;
    TrainResult r;
    if (c == "adam_noam") {
      Adam opt(groups, ao);
      r = Trainer(o).fit(model, data, opt);
      CHECK(opt.steps() == 50);
      CHECK(opt.kernel() == (kernel == AdamKernel::automatic ? AdamKernel::foreach : kernel));  // the CPU's default
    } else {
      AdamW opt(groups, ao);
      r = Trainer(o).fit(model, data, opt);
    }
    CHECK(r.steps == 50);
    for (const auto& p : model->named_parameters()) {
      INFO(p.key());
      const torch::Tensor want = golden("final_" + c + "_" + p.key());
      const double rel = ((p.value() - want).abs() / want.abs().clamp_min(1e-3)).max().item<double>();
      CHECK(rel < (kernel == AdamKernel::fused ? 1e-5 : 1e-6));
      if (kernel == AdamKernel::plain) plain_result[c + p.key()] = p.value().clone();
      else if (kernel != AdamKernel::fused) CHECK(torch::equal(p.value(), plain_result.at(c + p.key())));
    }
  }
}

TEST_CASE("optimizer kernels: fused refused clearly where ATen has none, unknown names refused", "[train][optim]") {
  GoldenMlp model;
  GoldenData data;
  AdamOptions ao;
  ao.kernel = AdamKernel::fused;
  AdamW opt(*model, ao);
  const std::vector<std::size_t> idx{0, 1, 2};
  model->loss(data.batch(idx)).loss.backward();
  if (compat::fused_adam_available(torch::kCPU)) {
    const torch::Tensor before = model->l1->weight.clone();
    opt.step();
    CHECK(opt.kernel() == AdamKernel::fused);
    CHECK(!torch::equal(before, model->l1->weight));
  } else {
    CHECK_THROWS_WITH(opt.step(), Catch::Contains("fused Adam kernel needs LibTorch >= 2.1 on CUDA") && Catch::Contains("choose foreach or plain"));
  }
  CHECK(parse_adam_kernel("foreach") == AdamKernel::foreach);
  CHECK_THROWS_WITH(parse_adam_kernel("apex"), Catch::Contains("unknown optimizer kernel 'apex'"));
}

TEST_CASE("the sampler gives each rank a disjoint shard, reshuffled per epoch by seed", "[train][sampler]") {
  SamplerOptions so{10, 2, 0, 3, 42, true, false};
  std::vector<std::size_t> all;
  for (std::size_t r = 0; r < 3; ++r) {
    so.rank = r;
    const auto idx = DistributedSampler(so).indices(0);
    CHECK(idx.size() == 4);  // ceil(10 / 3), padded
    all.insert(all.end(), idx.begin(), idx.end());
  }
  std::sort(all.begin(), all.end());
  CHECK(std::set<std::size_t>(all.begin(), all.end()).size() == 10);  // every item, two repeated as padding
  so.rank = 0;
  so.world = 1;
  const DistributedSampler s(so);
  CHECK(s.indices(0) == s.indices(0));
  CHECK(s.indices(0) != s.indices(1));
  CHECK(s.batches(0).size() == 5);
  CHECK(s.batches_per_epoch() == 5);
  so.world = 2;
  so.rank = 2;
  CHECK_THROWS_WITH(DistributedSampler(so), Catch::Contains("outside world size"));
}

TEST_CASE("checkpoints: atomic folders, latest, keep-last-K, interrupted writes ignored", "[train][checkpoint]") {
  const auto run_dir = test::temp_dir() / "ckpt-store";
  std::filesystem::remove_all(run_dir);
  CheckpointStore store(run_dir);
  CHECK(!store.latest());
  for (std::int64_t step : {5, 10, 15, 20}) {
    store.save(step, 2, [&](const std::filesystem::path& d) {
      TrainState s;
      s.step = step;
      write_json(d / "state.json", s.to_json());
    });
  }
  CHECK(store.steps() == std::vector<std::int64_t>{15, 20});
  CHECK(store.latest() == run_dir / "checkpoints" / "step-20");
  // A write that died half-way: a temporary folder, never picked up, removed on the next start.
  std::filesystem::create_directories(run_dir / "checkpoints" / ".tmp-step-25-999");
  write_file_atomically(run_dir / "checkpoints" / ".tmp-step-25-999" / "model.safetensors", "partial");
  CHECK(store.latest() == run_dir / "checkpoints" / "step-20");
  // `latest` naming a folder that is gone: the newest complete one is used.
  write_file_atomically(run_dir / "checkpoints" / "latest", "step-99\n");
  CHECK(store.latest() == run_dir / "checkpoints" / "step-20");
  store.clean_temporaries();
  CHECK(!std::filesystem::exists(run_dir / "checkpoints" / ".tmp-step-25-999"));
  // An exception while writing leaves nothing behind.
  CHECK_THROWS(store.save(30, 2, [](const std::filesystem::path&) { throw Error("disk full"); }));
  CHECK(store.steps() == std::vector<std::int64_t>{15, 20});
}

TEST_CASE("a run killed with SIGKILL resumes to bit-identical parameters", "[train][resume][slow]") {
  const auto base = test::temp_dir() / "resume";
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  // Uninterrupted: 24 steps.
  REQUIRE(run({probe_path(), "--run", (base / "full").string(), "--steps", "24", "--save-every", "8", "--out", (base / "full.safetensors").string()}) == 0);
  // Interrupted: killed at a random moment after the step-8 checkpoint, then resumed to 24.
  std::mt19937 rng(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  const pid_t pid = spawn({probe_path(), "--run", (base / "cut").string(), "--steps", "24", "--save-every", "8", "--sleep-ms", "15"});
  const auto latest = base / "cut" / "checkpoints" / "step-8" / "state.json";
  for (int i = 0; i < 2000 && !std::filesystem::exists(latest); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(std::filesystem::exists(latest));
  std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 200)(rng)));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status));
  CheckpointStore store(base / "cut");
  REQUIRE(store.latest());
  INFO("killed after checkpoint " << store.latest()->filename());
  REQUIRE(run({probe_path(), "--run", (base / "cut").string(), "--steps", "24", "--save-every", "8", "--resume", "--out", (base / "cut.safetensors").string()}) == 0);
  CHECK(same_tensors(base / "full.safetensors", base / "cut.safetensors"));
  // metrics.jsonl continues after the resume (appended).
  CHECK(std::filesystem::file_size(base / "cut" / "metrics.jsonl") > 0);
}

TEST_CASE("data parallel: 2 Gloo ranks with batch b equal 1 process with batch 2b", "[train][ddp][slow]") {
  const auto base = test::temp_dir() / "ddp";
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  // Without dropout: each rank draws its own masks, so only the deterministic model compares exactly.
  REQUIRE(run({probe_path(), "--run", (base / "one").string(), "--steps", "10", "--batch", "8", "--no-dropout", "--out", (base / "one.safetensors").string()}) == 0);
  std::string err;
  const int rc = run({app_path("ecgbench-launch"), "--nproc", "2", "--", probe_path(), "--run", (base / "two").string(), "--steps", "10", "--batch", "4", "--no-dropout",
                      "--out", (base / "two.safetensors").string()},
                     &err);
  INFO(err);
  REQUIRE(rc == 0);
  const auto a = load_tensors(base / "one.safetensors"), b = load_tensors(base / "two.safetensors");
  for (const auto& [k, t] : a) {
    INFO(k);
    // The gradient of the full batch and the mean of two half-batch gradients differ only in float32
    // summation order; ten Adam steps (which divide by sqrt(v)) grow that to ~1e-6 relative.
    CHECK(((t - b.at(k)).abs() / t.abs().clamp_min(1e-3)).max().item<double>() < 1e-5);
  }
}

TEST_CASE("a failing rank stops the job with its message and a non-zero exit", "[train][ddp][slow]") {
  const auto base = test::temp_dir() / "ddp-fail";
  std::string err;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = run({app_path("ecgbench-launch"), "--nproc", "2", "--grace", "2", "--", probe_path(), "--run", (base / "r").string(), "--steps", "50", "--fail-rank",
                      "1", "--fail-step", "3"},
                     &err);
  CHECK(rc != 0);
  CHECK_THAT(err, Catch::Contains("rank 1 failed on purpose at step 3"));
  CHECK_THAT(err, Catch::Contains("ecgbench-launch: rank 1 exited with status 1"));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));
}

TEST_CASE("training refuses a NaN loss, damaged checkpoints, another model's checkpoint, another world size", "[train][errors]") {
  const auto base = test::temp_dir() / "train-errors";
  std::filesystem::remove_all(base);
  std::string err;
  CHECK(run({probe_path(), "--run", (base / "nan").string(), "--steps", "10", "--nan-step", "4"}, &err) == 1);
  CHECK_THAT(err, Catch::Contains("not finite at step 4"));
  {  // Out of memory names the step and what to change.
    OomMlp oom;
    GoldenData d;
    AdamW o2(*oom, AdamOptions{});
    TrainOptions to;
    to.batch_size = 4, to.max_steps = 5, to.progress = false, to.save_at_end = false;
    CHECK_THROWS_WITH(Trainer(to).fit(oom, d, o2), Catch::Contains("out of memory on cpu at step 3 (batch_size 4 per rank") &&
                                                       Catch::Contains("lower batch_size") && Catch::Contains("Tried to allocate 2.00 GiB"));
  }

  // A run to resume from.
  REQUIRE(run({probe_path(), "--run", (base / "r").string(), "--steps", "4", "--save-every", "2"}) == 0);
  CheckpointStore store(base / "r");
  const auto dir = *store.latest();
  // Another model: the golden MLP cannot take the probe's checkpoint.
  GoldenMlp other;
  AdamW opt(*other, AdamOptions{});
  GoldenData data;
  TrainOptions o;
  o.run_dir = base / "r";
  o.resume = true;
  o.max_steps = 6;
  o.progress = false;
  CHECK_THROWS_WITH(Trainer(o).fit(other, data, opt), Catch::Contains("model.safetensors") && Catch::Contains("another model"));
  // A damaged model file.
  write_file_atomically(dir / "model.safetensors", std::string("\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ", 24));
  CHECK(run({probe_path(), "--run", (base / "r").string(), "--steps", "6", "--resume"}, &err) == 1);
  CHECK_THAT(err, Catch::Contains("model.safetensors"));
  // Another world size.
  REQUIRE(run({probe_path(), "--run", (base / "w").string(), "--steps", "2", "--save-every", "2"}) == 0);
  auto state = read_json(base / "w" / "checkpoints" / "step-2" / "state.json");
  state["world_size"] = 2;
  write_json(base / "w" / "checkpoints" / "step-2" / "state.json", state);
  CHECK(run({probe_path(), "--run", (base / "w").string(), "--steps", "4", "--resume"}, &err) == 1);
  CHECK_THAT(err, Catch::Contains("written by 2 ranks, this run has 1"));
}
