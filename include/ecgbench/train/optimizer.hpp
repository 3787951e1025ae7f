// Adam and AdamW as torch.optim computes them (PyTorch 1.13's single-tensor path, step for step),
// with upstream ECG-Bench's settings as defaults (betas (0.9, 0.99), eps 1e-8, weight decay 0.01),
// parameter groups (no decay on norms and biases where asked), and state that checkpoints can save
// and restore exactly. The decay rule is a policy (ensmallen's AdamType<Update> shape):
// `Adam = AdamType<L2Decay>` adds wd * p to the gradient, `AdamW = AdamType<DecoupledDecay>`
// multiplies p by 1 - lr * wd.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/torch_compat.hpp"

namespace ecgbench::train {

struct ParamGroup {
  std::vector<std::string> names;
  std::vector<torch::Tensor> params;
  double weight_decay = 0.0;
};

/// Trainable parameters (requires_grad) of `module`, in one group, or two when `no_decay_on_norms_and_biases`:
/// 1-D tensors (biases, norm weights) go into a group without weight decay.
inline std::vector<ParamGroup> parameter_groups(const torch::nn::Module& module, double weight_decay, bool no_decay_on_norms_and_biases = false) {
  ParamGroup decay, plain;
  decay.weight_decay = weight_decay;
  for (const auto& p : module.named_parameters(true)) {
    if (!p.value().requires_grad()) continue;
    ParamGroup& g = no_decay_on_norms_and_biases && p.value().dim() <= 1 ? plain : decay;
    g.names.push_back(p.key());
    g.params.push_back(p.value());
  }
  std::vector<ParamGroup> out;
  if (!decay.params.empty()) out.push_back(std::move(decay));
  if (!plain.params.empty()) out.push_back(std::move(plain));
  if (out.empty()) throw Error("the model has no trainable parameters (every parameter is frozen)");
  return out;
}

/// How a step is computed. `plain`: per parameter (torch.optim's single-tensor path); `foreach`: one
/// ATen list op per stage over all parameters of a group (torch.optim's `foreach=True`, the same
/// arithmetic: bit-identical on the CPU, fewer kernel launches on a GPU); `fused`: ATen's
/// `_fused_adam_` / `_fused_adamw_` (one kernel; CUDA from LibTorch 2.1, CPU from 2.4; the same
/// formula with another rounding order); `automatic`: fused on CUDA where available, else foreach.
enum class AdamKernel { automatic, plain, foreach, fused };

inline AdamKernel parse_adam_kernel(const std::string& s) {
  if (s == "auto") return AdamKernel::automatic;
  if (s == "plain") return AdamKernel::plain;
  if (s == "foreach") return AdamKernel::foreach;
  if (s == "fused") return AdamKernel::fused;
  throw Error("unknown optimizer kernel '" + s + "' (auto, plain, foreach, fused)");
}
inline std::string to_string(AdamKernel k) {
  switch (k) {
    case AdamKernel::plain: return "plain";
    case AdamKernel::foreach: return "foreach";
    case AdamKernel::fused: return "fused";
    default: return "auto";
  }
}

struct AdamOptions {
  double lr = 1e-4, beta1 = 0.9, beta2 = 0.99, eps = 1e-8, weight_decay = 0.01;
  AdamKernel kernel = AdamKernel::automatic;
};

struct L2Decay {
  static constexpr const char* name = "adam";
  static constexpr bool decoupled = false;
  /// Adam: weight decay joins the gradient (torch.optim.Adam).
  static torch::Tensor apply(torch::Tensor& p, const torch::Tensor& grad, double lr, double wd) {
    (void)lr;
    return wd != 0 ? grad.add(p, wd) : grad;
  }
};
struct DecoupledDecay {
  static constexpr const char* name = "adamw";
  static constexpr bool decoupled = true;
  /// AdamW: p *= 1 - lr wd before the update (torch.optim.AdamW).
  static torch::Tensor apply(torch::Tensor& p, const torch::Tensor& grad, double lr, double wd) {
    if (wd != 0) p.mul_(1.0 - lr * wd);
    return grad;
  }
};

template <class Decay>
class AdamType {
 public:
  AdamType(std::vector<ParamGroup> groups, AdamOptions o = {}) : groups_(std::move(groups)), o_(o), lr_(o.lr) {
    for (auto& g : groups_)
      for (std::size_t i = 0; i < g.params.size(); ++i) {
        if (g.names.size() != g.params.size()) throw Error("parameter group: names and parameters differ in number");
        if (!state_.emplace(g.names[i], State{}).second) throw Error("parameter '" + g.names[i] + "' is in two groups");
      }
  }
  /// One group of every trainable parameter of `module` with o.weight_decay.
  AdamType(const torch::nn::Module& module, AdamOptions o = {}) : AdamType(parameter_groups(module, o.weight_decay), o) {}

