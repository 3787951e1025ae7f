// Data-parallel training on torch.distributed's c10d (the engine people already run at scale):
// ProcessGroupGloo on CPU (Debian's libgloo) and ProcessGroupNCCL in CUDA builds. Ranks come from
// torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), so torchrun- and
// SLURM-style launchers start our binaries unchanged; `ecgbench-launch` does it on one machine.
// `GradientReducer` sums gradients across ranks in buckets; a bucket's all-reduce starts from the
// autograd hooks as soon as its last gradient is ready, overlapping the rest of the backward pass,
// and buckets are launched in a fixed order so every rank issues the same collectives.
#pragma once

#if !defined(USE_C10D_GLOO)
#error "ecgbench/train needs LibTorch's distributed Gloo backend: link the Torch CMake target (it defines USE_DISTRIBUTED and USE_C10D_GLOO)"
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>
#ifdef ECGBENCH_CUDA
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/torch_compat.hpp"

namespace ecgbench::train {

#if TORCH_VERSION_MAJOR >= 2
using CommBackend = c10d::Backend;
#else
using CommBackend = c10d::ProcessGroup;
#endif

/// One process's place in a data-parallel job (world 1 = not distributed).
struct Distributed {
  int rank = 0, world = 1, local_rank = 0;
  c10::intrusive_ptr<CommBackend> group;
  c10::intrusive_ptr<c10d::Store> store;

  [[nodiscard]] bool active() const { return static_cast<bool>(group); }
  [[nodiscard]] bool is_main() const { return rank == 0; }

  /// Sums `t` in place over all ranks (blocking).
  void all_reduce_sum(torch::Tensor& t) const {
    if (!active()) return;
    std::vector<torch::Tensor> v{t};
    group->allreduce(v)->wait();
  }
  void broadcast(std::vector<torch::Tensor>& tensors, int root = 0) const {
    if (!active() || tensors.empty()) return;
    c10d::BroadcastOptions o;
    o.rootRank = root;
    for (auto& t : tensors) {
      std::vector<torch::Tensor> one{t};
      group->broadcast(one, o)->wait();
    }
  }
  /// Every rank's copy of `t` (same shape on every rank), in rank order.
  [[nodiscard]] std::vector<torch::Tensor> all_gather(const torch::Tensor& t) const {
    if (!active()) return {t};
    std::vector<std::vector<torch::Tensor>> out(1);
    for (int r = 0; r < world; ++r) out[0].push_back(torch::empty_like(t));
    std::vector<torch::Tensor> in{t.contiguous()};
    group->allgather(out, in)->wait();
    return out[0];
  }
  void barrier() const {
    if (!active()) return;
    // A tiny all-reduce instead of c10d's barrier (whose Gloo form needs no tensors but differs across versions).
    torch::Tensor one = torch::ones({1});
    all_reduce_sum(one);
  }
};

namespace detail {
inline int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end || x < 0 || x > 1'000'000) throw Error(std::string("environment variable ") + name + "='" + v + "' is not a non-negative integer");
  return static_cast<int>(x);
}
}  // namespace detail

/// Reads torchrun's variables; a missing WORLD_SIZE (or 1) gives a single-process context.
/// `backend`: "gloo" (CPU) or "nccl" (CUDA builds). `timeout` bounds every collective, so a rank
/// that died cannot hang the others forever.
inline Distributed init_distributed(const std::string& backend = "gloo", std::chrono::milliseconds timeout = std::chrono::seconds(300),
                                    bool group_at_world_one = false) {
  Distributed d;
  d.world = detail::env_int("WORLD_SIZE", 1);
  d.rank = detail::env_int("RANK", 0);
  d.local_rank = detail::env_int("LOCAL_RANK", d.rank);
  if (backend != "gloo" && backend != "nccl") throw Error("unknown distributed backend '" + backend + "' (gloo, nccl)");
  if (d.world <= 1 && !group_at_world_one) return d;  // one process: no group (group_at_world_one: checks of the collectives)
  if (d.rank >= d.world) throw Error("RANK " + std::to_string(d.rank) + " is outside WORLD_SIZE " + std::to_string(d.world));
  const char* addr = std::getenv("MASTER_ADDR");
  const std::string host = addr && *addr ? addr : "127.0.0.1";
  const int port = detail::env_int("MASTER_PORT", 29500);
  if (port <= 0 || port > 65535) throw Error("MASTER_PORT must be a TCP port");
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(port);
  so.isServer = d.rank == 0;
  so.numWorkers = static_cast<std::size_t>(d.world);
  so.timeout = timeout;
  try {
    d.store = c10::make_intrusive<c10d::TCPStore>(host, so);
  } catch (const std::exception& e) {
    throw Error("rank " + std::to_string(d.rank) + ": cannot reach the rendezvous at " + host + ":" + std::to_string(port) + ": " + e.what());
  }
  if (backend == "gloo") {
    auto opts = c10d::ProcessGroupGloo::Options::create();
    opts->timeout = timeout;
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    if (ifname && *ifname) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (host == "127.0.0.1" || host == "localhost") opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    d.group = c10::make_intrusive<c10d::ProcessGroupGloo>(d.store, d.rank, d.world, opts);
  } else {  // nccl (the backend name is checked above)
#ifdef ECGBENCH_CUDA
    try {
      d.group = compat::make_nccl_group(d.store, d.rank, d.world, timeout);
    } catch (const std::exception& e) {
      throw Error("rank " + std::to_string(d.rank) + ": NCCL initialisation failed (timeout " + std::to_string(timeout.count() / 1000) + " s): " + e.what());
    }
#else
    throw Error("the nccl backend needs a CUDA build (-DECGBENCH_CUDA=ON)");
#endif
  }
  return d;
}

