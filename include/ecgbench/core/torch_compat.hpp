// The differences between LibTorch 1.13 (Debian, CI) and 2.x (users' and the GPU machine's builds),
// in one place behind TORCH_VERSION_*. The only header under core/ that includes LibTorch: torch-free
// code never includes it.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>
#ifdef ECGBENCH_CUDA
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <stdexcept>

namespace ecgbench::compat {

constexpr bool torch_at_least(int major, int minor) {
  return TORCH_VERSION_MAJOR > major || (TORCH_VERSION_MAJOR == major && TORCH_VERSION_MINOR >= minor);
}

/// Automatic mixed precision for one scope (torch.autocast): matmuls and convolutions in `dtype`
/// (bfloat16), reductions and norms in float32. The API gained a device-type argument in 2.4.
class AutocastGuard {
 public:
  AutocastGuard(torch::DeviceType device, torch::ScalarType dtype, bool enabled = true) : device_(device), enabled_(enabled) {
    if (!enabled_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    prev_enabled_ = at::autocast::is_autocast_enabled(device_);
    prev_dtype_ = at::autocast::get_autocast_dtype(device_);
    at::autocast::set_autocast_enabled(device_, true);
    at::autocast::set_autocast_dtype(device_, dtype);
#else
    if (device_ == torch::kCUDA) {
      prev_enabled_ = at::autocast::is_enabled();
      prev_dtype_ = at::autocast::get_autocast_gpu_dtype();
      at::autocast::set_enabled(true);
      at::autocast::set_autocast_gpu_dtype(dtype);
    } else {
      prev_enabled_ = at::autocast::is_cpu_enabled();
      prev_dtype_ = at::autocast::get_autocast_cpu_dtype();
      at::autocast::set_cpu_enabled(true);
      at::autocast::set_autocast_cpu_dtype(dtype);
    }
#endif
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(device_, prev_enabled_);
    at::autocast::set_autocast_dtype(device_, prev_dtype_);
#else
    if (device_ == torch::kCUDA) {
      at::autocast::set_enabled(prev_enabled_);
      at::autocast::set_autocast_gpu_dtype(prev_dtype_);
    } else {
      at::autocast::set_cpu_enabled(prev_enabled_);
      at::autocast::set_autocast_cpu_dtype(prev_dtype_);
    }
#endif
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  torch::DeviceType device_;
  bool enabled_;
  bool prev_enabled_ = false;
  torch::ScalarType prev_dtype_ = torch::kBFloat16;
};

/// Whether at::scaled_dot_product_attention takes what our models pass (the `scale` argument: 2.1).
constexpr bool sdpa_available() { return torch_at_least(2, 1); }

/// Whether SDPA takes fewer key / value heads than query heads itself (`enable_gqa`: 2.5).
constexpr bool sdpa_gqa_available() { return torch_at_least(2, 5); }

/// at::scaled_dot_product_attention on q [B, H, T, D], k and v [B, H / g, S, D]: an additive (or
/// boolean) `mask` broadcastable to [B, H, T, S], or `is_causal` without one. g > 1 (grouped-query
/// attention) needs `enable_gqa` and sdpa_gqa_available(); before 2.5 the caller expands k and v.
inline at::Tensor sdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask, bool is_causal, double scale,
                       bool enable_gqa = false) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  const c10::optional<at::Tensor> m = mask.defined() ? c10::optional<at::Tensor>(mask) : c10::optional<at::Tensor>();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
  return at::scaled_dot_product_attention(q, k, v, m, 0.0, is_causal, scale, enable_gqa);
#else
  if (enable_gqa) throw std::runtime_error("scaled_dot_product_attention takes enable_gqa from LibTorch 2.5; expand k and v");
  return at::scaled_dot_product_attention(q, k, v, m, 0.0, is_causal, scale);
#endif
#else
  (void)q, (void)k, (void)v, (void)mask, (void)is_causal, (void)scale, (void)enable_gqa;
  throw std::runtime_error("scaled_dot_product_attention needs LibTorch >= 2.1");
#endif
}

/// Whether ATen has a fused Adam / AdamW kernel for parameters on `d` (CUDA from 2.1, CPU from 2.4).
inline bool fused_adam_available(const torch::Device& d) {
  return (d.is_cuda() && torch_at_least(2, 1)) || (d.is_cpu() && torch_at_least(2, 4));
}

/// One fused Adam (L2 decay) or AdamW (decoupled decay) step over lists of parameters, gradients,
/// moments and float step counts (already incremented), as torch.optim's `fused=True` calls it.
inline void fused_adam_step(bool decoupled, at::TensorList params, at::TensorList grads, at::TensorList exp_avgs, at::TensorList exp_avg_sqs,
                            at::TensorList steps, double lr, double beta1, double beta2, double weight_decay, double eps) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  const std::vector<at::Tensor> no_max;  // amsgrad off
  if (decoupled)
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, no_max, steps, lr, beta1, beta2, weight_decay, eps, /*amsgrad=*/false, /*maximize=*/false);
  else
    at::_fused_adam_(params, grads, exp_avgs, exp_avg_sqs, no_max, steps, lr, beta1, beta2, weight_decay, eps, /*amsgrad=*/false, /*maximize=*/false);
#else
  (void)decoupled, (void)params, (void)grads, (void)exp_avgs, (void)exp_avg_sqs, (void)steps, (void)lr, (void)beta1, (void)beta2, (void)weight_decay, (void)eps;
  throw std::runtime_error("fused Adam needs LibTorch >= 2.1");
#endif
}

#ifdef ECGBENCH_CUDA
/// A ProcessGroupNCCL over `store` whose collectives time out after `timeout` (Options moved its
/// timeout from ProcessGroup::Options in 1.13 to Backend::Options in 2.x; same field name).
inline auto make_nccl_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world, std::chrono::milliseconds timeout) {
  auto opts = c10d::ProcessGroupNCCL::Options::create();
  opts->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, opts);
}
#endif

}  // namespace ecgbench::compat
