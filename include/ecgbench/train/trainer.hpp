// The training engine every paradigm and encoder pretraining goes through, in ensmallen's manner:
// `Trainer(options).fit(model, data, optimizer, callbacks...)`. The optimizer and callbacks are
// arguments; callback hooks are found with `requires` (on_step, on_eval, on_epoch_end,
// on_checkpoint). Exact and resumable: deterministic data order from (seed, epoch), RNG states and
// the data position in every checkpoint, bit-identical parameters after a resume on CPU.
// Data-parallel with c10d (see distributed.hpp): each rank takes its shard, gradients are summed
// over ranks and divided by the global token count.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <future>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/core/log.hpp"
#include "ecgbench/core/progress.hpp"
#include "ecgbench/core/torch_compat.hpp"
#include "ecgbench/train/checkpoint.hpp"
#include "ecgbench/train/device_stage.hpp"
#include "ecgbench/train/distributed.hpp"
#include "ecgbench/train/optimizer.hpp"
#include "ecgbench/train/sampler.hpp"
#include "ecgbench/train/schedule.hpp"
#include "ecgbench/train/trainable.hpp"

namespace ecgbench::train {

struct TrainOptions {
  std::int64_t epochs = 1;
  std::int64_t max_steps = 0;  ///< optimizer steps; 0 = all epochs
  std::size_t batch_size = 2;  ///< per rank and micro-batch
  std::int64_t grad_accum = 1;
  double clip_norm = 1.0;      ///< <= 0: no clipping (upstream's stage 1)
  std::int64_t save_every = 0; ///< optimizer steps between checkpoints; 0 = only at the end
  std::size_t keep = 3;        ///< checkpoints kept; 0 = all
  std::int64_t log_every = 10;
  std::int64_t eval_every = 0;  ///< steps between held-out evaluations; 0 = at each epoch's end
  std::uint64_t seed = 0;
  bool shuffle = true, drop_last = false;
  std::filesystem::path run_dir;  ///< checkpoints and metrics.jsonl; empty = none
  bool resume = false;            ///< continue from run_dir's latest checkpoint when there is one
  Schedule schedule = Schedule::constant(1e-4);
  bool bf16_autocast = false;
  torch::Device device = torch::kCPU;
  /// On CUDA, batches that can be staged (StageableBatch: the ELM's) are pinned and copied to the
  /// device on a side stream by the loader thread, overlapping the previous step. Off: the model
  /// copies each batch itself at the start of its step.
  bool stage_batches = true;
  bool progress = true;
  bool save_at_end = true;
};

/// What callbacks receive after each optimizer step.
struct StepInfo {
  std::int64_t step = 0, epoch = 0;
  double loss = 0, lr = 0, grad_norm = 0;
  std::int64_t tokens = 0, samples = 0;
  double seconds = 0, tokens_per_second = 0, samples_per_second = 0;
  double data_seconds = 0, forward_seconds = 0, backward_seconds = 0, optimizer_seconds = 0;
  /// false on a CUDA device between log steps: loss and grad_norm were not read back (NaN), so the
  /// step ran without a host synchronisation; a non-finite loss is still caught, at the next read.
  bool synced = true;
};

struct EvalInfo {
  std::int64_t step = 0, epoch = 0;
  double loss = 0;
  std::int64_t tokens = 0;
};

struct TrainResult {
  std::int64_t steps = 0, epochs = 0;
  double last_loss = NAN, seconds = 0;
  std::vector<double> eval_losses;
  std::optional<std::filesystem::path> last_checkpoint;
  bool resumed = false;
};

/// Thrown when the loss stops being finite (names the step).
class NonFiniteLoss : public Error {
 public:
  using Error::Error;
};

class Trainer {
 public:
  explicit Trainer(TrainOptions o, Distributed dist = {}) : o_(std::move(o)), dist_(std::move(dist)) {
    if (o_.grad_accum < 1) throw Error("grad_accum must be at least 1");
    if (o_.epochs < 1 && o_.max_steps <= 0) throw Error("give epochs >= 1 or max_steps > 0");
    if (o_.resume && o_.run_dir.empty()) throw Error("resume needs a run folder");
  }
  [[nodiscard]] const TrainOptions& options() const { return o_; }
  [[nodiscard]] const Distributed& distributed() const { return dist_; }

