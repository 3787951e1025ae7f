// General image encoders from Hugging Face checkpoints, the towers upstream uses for plotted ECGs:
// ViT (ViTModel), CLIP's vision tower (CLIPVisionModel) and SigLIP's (SiglipVisionModel), with the
// parameter names of transformers so that checkpoints (also full CLIP/SigLIP files) load 1:1.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "ecgbench/models/hf/checkpoint.hpp"
#include "ecgbench/models/config/vision_options.hpp"
#include "ecgbench/models/nn/layers.hpp"
#include "ecgbench/models/nn/query_attention.hpp"

namespace ecgbench::models {

struct EncoderOutput {
  torch::Tensor last_hidden_state;  ///< [B, N, H]
  torch::Tensor pooler_output;      ///< [B, H]
  std::vector<torch::Tensor> hidden_states;
};

/// The image-encoder policy concept (`encode` takes pixel values [B, C, H, W], already normalised).
template <class M>
concept VisionEncoder = requires(M m, const torch::Tensor& pixels) {
  { m->encode(pixels, false) } -> std::same_as<EncoderOutput>;
  { m->hidden_size() } -> std::convertible_to<std::int64_t>;
};


inline void check_pixels(const torch::Tensor& p, const VisionOptions& o) {
  if (p.dim() != 4 || p.size(1) != o.num_channels || p.size(2) != o.image_size || p.size(3) != o.image_size)
    throw Error("pixel_values must be [batch, " + std::to_string(o.num_channels) + ", " + std::to_string(o.image_size) + ", " +
                std::to_string(o.image_size) + "]");
}

inline torch::Tensor split_heads(const torch::Tensor& x, std::int64_t heads) {
  return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}
inline torch::Tensor merge_heads(const torch::Tensor& x) {
  return x.transpose(1, 2).reshape({x.size(0), x.size(2), x.size(1) * x.size(3)});
}

// ------------------------------------------------------------------------------------------- ViT
class VitSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit VitSelfAttentionImpl(const VisionOptions& o) : heads_(o.num_heads) {
    query = register_module("query", AdaptableLinear(o.hidden_size, o.hidden_size, o.qkv_bias));
    key = register_module("key", AdaptableLinear(o.hidden_size, o.hidden_size, o.qkv_bias));
    value = register_module("value", AdaptableLinear(o.hidden_size, o.hidden_size, o.qkv_bias));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const double scale = 1.0 / std::sqrt(static_cast<double>(x.size(2) / heads_));
    return merge_heads(attend(split_heads(query->forward(x), heads_), split_heads(key->forward(x), heads_), split_heads(value->forward(x), heads_),
                              torch::Tensor(), scale));
  }
  AdaptableLinear query{nullptr}, key{nullptr}, value{nullptr};

 private:
  std::int64_t heads_;
};
TORCH_MODULE(VitSelfAttention);

class DenseImpl : public torch::nn::Module {  // a module holding one `dense` linear (HF's *Output / *Intermediate)
 public:
  DenseImpl(std::int64_t in, std::int64_t out) { dense = register_module("dense", AdaptableLinear(in, out, true)); }
  AdaptableLinear dense{nullptr};
};
TORCH_MODULE(Dense);

class VitAttentionImpl : public torch::nn::Module {
 public:
  explicit VitAttentionImpl(const VisionOptions& o) {
    attention = register_module("attention", VitSelfAttention(o));
    output = register_module("output", Dense(o.hidden_size, o.hidden_size));
  }
  VitSelfAttention attention{nullptr};
  Dense output{nullptr};
};
TORCH_MODULE(VitAttention);

