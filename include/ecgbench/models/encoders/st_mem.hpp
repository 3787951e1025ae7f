// ST-MEM (Na et al., ICLR 2024) as upstream ECG-Bench runs it (elms/ecg_encoder/st_mem.py): per-lead
// patches with a learnable SEP token at both ends of each lead and a lead embedding, random masking
// per lead, a ViT encoder over all leads' tokens, and lead-wise decoding with shared blocks.
// Parameter names are upstream's (`encoder.block0.attn.fn.to_qkv.weight`, `encoder.lead_embeddings.3`,
// `decoder_blocks.0.ff.fn.net.0.weight`, ...).
#pragma once

#include <torch/torch.h>

#include "ecgbench/models/encoders/masked_autoencoder.hpp"

namespace ecgbench::models::encoders {

/// The ST-MEM ViT (`ST_MEM_ViT`): the `encoder.` part of the checkpoint.
class StMemVitImpl : public torch::nn::Module {
 public:
  explicit StMemVitImpl(const MaeOptions& o) : o_(o) {
    const auto w = o.embed_dim, n = o.num_patches();
    to_patch_embedding = register_module("to_patch_embedding", patch_embedding(o.patch_size, w, 1e-5));
    pos_embedding = register_parameter("pos_embedding", sincos_position_table(w, n, true, false), false);
    sep_embedding = register_parameter("sep_embedding", torch::randn({w}) * 0.02);
    lead_embeddings = register_module("lead_embeddings", ParameterRows(o.num_leads, w));
    VitBlockOptions b;
    b.dim = w, b.hidden = w * o.mlp_ratio, b.heads = o.num_heads, b.dim_head = o.dim_head, b.qkv_bias = o.qkv_bias;
    for (std::int64_t i = 0; i < o.depth; ++i) {
      b.drop_path = o.depth > 1 ? o.drop_path_rate * static_cast<double>(i) / static_cast<double>(o.depth - 1) : 0.0;
      blocks.push_back(register_module("block" + std::to_string(i), TransformerBlock(b)));
    }
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({w}).eps(o.encoder_norm_eps)));
  }
  /// [B, C, L] -> [B, C, n, W]
  torch::Tensor embed_patches(const torch::Tensor& series) {
    const auto b = series.size(0), c = series.size(1);
    return to_patch_embedding->forward(series.reshape({b, c, o_.num_patches(), o_.patch_size}));
  }
  /// Adds SEP tokens (with their position rows) at both ends of each lead and the lead embeddings:
  /// [B, C, k, W] -> [B, C (k + 2), W].
  torch::Tensor add_lead_tokens(const torch::Tensor& x) {
    const auto b = x.size(0), c = x.size(1), k = x.size(2), w = x.size(3);
    const torch::Tensor sep = sep_embedding.view({1, 1, 1, w}).expand({b, c, 1, w});
    const torch::Tensor left = sep + pos_embedding.narrow(1, 0, 1).unsqueeze(1);
    const torch::Tensor right = sep + pos_embedding.narrow(1, pos_embedding.size(1) - 1, 1).unsqueeze(1);
    torch::Tensor t = torch::cat({left, x, right}, 2);
    t = t + lead_embeddings->stacked().narrow(0, 0, c).view({1, c, 1, w});
    return t.reshape({b, c * (k + 2), w});
  }
  torch::Tensor run_blocks(torch::Tensor x) {
    for (auto& blk : blocks) x = blk->forward(x);
    return x;
  }
  /// Upstream's `forward_encoding`: no masking, mean over leads and patches (SEP removed), norm -> [B, W].
  torch::Tensor forward_encoding(const torch::Tensor& series) {
    const auto b = series.size(0), c = series.size(1), n = o_.num_patches();
    torch::Tensor x = embed_patches(series) + pos_embedding.narrow(1, 1, n).unsqueeze(1);
    x = run_blocks(add_lead_tokens(x));
    x = x.view({b, c, n + 2, -1}).narrow(2, 1, n);
    return norm->forward(x.mean({1, 2}));
  }

  torch::nn::Sequential to_patch_embedding{nullptr};
  torch::Tensor pos_embedding, sep_embedding;
  ParameterRows lead_embeddings{nullptr};
  std::vector<TransformerBlock> blocks;
  torch::nn::LayerNorm norm{nullptr};

 private:
  MaeOptions o_;
};
TORCH_MODULE(StMemVit);