  template <class Model, TrainData Data, Optimizer Opt, class... Callbacks>
    requires Trainable<Model, BatchOf<Data>>
  TrainResult fit(Model& model, Data& data, Opt& opt, Callbacks&&... cbs) {
    return run(model, data, static_cast<Data*>(nullptr), opt, cbs...);
  }
  /// With a held-out set: its loss every `eval_every` steps (or each epoch) and at the end.
  template <class Model, TrainData Data, TrainData Held, Optimizer Opt, class... Callbacks>
    requires Trainable<Model, BatchOf<Data>> && Trainable<Model, BatchOf<Held>>
  TrainResult fit(Model& model, Data& data, Held& held_out, Opt& opt, Callbacks&&... cbs) {
    return run(model, data, &held_out, opt, cbs...);
  }

  /// Mean loss of `model` over all of `data` (token-weighted, summed over ranks), in eval mode.
  template <class Model, TrainData Data>
  EvalInfo evaluate(Model& model, Data& data) {
    torch::NoGradGuard g;
    model->eval();
    DistributedSampler s({data.size(), o_.batch_size, static_cast<std::size_t>(dist_.rank), static_cast<std::size_t>(dist_.world), o_.seed, false, false});
    torch::Tensor acc = torch::zeros({2}, torch::kFloat64);
    for (const auto& idx : s.batches(0)) {
      const auto b = data.batch(std::span<const std::size_t>(idx));
      compat::AutocastGuard ac(o_.device.type(), torch::kBFloat16, o_.bf16_autocast);
      const LossOutput out = model->loss(b);
      acc[0] += out.loss.detach().to(torch::kCPU).to(torch::kFloat64) * static_cast<double>(out.count);
      acc[1] += static_cast<double>(out.count);
    }
    dist_.all_reduce_sum(acc);
    model->train();
    EvalInfo e;
    e.tokens = static_cast<std::int64_t>(acc[1].item<double>());
    e.loss = e.tokens > 0 ? acc[0].item<double>() / acc[1].item<double>() : NAN;
    return e;
  }

