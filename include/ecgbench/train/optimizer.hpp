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

struct AdamOptions {
  double lr = 1e-4, beta1 = 0.9, beta2 = 0.99, eps = 1e-8, weight_decay = 0.01;
};

struct L2Decay {
  static constexpr const char* name = "adam";
  /// Adam: weight decay joins the gradient (torch.optim.Adam).
  static torch::Tensor apply(torch::Tensor& p, const torch::Tensor& grad, double lr, double wd) {
    (void)lr;
    return wd != 0 ? grad.add(p, wd) : grad;
  }
};
struct DecoupledDecay {
  static constexpr const char* name = "adamw";
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

  /// One update with the current rate; parameters without a gradient are skipped (as torch does).
  void step() {
    torch::NoGradGuard no_grad;
    ++step_;
    const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(step_));
    const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(step_));
    const double step_size = lr_ / bc1, bc2_sqrt = std::sqrt(bc2);
    for (auto& g : groups_)
      for (std::size_t i = 0; i < g.params.size(); ++i) {
        torch::Tensor& p = g.params[i];
        if (!p.grad().defined()) continue;
        State& s = state_.at(g.names[i]);
        if (!s.exp_avg.defined()) {
          s.exp_avg = torch::zeros_like(p, torch::MemoryFormat::Preserve);
          s.exp_avg_sq = torch::zeros_like(p, torch::MemoryFormat::Preserve);
        }
        const torch::Tensor grad = Decay::apply(p, p.grad(), lr_, g.weight_decay);
        s.exp_avg.mul_(o_.beta1).add_(grad, 1.0 - o_.beta1);
        s.exp_avg_sq.mul_(o_.beta2).addcmul_(grad, grad, 1.0 - o_.beta2);
        const torch::Tensor denom = (s.exp_avg_sq.sqrt() / bc2_sqrt).add_(o_.eps);
        p.addcdiv_(s.exp_avg, denom, -step_size);
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
  struct State {
    torch::Tensor exp_avg, exp_avg_sq;
  };
  std::vector<ParamGroup> groups_;
  AdamOptions o_;
  double lr_;
  std::int64_t step_ = 0;
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