class VitLayerImpl : public torch::nn::Module {
 public:
  explicit VitLayerImpl(const VisionOptions& o) : act_(o.hidden_act) {
    attention = register_module("attention", VitAttention(o));
    intermediate = register_module("intermediate", Dense(o.hidden_size, o.intermediate_size));
    output = register_module("output", Dense(o.intermediate_size, o.hidden_size));
    layernorm_before = register_module("layernorm_before", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size}).eps(o.layer_norm_eps)));
    layernorm_after = register_module("layernorm_after", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size}).eps(o.layer_norm_eps)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const torch::Tensor h = x + attention->output->dense->forward(attention->attention->forward(layernorm_before->forward(x)));
    return h + output->dense->forward(activation(act_, intermediate->dense->forward(layernorm_after->forward(h))));
  }
  VitAttention attention{nullptr};
  Dense intermediate{nullptr}, output{nullptr};
  torch::nn::LayerNorm layernorm_before{nullptr}, layernorm_after{nullptr};

 private:
  std::string act_;
};
TORCH_MODULE(VitLayer);

class VitPatchEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit VitPatchEmbeddingsImpl(const VisionOptions& o) {
    projection = register_module("projection", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.num_channels, o.hidden_size, o.patch_size).stride(o.patch_size)));
  }
  torch::nn::Conv2d projection{nullptr};
};
TORCH_MODULE(VitPatchEmbeddings);

class VitEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit VitEmbeddingsImpl(const VisionOptions& o) {
    cls_token = register_parameter("cls_token", torch::zeros({1, 1, o.hidden_size}));
    patch_embeddings = register_module("patch_embeddings", VitPatchEmbeddings(o));
    position_embeddings = register_parameter("position_embeddings", torch::zeros({1, o.num_patches() + 1, o.hidden_size}));
  }
  torch::Tensor forward(const torch::Tensor& pixels) {
    const torch::Tensor p = patch_embeddings->projection->forward(pixels).flatten(2).transpose(1, 2);
    return torch::cat({cls_token.expand({p.size(0), -1, -1}), p}, 1) + position_embeddings;
  }
  torch::Tensor cls_token, position_embeddings;
  VitPatchEmbeddings patch_embeddings{nullptr};
};
TORCH_MODULE(VitEmbeddings);

class VitEncoderImpl : public torch::nn::Module {
 public:
  explicit VitEncoderImpl(const VisionOptions& o) {
    layer = register_module("layer", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < o.num_layers; ++i) layer->push_back(VitLayer(o));
  }
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(VitEncoder);

/// ViTModel: last_hidden_state = final LayerNorm(encoder output); pooler = tanh(dense(CLS)).
class VitModelImpl : public torch::nn::Module {
 public:
  explicit VitModelImpl(VisionOptions o) : o_(std::move(o)) {
    embeddings = register_module("embeddings", VitEmbeddings(o_));
    encoder = register_module("encoder", VitEncoder(o_));
    layernorm = register_module("layernorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o_.hidden_size}).eps(o_.layer_norm_eps)));
    pooler = register_module("pooler", Dense(o_.hidden_size, o_.hidden_size));
  }
  EncoderOutput encode(const torch::Tensor& pixels, bool output_hidden_states = false) {
    check_pixels(pixels, o_);
    EncoderOutput out;
    torch::Tensor h = embeddings->forward(pixels);
    for (std::size_t i = 0; i < encoder->layer->size(); ++i) {
      if (output_hidden_states) out.hidden_states.push_back(h);
      h = encoder->layer->at<VitLayerImpl>(i).forward(h);
    }
    if (output_hidden_states) out.hidden_states.push_back(h);
    out.last_hidden_state = layernorm->forward(h);
    out.pooler_output = torch::tanh(pooler->dense->forward(out.last_hidden_state.select(1, 0)));
    return out;
  }
  [[nodiscard]] std::int64_t hidden_size() const { return o_.hidden_size; }
  [[nodiscard]] static std::string base_model_prefix() { return "vit"; }

  VitEmbeddings embeddings{nullptr};
  VitEncoder encoder{nullptr};
  torch::nn::LayerNorm layernorm{nullptr};
  Dense pooler{nullptr};

 private:
  VisionOptions o_;
};
TORCH_MODULE(VitModel);

// --------------------------------------------------------------------------------- CLIP / SigLIP
class ClipAttentionImpl : public torch::nn::Module {
 public:
  explicit ClipAttentionImpl(const VisionOptions& o) : heads_(o.num_heads) {
    k_proj = register_module("k_proj", AdaptableLinear(o.hidden_size, o.hidden_size, true));
    v_proj = register_module("v_proj", AdaptableLinear(o.hidden_size, o.hidden_size, true));
    q_proj = register_module("q_proj", AdaptableLinear(o.hidden_size, o.hidden_size, true));
    out_proj = register_module("out_proj", AdaptableLinear(o.hidden_size, o.hidden_size, true));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const double scale = 1.0 / std::sqrt(static_cast<double>(x.size(2) / heads_));
    const torch::Tensor a = attend(split_heads(q_proj->forward(x), heads_), split_heads(k_proj->forward(x), heads_),
                                   split_heads(v_proj->forward(x), heads_), torch::Tensor(), scale);
    return out_proj->forward(merge_heads(a));
  }
  AdaptableLinear k_proj{nullptr}, v_proj{nullptr}, q_proj{nullptr}, out_proj{nullptr};

