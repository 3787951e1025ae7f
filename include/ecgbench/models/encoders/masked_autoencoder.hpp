// What ST-MEM, MTAE and MLAE share (upstream's MAE classes): the decoder parts with upstream's
// top-level names (`to_decoder_embedding`, `mask_embedding`, `decoder_pos_embed`, `decoder_blocks`,
// `decoder_norm`, `decoder_head`), the masking RNG, the stage-2 embedding rule and loading of
// upstream state dicts. Subclasses register `encoder` first, as upstream does.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "ecgbench/core/random.hpp"
#include "ecgbench/models/concepts/ecg_encoder.hpp"
#include "ecgbench/models/config/ecg_encoder_options.hpp"
#include "ecgbench/models/encoders/masking.hpp"
#include "ecgbench/models/encoders/vit_block.hpp"

namespace ecgbench::models::encoders {

class MaskedAutoencoderBase : public torch::nn::Module {
 public:
  static constexpr EncoderInput input = EncoderInput::signal;

  [[nodiscard]] const MaeOptions& options() const { return o_; }
  /// Width of the stage-2 embeddings: the decoder width (256 for every upstream size).
  [[nodiscard]] std::int64_t embedding_dim() const { return o_.decoder_embed_dim; }
  /// The RNG masking noise is drawn from (seed it for reproducible pretraining).
  Rng& rng() { return rng_; }
  void seed(std::uint64_t s) { rng_ = make_rng(s, 0x4d41453a /* "MAE:" */); }
  /// Serialised RNG state (for checkpoints) and its restore.
  [[nodiscard]] std::string rng_state() const {
    std::ostringstream o;
    o << rng_;
    return o.str();
  }
  void set_rng_state(const std::string& s) {
    std::istringstream i(s);
    i >> rng_;
    if (!i) throw Error("invalid masking RNG state");
  }
  EmbedMode embed_mode = EmbedMode::unmasked;

  /// Names in upstream state dicts that are aliases of our parameters (the top-level
  /// `to_patch_embedding.*`, which upstream shares with `encoder.to_patch_embedding`).
  [[nodiscard]] static bool is_alias(const std::string& name) { return name.rfind("to_patch_embedding.", 0) == 0; }

 protected:
  explicit MaskedAutoencoderBase(MaeOptions o) : o_(std::move(o)) { o_.validate(); }

  /// Registers the decoder after the encoder (parameter order as upstream).
  void register_decoder() {
    const auto d = o_.decoder_embed_dim;
    to_decoder_embedding = register_module("to_decoder_embedding", torch::nn::Linear(o_.embed_dim, d));
    mask_embedding = register_parameter("mask_embedding", torch::randn({1, 1, d}) * 0.02);  // N(0, 0.02) as upstream
    decoder_pos_embed = register_parameter("decoder_pos_embed", sincos_position_table(d, o_.num_patches(), o_.kind == MaeKind::st_mem, o_.kind != MaeKind::st_mem), false);
    decoder_blocks = register_module("decoder_blocks", torch::nn::ModuleList());
    VitBlockOptions b;
    b.dim = d, b.hidden = d * o_.mlp_ratio, b.heads = o_.decoder_num_heads, b.dim_head = o_.decoder_dim_head, b.qkv_bias = o_.qkv_bias;
    for (std::int64_t i = 0; i < o_.decoder_depth; ++i) decoder_blocks->push_back(TransformerBlock(b));
    decoder_norm = register_module("decoder_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(o_.decoder_norm_eps)));
    decoder_head = register_module("decoder_head", torch::nn::Linear(d, o_.patch_dim()));
  }
  torch::Tensor run_decoder_blocks(torch::Tensor x) {
    for (const auto& blk : *decoder_blocks) x = blk->as<TransformerBlockImpl>()->forward(x);
    return x;
  }
  torch::Tensor noise_or_draw(const torch::Tensor& noise, const std::vector<std::int64_t>& shape, torch::Device device) {
    return noise.defined() ? noise : uniform_noise(rng_, shape, device);
  }
  void check_series(const torch::Tensor& s) const {
    if (s.dim() != 3 || s.size(1) != o_.num_leads || s.size(2) != o_.seq_len)
      throw Error(std::string(mae_kind_name(o_.kind)) + ": series must be [batch, " + std::to_string(o_.num_leads) + ", " + std::to_string(o_.seq_len) +
                  "], got " + shape_str(s));
    if (!s.is_floating_point()) throw Error(std::string(mae_kind_name(o_.kind)) + ": series must be a floating-point tensor");
  }
  static std::string shape_str(const torch::Tensor& t) {
    std::string r = "[";
    for (std::int64_t i = 0; i < t.dim(); ++i) r += (i ? ", " : "") + std::to_string(t.size(i));
    return r + "]";
  }

 public:
  torch::nn::Linear to_decoder_embedding{nullptr};
  torch::Tensor mask_embedding, decoder_pos_embed;
  torch::nn::ModuleList decoder_blocks{nullptr};
  torch::nn::LayerNorm decoder_norm{nullptr};
  torch::nn::Linear decoder_head{nullptr};

 protected:
  MaeOptions o_;
  Rng rng_ = make_rng(0, 0x4d41453a);
};

/// Token patch embedding of upstream: Rearrange (index 0, no parameters), LayerNorm(patch), Linear,
/// LayerNorm(width), so the parameters are named `to_patch_embedding.1/2/3`.
inline torch::nn::Sequential patch_embedding(std::int64_t patch_dim, std::int64_t width, double eps) {
  return torch::nn::Sequential(torch::nn::Identity(), torch::nn::LayerNorm(torch::nn::LayerNormOptions({patch_dim}).eps(eps)),
                               torch::nn::Linear(patch_dim, width), torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(eps)));
}

}  // namespace ecgbench::models::encoders
