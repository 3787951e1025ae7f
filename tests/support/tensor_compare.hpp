// Model outputs against references over the valid (mask = 1) positions of [B, T, ...] tensors,
// shared by the model tests and the GPU check (tests/gpu, which builds with LibTorch only).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <stdexcept>

namespace ecgbench::test {

/// `mask` [B, T] (undefined: every position) as booleans broadcast to `like`'s shape, on the CPU.
inline torch::Tensor valid_positions(const torch::Tensor& mask, const torch::Tensor& like) {
  if (!mask.defined()) return torch::ones(like.sizes(), torch::kBool);
  torch::Tensor m = mask.to(torch::kCPU).to(torch::kBool);
  while (m.dim() < like.dim()) m = m.unsqueeze(-1);
  return m.expand(like.sizes());
}

/// ||got - want|| / ||want|| over valid positions (element-wise ratios explode near zero). where(),
/// not a product: NaN in an ignored padding row stays out.
inline double relative_error(const torch::Tensor& got, const torch::Tensor& want, const torch::Tensor& mask = {}) {
  if (got.sizes() != want.sizes()) throw std::invalid_argument("relative_error: shapes differ");
  const torch::Tensor m = valid_positions(mask, want), zero = torch::zeros({}, torch::kFloat64);
  const torch::Tensor g = torch::where(m, got.to(torch::kCPU, torch::kFloat64), zero), w = torch::where(m, want.to(torch::kCPU, torch::kFloat64), zero);
  return ((g - w).norm() / w.norm()).item<double>();
}

/// Valid elements with |got - want| > atol + rtol |want| (compared in float32 on the CPU).
inline std::int64_t count_outside(const torch::Tensor& got, const torch::Tensor& want, const torch::Tensor& mask, double atol, double rtol) {
  const torch::Tensor g = got.to(torch::kCPU, torch::kFloat32), w = want.to(torch::kCPU, torch::kFloat32);
  const torch::Tensor bad = (g - w).abs() > (atol + rtol * w.abs());
  return (bad & valid_positions(mask, bad)).sum().item<std::int64_t>();
}

}  // namespace ecgbench::test