 private:
  template <class Model, class Data, class Held, class Opt, class... Callbacks>
  TrainResult run(Model& model, Data& data, Held* held, Opt& opt, Callbacks&... cbs) {
    namespace fs = std::filesystem;
    using Clock = std::chrono::steady_clock;
    const auto t_start = Clock::now();
    TrainResult result;
    DistributedSampler sampler({data.size(), o_.batch_size, static_cast<std::size_t>(dist_.rank), static_cast<std::size_t>(dist_.world), o_.seed, o_.shuffle,
                                o_.drop_last});
    const std::int64_t per_epoch = static_cast<std::int64_t>(sampler.batches_per_epoch());
    if (per_epoch == 0) throw Error("training data has fewer items than one batch (drop_last)");
    const std::int64_t steps_per_epoch = (per_epoch + o_.grad_accum - 1) / o_.grad_accum;
    const std::int64_t total_steps = o_.max_steps > 0 ? (o_.epochs > 0 ? std::min(o_.max_steps, steps_per_epoch * o_.epochs) : o_.max_steps)
                                                      : steps_per_epoch * o_.epochs;
    const std::int64_t epochs = o_.max_steps > 0 ? (o_.max_steps + steps_per_epoch - 1) / steps_per_epoch : o_.epochs;

    // Start or resume.
    TrainState st;
    st.world_size = dist_.world;
    st.seed = o_.seed;
    CheckpointStore store(o_.run_dir);
    if (!o_.run_dir.empty() && dist_.is_main()) store.clean_temporaries();
    dist_.barrier();
    if (o_.resume) {
      if (auto dir = store.latest()) {
        st = load_checkpoint(*dir, model, opt);
        result.resumed = true;
        if (dist_.is_main() && o_.progress) log::info("resuming from " + dir->string() + " (step " + std::to_string(st.step) + ")");
      }
    }
    if (!result.resumed) broadcast_parameters(model);
    // The optimizer's parameters in the model's registration order (clip_grad_norm_'s summation
    // order over model.parameters(), and the reducer's buckets).
    std::vector<torch::Tensor> params;
    {
      std::set<const void*> trained;
      for (const auto& g : opt.groups())
        for (const auto& p : g.params) trained.insert(p.unsafeGetTensorImpl());
      for (const auto& p : model->parameters())
        if (trained.count(p.unsafeGetTensorImpl())) params.push_back(p);
      if (params.size() != trained.size()) throw Error("the optimizer holds parameters that are not the model's");
    }
    GradientReducer reducer(dist_, params);
    model->train();

    std::optional<Progress> progress;
    if (dist_.is_main() && o_.progress) progress.emplace("train", static_cast<std::size_t>(total_steps), "steps");
    if (progress && st.step > 0) progress->tick(static_cast<std::size_t>(st.step));
    std::FILE* metrics = nullptr;
    if (!o_.run_dir.empty() && dist_.is_main()) {
      fs::create_directories(o_.run_dir);
      metrics = std::fopen((o_.run_dir / "metrics.jsonl").c_str(), result.resumed ? "a" : "w");
      if (!metrics) throw Error({(o_.run_dir / "metrics.jsonl").string(), {}, {}, {}}, "cannot open for writing");
    }
    struct Closer {
      std::FILE*& f;
      ~Closer() {
        if (f) std::fclose(f);
      }
    } closer{metrics};

    auto save = [&](const TrainState& s) {
      std::optional<fs::path> where;
      if (o_.run_dir.empty()) return where;
      if (dist_.is_main()) where = save_checkpoint(store, s, model, opt);
      dist_.barrier();
      if (where) {
        auto notify = [&](auto& cb) {
          if constexpr (requires { cb.on_checkpoint(*where); }) cb.on_checkpoint(*where);
        };
        (notify(cbs), ...);
        (void)notify;
      }
      return where;
    };
    auto held_eval = [&](std::int64_t step, std::int64_t epoch) {
      if (!held) return;
      EvalInfo e = evaluate(model, *held);
      e.step = step, e.epoch = epoch;
      result.eval_losses.push_back(e.loss);
      if (metrics) {
        std::fprintf(metrics, "%s\n", Json{{"step", step}, {"epoch", epoch}, {"eval_loss", e.loss}, {"eval_tokens", e.tokens}}.dump().c_str());
        std::fflush(metrics);
      }
      auto call = [&](auto& cb) {
        if constexpr (requires { cb.on_eval(e); }) cb.on_eval(e);
      };
      (call(cbs), ...);
      (void)call;
    };

    std::optional<DeviceStager<BatchOf<Data>>> stager;
    if constexpr (StageableBatch<BatchOf<Data>>)
      if (o_.stage_batches && o_.device.is_cuda()) stager.emplace(o_.device);
    bool done = st.step >= total_steps;
    torch::Tensor first_bad = torch::full({}, std::int64_t{-1}, torch::TensorOptions().dtype(torch::kLong).device(o_.device));
    for (std::int64_t epoch = st.epoch; epoch < epochs && !done; ++epoch) {
      const auto batches = sampler.batches(static_cast<std::uint64_t>(epoch));
      std::int64_t pos = epoch == st.epoch ? st.batch_in_epoch : 0;
      // One batch ahead on a worker thread (on CUDA also copied to the device there: device_stage.hpp).
      using Batch = BatchOf<Data>;
      auto load = [&](std::int64_t i) {
        Batch host = data.batch(std::span<const std::size_t>(batches[static_cast<std::size_t>(i)]));
        if constexpr (StageableBatch<Batch>)
          if (stager) return stager->stage(host);
        return StagedBatch<Batch>{std::move(host), nullptr};
      };
      std::future<StagedBatch<Batch>> next;
      if (pos < per_epoch) next = std::async(std::launch::async, load, pos);
      while (pos < per_epoch && !done) {
        const auto t0 = Clock::now();
        StepInfo info;
        info.step = st.step;
        info.epoch = epoch;
        const std::int64_t micro = std::min<std::int64_t>(o_.grad_accum, per_epoch - pos);
        opt.zero_grad();
        // On a GPU the step stays on the device: loss, token count and gradient norm are read back
        // only at log, checkpoint and final steps (the CPU reads them every step: nothing to wait for).
        const std::int64_t next_step = st.step + 1;
        const bool read_now = !o_.device.is_cuda() || o_.log_every <= 1 || next_step % o_.log_every == 0 || next_step >= total_steps ||
                              (o_.save_every > 0 && next_step % o_.save_every == 0) || (held && o_.eval_every > 0 && next_step % o_.eval_every == 0);
        torch::Tensor loss_acc;
        double count_local = 0;
        for (std::int64_t m = 0; m < micro; ++m) {
          const auto td = Clock::now();
          Batch batch = [&] {
            if constexpr (StageableBatch<Batch>)
              if (stager) return stager->receive(next.get());
            return next.get().batch;
          }();
          info.samples += static_cast<std::int64_t>(batches[static_cast<std::size_t>(pos)].size());
          ++pos;
          if (pos < per_epoch) next = std::async(std::launch::async, load, pos);
          const auto tf = Clock::now();
          info.data_seconds += std::chrono::duration<double>(tf - td).count();
          LossOutput out;
          const auto tb = [&] {
            try {
              {
                compat::AutocastGuard ac(o_.device.type(), torch::kBFloat16, o_.bf16_autocast);
                out = model->loss(batch);
              }
              const auto forward_done = Clock::now();
              info.forward_seconds += std::chrono::duration<double>(forward_done - tf).count();
              if (m == micro - 1) reducer.arm();
              (out.loss.to(torch::kFloat32) * static_cast<double>(out.count)).backward();  // sum form: divided by the global count below
              return forward_done;
            } catch (const c10::Error& e) {
              // Out of memory names what to change, never falls back to another device.
              if (std::string(e.what()).find("out of memory") == std::string::npos) throw;
              // The batch's token length where the batch type has one (the ELM's); ATen's message
              // after ours gives the memory (what was asked for, capacity, in use).
              std::string length;
              if constexpr (requires { batch.input_ids.size(1); })
                if (batch.input_ids.defined()) length = ", " + std::to_string(batch.input_ids.size(1)) + " tokens per row";
              throw Error("out of memory on " + o_.device.str() + " at step " + std::to_string(next_step) + " (batch_size " + std::to_string(o_.batch_size) +
                          " per rank" + length + ", micro-batch " + std::to_string(m + 1) + " of " + std::to_string(micro) + " (grad_accum " +
                          std::to_string(o_.grad_accum) + ")): lower batch_size or the sequence length (llm_input_len), raise grad_accum, or use precision bf16-autocast. " +
                          e.what_without_backtrace());
            }
          }();
          info.backward_seconds += std::chrono::duration<double>(Clock::now() - tb).count();
          const torch::Tensor part = out.loss.detach().to(torch::kFloat64) * static_cast<double>(out.count);
          loss_acc = loss_acc.defined() ? loss_acc + part : part;
          count_local += static_cast<double>(out.count);
        }
        const auto to = Clock::now();
        reducer.finish();
        torch::Tensor totals = torch::stack({loss_acc, torch::full({}, count_local, loss_acc.options())});
        dist_.all_reduce_sum(totals);
        torch::Tensor grad_norm;
        {
          torch::NoGradGuard g;
          const torch::Tensor count = totals[1].clamp_min(1.0);
          for (auto& p : params)
            if (p.grad().defined()) p.mutable_grad().div_(count.to(p.grad().scalar_type()));
          grad_norm = clip_gradients(params, o_.clip_norm);
        }
        // The first step whose loss was not finite, kept on the device until the next read.
        const torch::Tensor here = torch::logical_not(torch::isfinite(totals[0])) & (first_bad < 0);
        first_bad = torch::where(here, torch::full({}, next_step, first_bad.options().device(here.device())), first_bad.to(here.device()));
        info.tokens = static_cast<std::int64_t>(count_local) * dist_.world;  // exact after a read
        info.loss = info.grad_norm = NAN;
        info.synced = read_now;
        if (read_now) {
          const torch::Tensor host = torch::stack({totals[0] / totals[1], totals[1], grad_norm.to(torch::kFloat64).to(totals.device()),
                                                   first_bad.to(torch::kFloat64)})
                                         .to(torch::kCPU);
          const auto* h = host.data_ptr<double>();
          info.loss = h[1] > 0 ? h[0] : NAN;
          info.tokens = static_cast<std::int64_t>(h[1]);
          info.grad_norm = h[2];
          if (h[3] >= 0 || !std::isfinite(info.loss)) {
            const auto bad = h[3] >= 0 ? static_cast<std::int64_t>(h[3]) : next_step;
            throw NonFiniteLoss("training loss is not finite at step " + std::to_string(bad) + " (epoch " + std::to_string(epoch) + ")" +
                                (bad == next_step ? ": " + std::to_string(info.loss) : std::string()) + "; lower the learning rate or check the data");
          }
        }
        info.lr = o_.schedule.lr(st.step);
        opt.set_lr(info.lr);
        opt.step();
        info.optimizer_seconds = std::chrono::duration<double>(Clock::now() - to).count();
        ++st.step;
        st.epoch = epoch;
        st.batch_in_epoch = pos;
        info.step = st.step;
        info.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        info.tokens_per_second = info.seconds > 0 ? static_cast<double>(info.tokens) / info.seconds : 0;
        info.samples_per_second = info.seconds > 0 ? static_cast<double>(info.samples * dist_.world) / info.seconds : 0;
        result.last_loss = info.loss;
        if (metrics && (o_.log_every <= 1 || st.step % o_.log_every == 0 || st.step == total_steps)) {
          std::fprintf(metrics, "%s\n",
                       Json{{"step", st.step}, {"epoch", epoch}, {"loss", info.loss}, {"lr", info.lr}, {"grad_norm", info.grad_norm},
                            {"tokens", info.tokens}, {"tokens_per_s", info.tokens_per_second}, {"samples_per_s", info.samples_per_second},
                            {"seconds", info.seconds}}
                           .dump()
                           .c_str());
          std::fflush(metrics);
        }
        if (progress) progress->tick();
        auto call = [&](auto& cb) {
          if constexpr (requires { cb.on_step(info); }) cb.on_step(info);
        };
        (call(cbs), ...);
        (void)call;
        done = st.step >= total_steps;
        if (pos >= per_epoch) {  // the epoch is over: the next position is the start of the next one
          st.epoch = epoch + 1;
          st.batch_in_epoch = 0;
        }
        if (o_.save_every > 0 && st.step % o_.save_every == 0 && !(done && o_.save_at_end)) result.last_checkpoint = save(st);
        if (held && o_.eval_every > 0 && st.step % o_.eval_every == 0) held_eval(st.step, epoch);
      }
      if (next.valid()) next.wait();
      if (pos >= per_epoch) {
        if (held && o_.eval_every == 0) held_eval(st.step, epoch);
        auto call = [&](auto& cb) {
          if constexpr (requires { cb.on_epoch_end(epoch); }) cb.on_epoch_end(epoch);
        };
        (call(cbs), ...);
        (void)call;
      }
    }
    if (o_.save_at_end && st.step > 0) result.last_checkpoint = save(st);
    if (progress) progress->finish();
    result.steps = st.step;
    result.epochs = st.epoch;
    result.seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
    return result;
  }