 private:
  std::int64_t heads_;
};
TORCH_MODULE(ClipAttention);

class ClipMlpImpl : public torch::nn::Module {
 public:
  explicit ClipMlpImpl(const VisionOptions& o) : act_(o.hidden_act) {
    fc1 = register_module("fc1", AdaptableLinear(o.hidden_size, o.intermediate_size, true));
    fc2 = register_module("fc2", AdaptableLinear(o.intermediate_size, o.hidden_size, true));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2->forward(activation(act_, fc1->forward(x))); }
  AdaptableLinear fc1{nullptr}, fc2{nullptr};

 private:
  std::string act_;
};
TORCH_MODULE(ClipMlp);

class ClipEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit ClipEncoderLayerImpl(const VisionOptions& o) {
    self_attn = register_module("self_attn", ClipAttention(o));
    layer_norm1 = register_module("layer_norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size}).eps(o.layer_norm_eps)));
    mlp = register_module("mlp", ClipMlp(o));
    layer_norm2 = register_module("layer_norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size}).eps(o.layer_norm_eps)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const torch::Tensor h = x + self_attn->forward(layer_norm1->forward(x));
    return h + mlp->forward(layer_norm2->forward(h));
  }
  ClipAttention self_attn{nullptr};
  torch::nn::LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
  ClipMlp mlp{nullptr};
};
TORCH_MODULE(ClipEncoderLayer);

class ClipEncoderImpl : public torch::nn::Module {
 public:
  explicit ClipEncoderImpl(const VisionOptions& o) {
    layers = register_module("layers", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < o.num_layers; ++i) layers->push_back(ClipEncoderLayer(o));
  }
  torch::Tensor run(torch::Tensor h, std::vector<torch::Tensor>* hidden) {
    for (std::size_t i = 0; i < layers->size(); ++i) {
      if (hidden) hidden->push_back(h);
      h = layers->at<ClipEncoderLayerImpl>(i).forward(h);
    }
    if (hidden) hidden->push_back(h);
    return h;
  }
  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(ClipEncoder);

class ClipVisionEmbeddingsImpl : public torch::nn::Module {
 public:
  ClipVisionEmbeddingsImpl(const VisionOptions& o, bool siglip) : siglip_(siglip) {
    if (!siglip) class_embedding = register_parameter("class_embedding", torch::zeros({o.hidden_size}));
    patch_embedding = register_module("patch_embedding", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.num_channels, o.hidden_size, o.patch_size)
                                                                               .stride(o.patch_size).bias(siglip)));
    position_embedding = register_module("position_embedding", torch::nn::Embedding(o.num_patches() + (siglip ? 0 : 1), o.hidden_size));
  }
  torch::Tensor forward(const torch::Tensor& pixels) {
    torch::Tensor p = patch_embedding->forward(pixels).flatten(2).transpose(1, 2);
    if (!siglip_) p = torch::cat({class_embedding.view({1, 1, -1}).expand({p.size(0), 1, -1}), p}, 1);
    return p + position_embedding->weight.unsqueeze(0);
  }
  torch::Tensor class_embedding;
  torch::nn::Conv2d patch_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};