/// ST-MEM masked autoencoder. `forward(series)` is the pretraining pass (loss on masked patches);
/// `embed(series, k)` gives the stage-2 embeddings [B, k, 256].
class StMemImpl : public MaskedAutoencoderBase {
 public:
  explicit StMemImpl(MaeOptions o) : MaskedAutoencoderBase(std::move(o)) {
    if (o_.kind != MaeKind::st_mem) throw Error("StMem needs ST-MEM options (kind st_mem)");
    encoder = register_module("encoder", StMemVit(o_));
    register_decoder();
    init_mae_weights(*this);
  }

  /// `noise` [B, C, n] replaces the RNG draw (parity with upstream's torch.rand).
  MaeOutput forward(const torch::Tensor& series_in, double mask_ratio, const torch::Tensor& noise = {}) {
    check_series(series_in);
    const torch::Tensor series = series_in.to(to_decoder_embedding->weight.scalar_type());
    const auto b = series.size(0), c = series.size(1), n = o_.num_patches();
    MaeOutput out;
    // Encoder: patches + positions, masking per lead, SEP + lead embeddings, blocks, norm.
    torch::Tensor x = encoder->embed_patches(series) + encoder->pos_embedding.narrow(1, 1, n).unsqueeze(1);
    if (mask_ratio > 0) {
      auto m = random_masking(x, mask_ratio, noise_or_draw(noise, {b, c, n}, series.device()), 2);
      x = m.kept, out.mask = m.mask, out.ids_restore = m.ids_restore;
    } else {
      out.mask = torch::zeros({b, c, n}, x.options());
      out.ids_restore = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(x.device())).view({1, 1, n}).expand({b, c, n}).contiguous();
    }
    const auto k = x.size(2);
    out.encoder_out = encoder->norm->forward(encoder->run_blocks(encoder->add_lead_tokens(x)));
    // Decoder: mask tokens unshuffled in place of the removed patches, positions, lead-wise blocks.
    torch::Tensor y = to_decoder_embedding->forward(out.encoder_out);
    const auto d = y.size(-1);
    y = y.view({b, c, k + 2, d});
    const torch::Tensor masks = mask_embedding.view({1, 1, 1, d}).expand({b, c, n - k, d});
    torch::Tensor body = torch::cat({y.narrow(2, 1, k), masks}, 2);
    body = torch::gather(body, 2, out.ids_restore.unsqueeze(-1).expand({b, c, n, d}));
    body = body + decoder_pos_embed.narrow(1, 1, n).unsqueeze(1);
    const torch::Tensor left = y.narrow(2, 0, 1) + decoder_pos_embed.narrow(1, 0, 1).unsqueeze(1);
    const torch::Tensor right = y.narrow(2, k + 1, 1) + decoder_pos_embed.narrow(1, decoder_pos_embed.size(1) - 1, 1).unsqueeze(1);
    y = torch::cat({left, body, right}, 2);
    // Lead-wise decoding with shared blocks: each lead attends only to its own tokens, so the leads
    // run as one batch of B * C sequences.
    torch::Tensor lat = run_decoder_blocks(y.reshape({b * c, n + 2, d}));
    out.latents = lat.view({b, c, n + 2, d});
    out.pred = decoder_head->forward(decoder_norm->forward(lat)).view({b, c, n + 2, -1}).narrow(2, 1, n);
    out.loss = masked_patch_mse(out.pred, series_in.reshape({b, c, n, o_.patch_size}), out.mask, o_.norm_pix_loss);
    return out;
  }
  /// The pretraining objective with the configured mask ratio.
  torch::Tensor pretrain_loss(const torch::Tensor& series) { return forward(series, o_.mask_ratio).loss; }

  /// Stage-2 embeddings (upstream's `ST_MEM_Ours.get_encoder_embeddings`): decoder latents averaged
  /// over leads, then adaptive average pooling over the n + 2 tokens to k -> [B, k, 256]. Unmasked
  /// by default; `EmbedMode::upstream_masked` masks with the configured ratio (stochastic).
  torch::Tensor embed(const torch::Tensor& series, std::int64_t k = 1, const torch::Tensor& noise = {}) {
    const double ratio = embed_mode == EmbedMode::upstream_masked ? o_.mask_ratio : 0.0;
    const torch::Tensor lat = forward(series, ratio, noise).latents;  // [B, C, n + 2, D]
    return torch::adaptive_avg_pool1d(lat.mean(1).transpose(1, 2), k).transpose(1, 2);
  }
  /// The classification path (`encoder.forward_encoding`) -> [B, width].
  torch::Tensor vit_encoding(const torch::Tensor& series) {
    check_series(series);
    return encoder->forward_encoding(series.to(to_decoder_embedding->weight.scalar_type()));
  }

  StMemVit encoder{nullptr};
};
TORCH_MODULE(StMem);
static_assert(EcgEncoder<StMem>, "StMem must satisfy EcgEncoder");

}  // namespace ecgbench::models::encoders
