// OPT (OPTForCausalLM) with Hugging Face parameter names: learned positions offset by 2 and derived
// from the attention mask, ReLU MLP, pre-LN (do_layer_norm_before) or post-LN blocks (opt-350m), and
// bias-free project_in / project_out when word_embed_proj_dim differs from hidden_size.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <string>

#include "ecgbench/models/hf/checkpoint.hpp"
#include "ecgbench/models/config/opt_options.hpp"
#include "ecgbench/models/llm/language_model.hpp"
#include "ecgbench/models/nn/layers.hpp"

namespace ecgbench::models {


inline torch::nn::LayerNorm opt_layer_norm(const OptOptions& o) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size}).elementwise_affine(o.elementwise_affine));
}

class OptAttentionImpl : public torch::nn::Module {
 public:
  OptAttentionImpl(const OptOptions& o, std::int64_t layer) : o_(o), layer_(layer) {
    k_proj = register_module("k_proj", AdaptableLinear(o.hidden_size, o.hidden_size, o.enable_bias));
    v_proj = register_module("v_proj", AdaptableLinear(o.hidden_size, o.hidden_size, o.enable_bias));
    q_proj = register_module("q_proj", AdaptableLinear(o.hidden_size, o.hidden_size, o.enable_bias));
    out_proj = register_module("out_proj", AdaptableLinear(o.hidden_size, o.hidden_size, o.enable_bias));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, KvCache* cache) {
    const auto b = x.size(0), t = x.size(1), d = o_.hidden_size / o_.num_heads;
    auto heads = [&](const torch::Tensor& y) { return y.view({b, t, o_.num_heads, d}).transpose(1, 2); };
    // OPT scales the query projection before the product (as transformers does).
    torch::Tensor q = heads(q_proj->forward(x) * (1.0 / std::sqrt(static_cast<double>(d))));
    torch::Tensor k = heads(k_proj->forward(x)), v = heads(v_proj->forward(x));
    if (cache) std::tie(k, v) = cache->update(static_cast<std::size_t>(layer_), k, v);
    const torch::Tensor out = attend(q, k, v, mask, 1.0);
    return out_proj->forward(out.transpose(1, 2).reshape({b, t, o_.hidden_size}));
  }
  AdaptableLinear k_proj{nullptr}, v_proj{nullptr}, q_proj{nullptr}, out_proj{nullptr};

 private:
  OptOptions o_;
  std::int64_t layer_;
};
TORCH_MODULE(OptAttention);

class OptDecoderLayerImpl : public torch::nn::Module {
 public:
  OptDecoderLayerImpl(const OptOptions& o, std::int64_t layer) : o_(o) {
    self_attn = register_module("self_attn", OptAttention(o, layer));
    self_attn_layer_norm = register_module("self_attn_layer_norm", opt_layer_norm(o));
    fc1 = register_module("fc1", AdaptableLinear(o.hidden_size, o.ffn_dim, o.enable_bias));
    fc2 = register_module("fc2", AdaptableLinear(o.ffn_dim, o.hidden_size, o.enable_bias));
    final_layer_norm = register_module("final_layer_norm", opt_layer_norm(o));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, KvCache* cache) {
    auto drop = [&](const torch::Tensor& y) { return is_training() ? torch::dropout(y, o_.dropout, true) : y; };
    torch::Tensor h = x + drop(self_attn->forward(o_.do_layer_norm_before ? self_attn_layer_norm->forward(x) : x, mask, cache));
    if (!o_.do_layer_norm_before) h = self_attn_layer_norm->forward(h);
    torch::Tensor f = o_.do_layer_norm_before ? final_layer_norm->forward(h) : h;
    h = h + drop(fc2->forward(activation(o_.activation, fc1->forward(f))));
    if (!o_.do_layer_norm_before) h = final_layer_norm->forward(h);
    return h;
  }
  OptAttention self_attn{nullptr};
  torch::nn::LayerNorm self_attn_layer_norm{nullptr}, final_layer_norm{nullptr};
  AdaptableLinear fc1{nullptr}, fc2{nullptr};

 private:
  OptOptions o_;
};
TORCH_MODULE(OptDecoderLayer);