  static constexpr const char* name() { return Decay::name; }
  void set_lr(double lr) { lr_ = lr; }
  [[nodiscard]] double lr() const { return lr_; }
  [[nodiscard]] const AdamOptions& options() const { return o_; }
  [[nodiscard]] std::int64_t steps() const { return step_; }
  [[nodiscard]] const std::vector<ParamGroup>& groups() const { return groups_; }

  void zero_grad() {
    for (auto& g : groups_)
      for (auto& p : g.params)
        if (p.grad().defined()) {
          p.mutable_grad().detach_();
          p.mutable_grad().zero_();
        }
  }

  /// The kernel steps use (`automatic` resolved on the first step, from the parameters' device).
  [[nodiscard]] AdamKernel kernel() const { return kernel_; }

  /// One update with the current rate; parameters without a gradient are skipped (as torch does).
  /// No host synchronisation: every scalar is a host double, every tensor stays on its device.
  void step() {
    torch::NoGradGuard no_grad;
    ++step_;
    const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(step_));
    const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(step_));
    const double step_size = lr_ / bc1, bc2_sqrt = std::sqrt(bc2);
    for (auto& g : groups_) {
      std::vector<torch::Tensor> ps, grads, m, v, steps;
      for (std::size_t i = 0; i < g.params.size(); ++i) {
        torch::Tensor& p = g.params[i];
        if (!p.grad().defined()) continue;
        State& s = state_.at(g.names[i]);
        if (!s.exp_avg.defined()) {
          s.exp_avg = torch::zeros_like(p, torch::MemoryFormat::Preserve);
          s.exp_avg_sq = torch::zeros_like(p, torch::MemoryFormat::Preserve);
        }
        ps.push_back(p), grads.push_back(p.grad()), m.push_back(s.exp_avg), v.push_back(s.exp_avg_sq);
        if (kernel_ == AdamKernel::automatic) kernel_ = resolve(o_.kernel, p.device());
        if (kernel_ == AdamKernel::fused) {
          // The fused kernels read the step count from a float tensor on the device (torch.optim's
          // state["step"]), incremented before the call.
          if (!s.step.defined()) s.step = torch::full({}, static_cast<double>(step_ - 1), torch::TensorOptions().dtype(torch::kFloat32).device(p.device()));
          steps.push_back(s.step);
        }
      }
      if (ps.empty()) continue;
      if (kernel_ == AdamKernel::plain) {
        for (std::size_t i = 0; i < ps.size(); ++i) {
          const torch::Tensor grad = Decay::apply(ps[i], grads[i], lr_, g.weight_decay);
          m[i].mul_(o_.beta1).add_(grad, 1.0 - o_.beta1);
          v[i].mul_(o_.beta2).addcmul_(grad, grad, 1.0 - o_.beta2);
          const torch::Tensor denom = (v[i].sqrt() / bc2_sqrt).add_(o_.eps);
          ps[i].addcdiv_(m[i], denom, -step_size);
        }
      } else if (kernel_ == AdamKernel::foreach) {
        // torch.optim's _multi_tensor_adam(w) (1.13), stage for stage.
        if (g.weight_decay != 0) {
          if constexpr (Decay::decoupled) torch::_foreach_mul_(ps, 1.0 - lr_ * g.weight_decay);
          else grads = torch::_foreach_add(grads, ps, g.weight_decay);
        }
        torch::_foreach_mul_(m, o_.beta1);
        torch::_foreach_add_(m, grads, 1.0 - o_.beta1);
        torch::_foreach_mul_(v, o_.beta2);
        torch::_foreach_addcmul_(v, grads, grads, 1.0 - o_.beta2);
        std::vector<torch::Tensor> denom = torch::_foreach_sqrt(v);
        torch::_foreach_div_(denom, bc2_sqrt);
        torch::_foreach_add_(denom, o_.eps);
        torch::_foreach_addcdiv_(ps, m, denom, -step_size);
      } else {
        torch::_foreach_add_(steps, 1.0);
        compat::fused_adam_step(Decay::decoupled, ps, grads, m, v, steps, lr_, o_.beta1, o_.beta2, g.weight_decay, o_.eps);
      }
    }
  }

  /// Moments by name ("exp_avg/<param>", "exp_avg_sq/<param>") for checkpoints; `steps()` goes beside them.
  [[nodiscard]] std::map<std::string, torch::Tensor> state_tensors() const {
    std::map<std::string, torch::Tensor> out;
    for (const auto& [name, s] : state_)
      if (s.exp_avg.defined()) {
        out["exp_avg/" + name] = s.exp_avg;
        out["exp_avg_sq/" + name] = s.exp_avg_sq;
      }
    return out;
  }
  /// Restores what `state_tensors` saved; every tensor must belong to a parameter of the same shape.
  void load_state(const std::map<std::string, torch::Tensor>& tensors, std::int64_t steps, const std::string& file) {
    std::map<std::string, const torch::Tensor*> params;
    for (const auto& g : groups_)
      for (std::size_t i = 0; i < g.params.size(); ++i) params[g.names[i]] = &g.params[i];
    for (auto& [name, s] : state_) s = State{};
    for (const auto& [key, t] : tensors) {
      const auto slash = key.find('/');
      const std::string kind = key.substr(0, slash), name = slash == std::string::npos ? "" : key.substr(slash + 1);
      auto it = params.find(name);
      if ((kind != "exp_avg" && kind != "exp_avg_sq") || it == params.end())
        throw Error({file, {}, {}, "tensor '" + key + "'"}, "optimizer state of a parameter this model does not train (a checkpoint of another model?)");
      if (t.sizes() != it->second->sizes()) throw Error({file, {}, {}, "tensor '" + key + "'"}, "optimizer state has another shape than its parameter");
      torch::Tensor v = t.to(it->second->device(), it->second->scalar_type()).clone();
      (kind == "exp_avg" ? state_.at(name).exp_avg : state_.at(name).exp_avg_sq) = v;
    }
    for (const auto& [name, s] : state_)
      if (s.exp_avg.defined() != s.exp_avg_sq.defined()) throw Error({file, {}, {}, "parameter '" + name + "'"}, "optimizer state has only one of its two moments");
    step_ = steps;
  }

 private:
  static AdamKernel resolve(AdamKernel k, const torch::Device& d) {
    if (k == AdamKernel::fused && !compat::fused_adam_available(d))
      throw Error(std::string("the fused Adam kernel needs LibTorch >= 2.1 on CUDA or >= 2.4 on the CPU (this build: ") + TORCH_VERSION + ", parameters on " +
                  d.str() + "); choose foreach or plain");
    if (k != AdamKernel::automatic) return k;
    return d.is_cuda() && compat::fused_adam_available(d) ? AdamKernel::fused : AdamKernel::foreach;
  }
  struct State {
    torch::Tensor exp_avg, exp_avg_sq, step;  ///< step: the fused kernels' count (a device tensor)
  };
  std::vector<ParamGroup> groups_;
  AdamOptions o_;
  double lr_;
  std::int64_t step_ = 0;
  AdamKernel kernel_ = AdamKernel::automatic;  // resolved from o_.kernel on the first step
  std::map<std::string, State> state_;
};

using Adam = AdamType<L2Decay>;
using AdamW = AdamType<DecoupledDecay>;

/// What the Trainer needs of an optimizer.
template <class O>
concept Optimizer = requires(O o, double lr, const std::map<std::string, torch::Tensor>& st, std::int64_t n, const std::string& f) {
  o.set_lr(lr);
  o.step();
  o.zero_grad();
  { o.steps() } -> std::convertible_to<std::int64_t>;
  { o.state_tensors() } -> std::convertible_to<std::map<std::string, torch::Tensor>>;
  o.load_state(st, n, f);
  { o.groups() } -> std::convertible_to<const std::vector<ParamGroup>&>;
};
static_assert(Optimizer<Adam> && Optimizer<AdamW>);

}  // namespace ecgbench::train