  /// torch.nn.utils.clip_grad_norm_ (PyTorch 1.13): total = ||(||g_i||)_i||, g *= min(1, max / (total + 1e-6)).
  /// Returns the total norm before clipping (computed even when clipping is off, for the logs), on
  /// the gradients' device: reading it is the caller's choice.
  static torch::Tensor clip_gradients(std::vector<torch::Tensor>& params, double max_norm) {
    // torch.norm(g, 2.0) in PyTorch 1.13 reduces over an explicit list of every dimension
    // (_VF.norm(g, p, dim=[0..n-1])), a different summation order than norm() without dims.
    auto norm2 = [](const torch::Tensor& t) {
      std::vector<std::int64_t> dims(static_cast<std::size_t>(t.dim()));
      std::iota(dims.begin(), dims.end(), std::int64_t{0});
      return t.norm(2, dims, false);
    };
    std::vector<torch::Tensor> norms;
    for (auto& p : params)
      if (p.grad().defined()) norms.push_back(norm2(p.grad().detach()));
    if (norms.empty()) return torch::zeros({}, torch::kFloat64);
    const torch::Tensor total = norm2(torch::stack(norms));
    if (max_norm > 0) {
      const torch::Tensor coef = torch::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0);
      for (auto& p : params)
        if (p.grad().defined()) p.mutable_grad().mul_(coef.to(p.grad().device()));
    }
    return total;
  }

