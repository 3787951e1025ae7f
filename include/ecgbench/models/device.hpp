// Where a model runs and in which precision, chosen by name ("cpu", "cuda", "cuda:1"; "fp32",
// "bf16-autocast", "bf16") with clear refusals instead of a silent CPU fallback: a CUDA device in a
// LibTorch without CUDA, a device index beyond the machine's, bf16 where the build cannot do it.
#pragma once

#include <torch/torch.h>

#include <string>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/torch_compat.hpp"

namespace ecgbench::models {

/// The device `name` names, checked against this build and machine.
inline torch::Device parse_device(const std::string& name) {
  torch::Device d = torch::kCPU;
  try {
    d = torch::Device(name);
  } catch (const std::exception&) {
    throw Error("unknown device '" + name + "' (cpu, cuda, cuda:N)");
  }
  if (d.is_cpu()) return d;
  if (!d.is_cuda()) throw Error("device '" + name + "' is not supported (cpu, cuda, cuda:N)");
  if (!torch::cuda::is_available())
    throw Error("device '" + name + "': this LibTorch build (" + std::string(TORCH_VERSION) +
                ") has no CUDA or sees no GPU; build against a CUDA LibTorch (-DECGBENCH_CUDA=ON -DTorch_DIR=...) or use cpu");
  const auto n = static_cast<int>(torch::cuda::device_count());
  if (d.has_index() && d.index() >= n) throw Error("device '" + name + "': this machine has " + std::to_string(n) + " GPU(s)");
  if (!d.has_index()) d = torch::Device(torch::kCUDA, 0);
  return d;
}

/// fp32: float32 throughout. bf16_autocast: float32 weights (and optimizer state), matmuls and
/// convolutions in bfloat16 under torch.autocast, as upstream's mixed-precision runs. bf16: the
/// weights themselves in bfloat16 (inference; training so is fragile and says so in the README).
enum class Precision { fp32, bf16_autocast, bf16 };

inline Precision parse_precision(const std::string& s) {
  if (s == "fp32") return Precision::fp32;
  if (s == "bf16-autocast") return Precision::bf16_autocast;
  if (s == "bf16") return Precision::bf16;
  throw Error("unknown precision '" + s + "' (fp32, bf16-autocast, bf16)");
}
inline std::string to_string(Precision p) {
  switch (p) {
    case Precision::bf16_autocast: return "bf16-autocast";
    case Precision::bf16: return "bf16";
    default: return "fp32";
  }
}

/// Refuses a bf16 precision the device cannot run: CPU autocast to bf16 needs LibTorch >= 1.10
/// (always here); a CUDA device needs compute capability >= 8 (Ampere), asked of the driver by
/// LibTorch itself when a bf16 op runs, so we probe with one tiny matmul and name the device.
inline void check_precision(Precision p, const torch::Device& d) {
  if (p == Precision::fp32 || d.is_cpu()) return;
  try {
    const auto x = torch::ones({2, 2}, torch::TensorOptions().device(d).dtype(torch::kBFloat16));
    (void)torch::matmul(x, x);
  } catch (const std::exception& e) {
    throw Error("precision " + to_string(p) + " is not supported on " + d.str() + ": " + e.what());
  }
}

/// Device and precision of a run, parsed and checked together (the apps' --device / --precision).
struct Placement {
  torch::Device device = torch::kCPU;
  Precision precision = Precision::fp32;
};
inline Placement parse_placement(const std::string& device, const std::string& precision) {
  Placement p{parse_device(device), parse_precision(precision)};
  check_precision(p.precision, p.device);
  return p;
}

/// Moves `module` to `d`; with bf16 its floating-point parameters and buffers become bfloat16
/// (integer buffers such as BatchNorm's step count stay as they are, unlike Module::to(dtype)).
inline void place(torch::nn::Module& module, const torch::Device& d, Precision p) {
  module.to(d);
  if (p != Precision::bf16) return;
  torch::NoGradGuard g;
  for (auto& t : module.parameters(true))
    if (t.is_floating_point()) t.set_data(t.to(torch::kBFloat16));
  for (auto& t : module.buffers(true))
    if (t.is_floating_point()) t.set_data(t.to(torch::kBFloat16));
}

/// torch.autocast for a scope when the precision asks for it (inactive otherwise).
class PrecisionScope {
 public:
  PrecisionScope(Precision p, const torch::Device& d) : guard_(d.type(), torch::kBFloat16, p == Precision::bf16_autocast) {}

 private:
  compat::AutocastGuard guard_;
};

}  // namespace ecgbench::models
