// MTAE and MLAE as upstream ECG-Bench runs them (elms/ecg_encoder/{mtae,mlae}.py): a ViT with a CLS
// token over temporal patches across all leads (MTAE, "b c (n p) -> b n (p c)") or over lead
// groups spanning the whole record (MLAE, "b (n p) t -> b n (p t)", one token per lead), random
// masking of tokens, and a plain MAE decoder. Parameter names are upstream's.
#pragma once

#include <torch/torch.h>

#include "ecgbench/models/encoders/masked_autoencoder.hpp"

namespace ecgbench::models::encoders {

/// Rearranges [B, C, L] into tokens [B, n, patch_dim] the way each kind does.
inline torch::Tensor patchify(const torch::Tensor& series, const MaeOptions& o) {
  const auto b = series.size(0);
  if (o.kind == MaeKind::mlae) return series.reshape({b, o.num_patches(), o.patch_size * o.seq_len});
  // "b c (n p) -> b n (p c)"
  return series.reshape({b, o.num_leads, o.num_patches(), o.patch_size}).permute({0, 2, 3, 1}).reshape({b, o.num_patches(), o.patch_size * o.num_leads});
}

/// The ViT with a CLS token (upstream's `ViT` / `MLAE_ViT`): the `encoder.` part of the checkpoint.
class ClsVitImpl : public torch::nn::Module {
 public:
  explicit ClsVitImpl(const MaeOptions& o) : o_(o) {
    const auto w = o.embed_dim, n = o.num_patches();
    to_patch_embedding = register_module("to_patch_embedding", patch_embedding(o.patch_dim(), w, 1e-5));
    pos_embedding = register_parameter("pos_embedding", sincos_position_table(w, n, false, true), false);
    cls_embedding = register_parameter("cls_embedding", torch::randn({w}) * 0.02);
    VitBlockOptions b;
    b.dim = w, b.hidden = w * o.mlp_ratio, b.heads = o.num_heads, b.dim_head = o.dim_head, b.qkv_bias = o.qkv_bias;
    for (std::int64_t i = 0; i < o.depth; ++i) {
      b.drop_path = o.depth > 1 ? o.drop_path_rate * static_cast<double>(i) / static_cast<double>(o.depth - 1) : 0.0;
      blocks.push_back(register_module("block" + std::to_string(i), TransformerBlock(b)));
    }
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({w}).eps(o.encoder_norm_eps)));
  }
  torch::Tensor run_blocks(torch::Tensor x) {
    for (auto& blk : blocks) x = blk->forward(x);
    return x;
  }
  /// Upstream's `forward_encoding`: CLS + all patches, blocks, norm of the CLS token -> [B, W].
  torch::Tensor forward_encoding(const torch::Tensor& series) {
    torch::Tensor x = to_patch_embedding->forward(patchify(series, o_));
    const auto b = x.size(0), n = x.size(1), w = x.size(2);
    x = torch::cat({cls_embedding.view({1, 1, w}).expand({b, 1, w}), x}, 1) + pos_embedding.narrow(1, 0, n + 1);
    x = run_blocks(x);
    return norm->forward(x.select(1, 0));
  }

  torch::nn::Sequential to_patch_embedding{nullptr};
  torch::Tensor pos_embedding, cls_embedding;
  std::vector<TransformerBlock> blocks;
  torch::nn::LayerNorm norm{nullptr};

 private:
  MaeOptions o_;
};
TORCH_MODULE(ClsVit);

/// MTAE (kind mtae) or MLAE (kind mlae) masked autoencoder.
class MtaeImpl : public MaskedAutoencoderBase {
 public:
  explicit MtaeImpl(MaeOptions o) : MaskedAutoencoderBase(std::move(o)) {
    if (o_.kind == MaeKind::st_mem) throw Error("Mtae needs MTAE or MLAE options");
    encoder = register_module("encoder", ClsVit(o_));
    register_decoder();
    init_mae_weights(*this);
  }

  /// `noise` [B, n] replaces the RNG draw.
  MaeOutput forward(const torch::Tensor& series_in, double mask_ratio, const torch::Tensor& noise = {}) {
    check_series(series_in);
    const torch::Tensor series = series_in.to(to_decoder_embedding->weight.scalar_type());
    const auto b = series.size(0), n = o_.num_patches();
    MaeOutput out;
    torch::Tensor x = encoder->to_patch_embedding->forward(patchify(series, o_));
    const auto w = x.size(2);
    x = x + encoder->pos_embedding.narrow(1, 1, n);
    if (mask_ratio > 0) {
      auto m = random_masking(x, mask_ratio, noise_or_draw(noise, {b, n}, series.device()), 1);
      x = m.kept, out.mask = m.mask, out.ids_restore = m.ids_restore;
    } else {
      out.mask = torch::zeros({b, n}, x.options());
      out.ids_restore = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(x.device())).view({1, n}).expand({b, n}).contiguous();
    }
    const auto k = x.size(1);
    const torch::Tensor cls = encoder->cls_embedding.view({1, 1, w}).expand({b, 1, w}) + encoder->pos_embedding.narrow(1, 0, 1);
    out.encoder_out = encoder->norm->forward(encoder->run_blocks(torch::cat({cls, x}, 1)));
    torch::Tensor y = to_decoder_embedding->forward(out.encoder_out);
    const auto d = y.size(-1);
    const torch::Tensor masks = mask_embedding.expand({b, n - k, d});
    torch::Tensor body = torch::cat({y.narrow(1, 1, k), masks}, 1);
    body = torch::gather(body, 1, out.ids_restore.unsqueeze(-1).expand({b, n, d}));
    y = torch::cat({y.narrow(1, 0, 1), body}, 1) + decoder_pos_embed.narrow(1, 0, n + 1);
    out.latents = run_decoder_blocks(y);
    out.pred = decoder_head->forward(decoder_norm->forward(out.latents)).narrow(1, 1, n);
    out.loss = masked_patch_mse(out.pred, patchify(series_in, o_), out.mask, o_.norm_pix_loss);
    return out;
  }
  torch::Tensor pretrain_loss(const torch::Tensor& series) { return forward(series, o_.mask_ratio).loss; }

  /// Stage-2 embeddings (upstream's `MTAE_Ours` / `MLAE_Ours.get_encoder_embeddings`): the decoder
  /// latents (CLS included) pooled to k tokens -> [B, k, 256].
  torch::Tensor embed(const torch::Tensor& series, std::int64_t k = 1, const torch::Tensor& noise = {}) {
    const double ratio = embed_mode == EmbedMode::upstream_masked ? o_.mask_ratio : 0.0;
    const torch::Tensor lat = forward(series, ratio, noise).latents;  // [B, n + 1, D]
    return torch::adaptive_avg_pool1d(lat.transpose(1, 2), k).transpose(1, 2);
  }
  torch::Tensor vit_encoding(const torch::Tensor& series) {
    check_series(series);
    return encoder->forward_encoding(series.to(to_decoder_embedding->weight.scalar_type()));
  }

  ClsVit encoder{nullptr};
};
TORCH_MODULE(Mtae);
static_assert(EcgEncoder<Mtae>, "Mtae must satisfy EcgEncoder");

/// MLAE is MTAE's code with lead tokens (options kind mlae, patch_size 1).
using Mlae = Mtae;

}  // namespace ecgbench::models::encoders