  template <class Model>
  void broadcast_parameters(Model& model) {
    if (!dist_.active()) return;
    torch::NoGradGuard g;
    std::vector<torch::Tensor> ts;
    for (auto& p : model->parameters()) ts.push_back(p.data());
    for (auto& b : model->buffers()) ts.push_back(b);
    dist_.broadcast(ts, 0);
  }

  template <class Model, class Opt>
  std::filesystem::path save_checkpoint(CheckpointStore& store, TrainState st, Model& model, Opt& opt) {
    st.optimizer = Opt::name();
    st.optimizer_steps = opt.steps();
    st.schedule = o_.schedule.to_json();
    st.rng = Json{{"torch_cpu", torch_rng_state()}};
    if constexpr (requires { model->rng_state(); }) st.rng["model"] = model->rng_state();
    if constexpr (requires { model->fingerprint(); }) st.extra["fingerprint"] = model->fingerprint();
    return store.save(st.step, o_.keep, [&](const std::filesystem::path& dir) {
      if constexpr (HasOwnCheckpoint<Model>) model->save_trainable(dir);
      else save_tensors(dir / "model.safetensors", trainable_state(*model));
      save_tensors(dir / "optimizer.safetensors", opt.state_tensors());
      write_json(dir / "state.json", st.to_json());
    });
  }