 private:
  bool siglip_;
};
TORCH_MODULE(ClipVisionEmbeddings);

/// SigLIP's attention-pooling head: a learned probe attends over the tokens (nn.MultiheadAttention).
class SiglipHeadImpl : public torch::nn::Module {
 public:
  explicit SiglipHeadImpl(const VisionOptions& o) {
    probe = register_parameter("probe", torch::zeros({1, 1, o.hidden_size}));
    attention = register_module("attention", torch::nn::MultiheadAttention(torch::nn::MultiheadAttentionOptions(o.hidden_size, o.num_heads)));
    layernorm = register_module("layernorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size}).eps(o.layer_norm_eps)));
    mlp = register_module("mlp", ClipMlp(o));
  }
  /// nn.MultiheadAttention(probe, x, x) from its weights (query_attention.hpp: LibTorch's forward
  /// reads the device back to compare query, key and value).
  torch::Tensor forward(const torch::Tensor& x) {
    const auto e = x.size(2);
    torch::Tensor h = attention->out_proj->forward(
        query_attention(probe.expand({x.size(0), 1, e}), x, attention->in_proj_weight, attention->in_proj_bias, attention->options.num_heads()).first);
    h = h + mlp->forward(layernorm->forward(h));
    return h.select(1, 0);
  }
  torch::Tensor probe;
  torch::nn::MultiheadAttention attention{nullptr};
  torch::nn::LayerNorm layernorm{nullptr};
  ClipMlp mlp{nullptr};
};
TORCH_MODULE(SiglipHead);

class ClipVisionTransformerImpl : public torch::nn::Module {
 public:
  ClipVisionTransformerImpl(const VisionOptions& o, bool siglip) : siglip_(siglip) {
    embeddings = register_module("embeddings", ClipVisionEmbeddings(o, siglip));
    if (!siglip) pre_layrnorm = register_module("pre_layrnorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size}).eps(o.layer_norm_eps)));
    encoder = register_module("encoder", ClipEncoder(o));
    post_layernorm = register_module("post_layernorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size}).eps(o.layer_norm_eps)));
    if (siglip) head = register_module("head", SiglipHead(o));
  }
  torch::nn::LayerNorm pre_layrnorm{nullptr}, post_layernorm{nullptr};
  ClipVisionEmbeddings embeddings{nullptr};
  ClipEncoder encoder{nullptr};
  SiglipHead head{nullptr};

 private:
  bool siglip_;
};
TORCH_MODULE(ClipVisionTransformer);

/// CLIPVisionModel (siglip = false: CLS token, pre-LN, quick_gelu; last_hidden_state = encoder output,
/// pooler = post_layernorm(CLS)) or SiglipVisionModel (siglip = true: no CLS, last_hidden_state =
/// post_layernorm(encoder output), pooler = attention-pooling head).
class ClipVisionModelImpl : public torch::nn::Module {
 public:
  ClipVisionModelImpl(VisionOptions o, bool siglip) : o_(std::move(o)), siglip_(siglip) {
    vision_model = register_module("vision_model", ClipVisionTransformer(o_, siglip));
  }
  EncoderOutput encode(const torch::Tensor& pixels, bool output_hidden_states = false) {
    check_pixels(pixels, o_);
    auto& vm = *vision_model;
    EncoderOutput out;
    torch::Tensor h = vm.embeddings->forward(pixels);
    if (!siglip_) h = vm.pre_layrnorm->forward(h);
    h = vm.encoder->run(h, output_hidden_states ? &out.hidden_states : nullptr);
    if (siglip_) {
      out.last_hidden_state = vm.post_layernorm->forward(h);
      out.pooler_output = vm.head->forward(out.last_hidden_state);
    } else {
      out.last_hidden_state = h;
      out.pooler_output = vm.post_layernorm->forward(h.select(1, 0));
    }
    return out;
  }
  [[nodiscard]] std::int64_t hidden_size() const { return o_.hidden_size; }
  [[nodiscard]] std::string base_model_prefix() const { return siglip_ ? "siglip" : "clip"; }
  ClipVisionTransformer vision_model{nullptr};

 private:
  VisionOptions o_;
  bool siglip_;
};
TORCH_MODULE(ClipVisionModel);

}  // namespace ecgbench::models