/// Sums the gradients of `params` over all ranks in buckets of about `bucket_bytes`. Call `arm()`
/// before the backward pass whose gradients should be reduced (the last micro-batch of an
/// accumulation), then `finish()` after it: each parameter's gradient then holds the sum over
/// ranks of its local accumulated gradient.
class GradientReducer {
 public:
  GradientReducer(const Distributed& dist, std::vector<torch::Tensor> params, std::size_t bucket_bytes = 25u << 20) : dist_(dist), params_(std::move(params)) {
    // Buckets in reverse registration order (roughly the order gradients become ready), one dtype each.
    std::vector<std::size_t> current;
    std::size_t bytes = 0;
    auto close = [&] {
      if (current.empty()) return;
      Bucket b;
      b.members = current;
      buckets_.push_back(std::move(b));
      current.clear();
      bytes = 0;
    };
    for (std::size_t i = params_.size(); i-- > 0;) {
      const auto& p = params_[i];
      const std::size_t sz = static_cast<std::size_t>(p.numel() * p.element_size());
      if (!current.empty() && (bytes + sz > bucket_bytes || params_[current.front()].scalar_type() != p.scalar_type())) close();
      current.push_back(i);
      bytes += sz;
    }
    close();
    bucket_of_.assign(params_.size(), 0);
    for (std::size_t b = 0; b < buckets_.size(); ++b)
      for (auto i : buckets_[b].members) bucket_of_[i] = b;
    local_.resize(params_.size());
  }
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;
  ~GradientReducer() { disarm(); }

  [[nodiscard]] std::size_t bucket_count() const { return buckets_.size(); }

  void arm() {
    if (!dist_.active()) return;
    disarm();
    for (auto& b : buckets_) b.ready = 0, b.work.reset(), b.flat = torch::Tensor();
    next_launch_ = 0;
    for (auto& l : local_) l = torch::Tensor();
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (!params_[i].requires_grad()) continue;
      hooks_.emplace_back(i, params_[i].register_hook([this, i](torch::Tensor grad) {
        on_grad(i, grad);
        return grad;
      }));
    }
  }

  /// Waits for every bucket and writes the summed gradients into `.grad`.
  void finish() {
    if (!dist_.active()) return;
    {
      std::lock_guard lock(mutex_);
      // Parameters that took no part in this backward pass contribute their accumulated (or zero) gradient.
      for (std::size_t i = 0; i < params_.size(); ++i)
        if (!local_[i].defined()) {
          local_[i] = params_[i].grad().defined() ? params_[i].grad().detach().clone() : torch::zeros_like(params_[i]);
          ++buckets_[bucket_of_[i]].ready;
        }
      launch_ready();
    }
    disarm();
    torch::NoGradGuard g;
    for (auto& b : buckets_) {
      b.work->wait();
      std::int64_t off = 0;
      for (auto i : b.members) {
        auto& p = params_[i];
        const auto n = p.numel();
        torch::Tensor reduced = b.flat.narrow(0, off, n).view(p.sizes());
        if (p.grad().defined()) p.mutable_grad().copy_(reduced);
        else p.mutable_grad() = reduced.clone();
        off += n;
      }
      b.flat = torch::Tensor();
    }
    for (auto& l : local_) l = torch::Tensor();
  }

 private:
  struct Bucket {
    std::vector<std::size_t> members;
    std::size_t ready = 0;
    torch::Tensor flat;
    c10::intrusive_ptr<c10d::Work> work;
  };

  void on_grad(std::size_t i, const torch::Tensor& grad) {
    std::lock_guard lock(mutex_);
    if (local_[i].defined()) {  // a parameter used twice in the graph: its hook fires per use
      local_[i] = local_[i] + grad.detach();
      return;
    }
    const torch::Tensor acc = params_[i].grad();
    local_[i] = acc.defined() ? acc.detach() + grad.detach() : grad.detach().clone();
    ++buckets_[bucket_of_[i]].ready;
    launch_ready();
  }
  void launch_ready() {
    while (next_launch_ < buckets_.size() && buckets_[next_launch_].ready == buckets_[next_launch_].members.size()) {
      Bucket& b = buckets_[next_launch_];
      std::vector<torch::Tensor> parts;
      for (auto i : b.members) parts.push_back(local_[i].reshape({-1}));
      b.flat = torch::cat(parts);
      std::vector<torch::Tensor> v{b.flat};
      b.work = dist_.group->allreduce(v);
      ++next_launch_;
    }
  }
  void disarm() {
    for (auto& [i, h] : hooks_) params_[i].remove_hook(h);
    hooks_.clear();
  }

  const Distributed& dist_;
  std::vector<torch::Tensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_;
  std::vector<torch::Tensor> local_;
  std::vector<std::pair<std::size_t, unsigned>> hooks_;
  std::size_t next_launch_ = 0;
  std::mutex mutex_;
};

}  // namespace ecgbench::train
