// MAE random masking as upstream's ST-MEM / MTAE / MLAE do it: per sample (and per lead for ST-MEM)
// argsort uniform noise, keep the lowest int(n (1 - ratio)), mask = 1 on removed tokens. The noise
// comes from our seeded RNG (portable, checkpointable) or is given explicitly, which is how parity
// with upstream's torch.rand draws is tested.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/random.hpp"

namespace ecgbench::models::encoders {

/// What a masked autoencoder's forward pass computes (upstream's names).
struct MaeOutput {
  torch::Tensor loss;         ///< masked-patch MSE (scalar)
  torch::Tensor pred;         ///< reconstruction head output without SEP / CLS
  torch::Tensor mask;         ///< 1 = removed token
  torch::Tensor ids_restore;  ///< int64
  torch::Tensor encoder_out;  ///< encoder output after its norm (kept tokens + SEP / CLS)
  torch::Tensor latents;      ///< decoder output before decoder_norm
};

/// How stage-2 embeddings are computed. Upstream (quirk 12) runs the full MAE forward with 75 %
/// random masking even at inference, so embeddings are stochastic; ours are unmasked by default.
enum class EmbedMode { unmasked, upstream_masked };

/// Uniform [0, 1) noise of `shape` from `rng` (float32 on `device`).
inline torch::Tensor uniform_noise(Rng& rng, const std::vector<std::int64_t>& shape, torch::Device device) {
  torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(torch::kFloat32));
  float* p = t.data_ptr<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(uniform01(rng));
  return t.to(device);
}

struct Masked {
  torch::Tensor kept, mask, ids_restore;
};

/// Masks tokens along dimension `dim` of x ([..., n, D]); `noise` has x's shape without the last dim.
inline Masked random_masking(const torch::Tensor& x, double ratio, const torch::Tensor& noise, std::int64_t dim) {
  const auto n = x.size(dim);
  auto expected = x.sizes().vec();
  expected.pop_back();
  if (noise.sizes().vec() != expected) {
    std::string want = "[";
    for (std::size_t i = 0; i < expected.size(); ++i) want += (i ? ", " : "") + std::to_string(expected[i]);
    throw Error("masking noise must have shape " + want + "]");
  }
  const auto len_keep = static_cast<std::int64_t>(static_cast<double>(n) * (1.0 - ratio));
  const torch::Tensor ids_shuffle = torch::argsort(noise.to(x.device()), dim);
  const torch::Tensor ids_restore = torch::argsort(ids_shuffle, dim);
  const torch::Tensor ids_keep = ids_shuffle.narrow(dim, 0, len_keep);
  auto idx_shape = ids_keep.sizes().vec();
  idx_shape.push_back(x.size(-1));
  const torch::Tensor kept = torch::gather(x, dim, ids_keep.unsqueeze(-1).expand(idx_shape));
  torch::Tensor mask = torch::ones(noise.sizes(), x.options());
  mask.narrow(dim, 0, len_keep).zero_();
  mask = torch::gather(mask, dim, ids_restore);
  return {kept, mask, ids_restore};
}

/// Masked-patch MSE: mean over the patch values, then over removed patches only (upstream's
/// `forward_loss`; with `norm_pix` the target is standardised per patch, unbiased variance).
inline torch::Tensor masked_patch_mse(const torch::Tensor& pred, torch::Tensor target, const torch::Tensor& mask, bool norm_pix) {
  if (norm_pix) {
    const auto mean = target.mean(-1, true);
    const auto var = (target - mean).pow(2).sum(-1, true) / static_cast<double>(target.size(-1) - 1);  // unbiased, as torch.var
    target = (target - mean) / torch::sqrt(var + 1e-6);
  }
  const torch::Tensor per_patch = (pred - target).pow(2).mean(-1);
  return (per_patch * mask).sum() / mask.sum();
}

}  // namespace ecgbench::models::encoders