  template <class Model, class Opt>
  TrainState load_checkpoint(const std::filesystem::path& dir, Model& model, Opt& opt) {
    const auto state_file = (dir / "state.json").string();
    TrainState st = TrainState::from_json(read_json(dir / "state.json"), state_file);
    if (st.world_size != dist_.world)
      throw Error({state_file, {}, {}, "world_size"}, "the checkpoint was written by " + std::to_string(st.world_size) + " ranks, this run has " + std::to_string(dist_.world) +
                                                          " (the data order and optimizer state depend on it; resume with the same world size)");
    if (st.optimizer != Opt::name()) throw Error({state_file, {}, {}, "optimizer"}, "the checkpoint's optimizer is " + st.optimizer + ", this run uses " + Opt::name());
    if constexpr (requires { model->fingerprint(); }) {
      const std::string mine = model->fingerprint();
      const std::string theirs = st.extra.value("fingerprint", std::string());
      if (!theirs.empty() && theirs != mine) throw Error({state_file, {}, {}, "extra.fingerprint"}, "checkpoint of another composition: '" + theirs + "', this model is '" + mine + "'");
    }
    if constexpr (HasOwnCheckpoint<Model>) model->load_trainable(dir);
    else restore_trainable_state(*model, dir / "model.safetensors");
    opt.load_state(load_tensors(dir / "optimizer.safetensors"), st.optimizer_steps, (dir / "optimizer.safetensors").string());
    if (st.rng.contains("torch_cpu")) set_torch_rng_state(json_get<std::string>(st.rng, "torch_cpu", state_file, "rng"), state_file);
    if constexpr (requires { model->set_rng_state(st.rng["model"]); })
      if (st.rng.contains("model")) model->set_rng_state(st.rng["model"]);
    return st;
  }

  TrainOptions o_;
  Distributed dist_;
};

}  // namespace ecgbench::train