class OptDecoderImpl : public torch::nn::Module {
 public:
  explicit OptDecoderImpl(const OptOptions& o) {
    embed_tokens = register_module("embed_tokens", Embedding(o.vocab_size, o.word_embed_proj_dim));
    embed_positions = register_module("embed_positions", Embedding(o.max_position_embeddings + 2, o.hidden_size));
    if (o.word_embed_proj_dim != o.hidden_size) {
      project_out = register_module("project_out", AdaptableLinear(o.hidden_size, o.word_embed_proj_dim, false));
      project_in = register_module("project_in", AdaptableLinear(o.word_embed_proj_dim, o.hidden_size, false));
    }
    if (o.final_norm()) final_layer_norm = register_module("final_layer_norm", opt_layer_norm(o));
    layers = register_module("layers", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < o.num_layers; ++i) layers->push_back(OptDecoderLayer(o, i));
  }
  Embedding embed_tokens{nullptr}, embed_positions{nullptr};
  AdaptableLinear project_out{nullptr}, project_in{nullptr};
  torch::nn::LayerNorm final_layer_norm{nullptr};
  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(OptDecoder);

class OptModelImpl : public torch::nn::Module {
 public:
  explicit OptModelImpl(const OptOptions& o) { decoder = register_module("decoder", OptDecoder(o)); }
  OptDecoder decoder{nullptr};
};
TORCH_MODULE(OptModel);

/// OPTForCausalLM ("model." in checkpoints; lm_head tied to embed_tokens).
class OptForCausalLmImpl : public torch::nn::Module {
 public:
  explicit OptForCausalLmImpl(OptOptions o) : o_(std::move(o)) { model = register_module("model", OptModel(o_)); }

  torch::Tensor embed(const torch::Tensor& ids) { return model->decoder->embed_tokens->forward(ids); }
  /// GPT-2 and OPT run eager attention (transformers' default for them in 4.44); sdpa is refused.
  void set_attention(AttentionKernel k) {
    if (k == AttentionKernel::sdpa) throw Error("attention 'sdpa' is implemented for the Llama family (Llama 3, Qwen 2.5); GPT-2 and OPT run eager");
  }
  [[nodiscard]] AttentionKernel attention() const { return AttentionKernel::eager; }

  /// OPT ignores position_ids: positions are cumsum(mask) * mask - 1 + 2, as transformers 4.44 does.
  LmOutput forward(const LmInputs& in) {
    check_lm_inputs(in);
    auto& dec = *model->decoder;
    torch::Tensor x = in.inputs_embeds.defined() ? in.inputs_embeds : embed(in.input_ids.to(device()));
    const auto b = x.size(0), t = x.size(1);
    const std::int64_t past = in.cache ? in.cache->length() : 0;
    if (in.cache) in.cache->resize(static_cast<std::size_t>(o_.num_layers));
    torch::Tensor mask2d = in.attention_mask.defined() ? in.attention_mask.to(x.device()).to(torch::kLong)
                                                       : torch::ones({b, past + t}, torch::TensorOptions().dtype(torch::kLong).device(x.device()));
    const torch::Tensor pos = (mask2d.cumsum(1) * mask2d - 1).narrow(1, past, t);
    if (dec.project_in) x = dec.project_in->forward(x);
    x = x + dec.embed_positions->forward(pos + 2);
    if (is_training()) x = torch::dropout(x, o_.dropout, true);
    const torch::Tensor mask = causal_mask(mask2d, b, t, past, std::nullopt, x.scalar_type(), x.device());
    LmOutput out;
    for (std::size_t i = 0; i < dec.layers->size(); ++i) {
      if (in.output_hidden_states) out.hidden_states.push_back(x);
      x = dec.layers->at<OptDecoderLayerImpl>(i).forward(x, mask, in.cache);
    }
    if (dec.final_layer_norm) x = dec.final_layer_norm->forward(x);
    if (dec.project_out) x = dec.project_out->forward(x);
    if (in.output_hidden_states) out.hidden_states.push_back(x);
    out.logits = torch::matmul(x, dec.embed_tokens->weight.t());
    return out;
  }

  [[nodiscard]] std::int64_t hidden_size() const { return o_.word_embed_proj_dim; }  // where embeddings live
  [[nodiscard]] std::int64_t vocab_size() const { return model->decoder->embed_tokens->weight.size(0); }
  [[nodiscard]] std::int64_t num_layers() const { return o_.num_layers; }
  void resize_token_embeddings(std::int64_t n) {
    model->decoder->embed_tokens->resize(n, o_.init_std);
    o_.vocab_size = n;
  }
  [[nodiscard]] torch::Device device() const { return model->decoder->embed_tokens->weight.device(); }
  /// The token-embedding table [vocab, hidden_size()].
  torch::Tensor& input_embeddings() { return model->decoder->embed_tokens->weight; }
  [[nodiscard]] static std::string base_model_prefix() { return "model"; }

  OptModel model{nullptr};

 private:
  OptOptions o_;
};
TORCH_MODULE(OptForCausalLm);

}  // namespace ecgbench::models
