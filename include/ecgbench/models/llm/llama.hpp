// The Llama family with Hugging Face parameter names: Llama 3 (llama3 RoPE scaling, GQA), Qwen 2.5
// (q/k/v bias, tied embeddings) and Gemma 2 (embedding scale, (1 + w) RMSNorm with pre/post norms,
// GeGLU, attention and final logit soft-capping, sliding-window attention on even layers,
// query_pre_attn_scalar, independent head_dim). One class, switched by the config's model_type.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ecgbench/models/hf/checkpoint.hpp"
#include "ecgbench/models/config/llama_options.hpp"
#include "ecgbench/models/llm/language_model.hpp"
#include "ecgbench/models/nn/layers.hpp"

namespace ecgbench::models {


/// Rotary inverse frequencies as transformers computes them (float32), with llama3 scaling.
inline torch::Tensor rope_inverse_frequencies(const LlamaOptions& o) {
  const auto dim = o.head_dim;
  torch::Tensor inv = 1.0 / torch::pow(o.rope_theta, torch::arange(0, dim, 2, torch::kLong).to(torch::kFloat32) / static_cast<double>(dim));
  if (o.rope_type == "llama3") {
    const double low_wavelen = o.rope_original_max_positions / o.rope_low_freq_factor;
    const double high_wavelen = o.rope_original_max_positions / o.rope_high_freq_factor;
    const torch::Tensor wavelen = 2 * M_PI / inv;
    torch::Tensor scaled = torch::where(wavelen > low_wavelen, inv / o.rope_factor, inv);
    const torch::Tensor smooth = (o.rope_original_max_positions / wavelen - o.rope_low_freq_factor) / (o.rope_high_freq_factor - o.rope_low_freq_factor);
    const torch::Tensor smoothed = (1 - smooth) * scaled / o.rope_factor + smooth * scaled;
    const torch::Tensor medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen);
    inv = torch::where(medium, smoothed, scaled);
  }
  return inv;
}

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  explicit LlamaAttentionImpl(const LlamaOptions& o) : o_(o) {
    q_proj = register_module("q_proj", AdaptableLinear(o.hidden_size, o.num_heads * o.head_dim, o.qkv_bias));
    k_proj = register_module("k_proj", AdaptableLinear(o.hidden_size, o.num_kv_heads * o.head_dim, o.qkv_bias));
    v_proj = register_module("v_proj", AdaptableLinear(o.hidden_size, o.num_kv_heads * o.head_dim, o.qkv_bias));
    o_proj = register_module("o_proj", AdaptableLinear(o.num_heads * o.head_dim, o.hidden_size, o.o_bias));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin, const torch::Tensor& mask,
                        KvCache* cache, std::size_t layer) {
    const auto b = x.size(0), t = x.size(1), d = o_.head_dim;
    torch::Tensor q = q_proj->forward(x).view({b, t, o_.num_heads, d}).transpose(1, 2);
    torch::Tensor k = k_proj->forward(x).view({b, t, o_.num_kv_heads, d}).transpose(1, 2);
    torch::Tensor v = v_proj->forward(x).view({b, t, o_.num_kv_heads, d}).transpose(1, 2);
    // transformers' rotate_half(x) * sin == roll(x, D/2) * [-sin, sin] (the two halves of sin are equal; the sign
    // flip is exact): one op instead of neg, two narrows and a cat, same bits.
    const torch::Tensor c = cos.unsqueeze(1), s = sin.unsqueeze(1);
    q = q * c + q.roll(d / 2, -1) * s;
    k = k * c + k.roll(d / 2, -1) * s;
    if (cache) std::tie(k, v) = cache->update(layer, k, v);
    const auto groups = o_.num_heads / o_.num_kv_heads;
    const double scale = o_.query_pre_attn_scalar ? 1.0 / std::sqrt(*o_.query_pre_attn_scalar) : 1.0 / std::sqrt(static_cast<double>(d));
    torch::Tensor out;
    if (uses_sdpa(o_.attention, o_.attn_logit_softcapping.has_value())) {
      // No mask: causal from position 0 (the caller leaves it out only then) or one decoding query.
      out = attend_sdpa(q, k, v, mask, /*is_causal=*/!mask.defined() && t > 1, scale, groups);
    } else if (t == 1 && groups > 1 && !is_training()) {
      // Decoding: the query heads of one KV head as rows of one matmul ([B, kv, groups, D]) instead
      // of copying the whole cache `groups` times (repeat_kv). The mask [B, 1, 1, S] broadcasts.
      out = attend(q.reshape({b, o_.num_kv_heads, groups, d}), k, v, mask, scale, o_.attn_logit_softcapping).reshape({b, o_.num_heads, 1, d});
    } else {
      out = attend(q, repeat_kv(k, groups), repeat_kv(v, groups), mask, scale, o_.attn_logit_softcapping);
    }
    return o_proj->forward(out.transpose(1, 2).reshape({b, t, o_.num_heads * d}));
  }
  void set_attention(AttentionKernel k) { o_.attention = k; }
  AdaptableLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  LlamaOptions o_;
};
TORCH_MODULE(LlamaAttention);

class LlamaMlpImpl : public torch::nn::Module {
 public:
  explicit LlamaMlpImpl(const LlamaOptions& o) : act_(o.hidden_act) {
    gate_proj = register_module("gate_proj", AdaptableLinear(o.hidden_size, o.intermediate_size, o.mlp_bias));
    up_proj = register_module("up_proj", AdaptableLinear(o.hidden_size, o.intermediate_size, o.mlp_bias));
    down_proj = register_module("down_proj", AdaptableLinear(o.intermediate_size, o.hidden_size, o.mlp_bias));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return down_proj->forward(activation(act_, gate_proj->forward(x)) * up_proj->forward(x));
  }
  AdaptableLinear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};

 private:
  std::string act_;
};
TORCH_MODULE(LlamaMlp);

class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  explicit LlamaDecoderLayerImpl(const LlamaOptions& o) : gemma_(o.gemma()) {
    self_attn = register_module("self_attn", LlamaAttention(o));
    mlp = register_module("mlp", LlamaMlp(o));
    input_layernorm = register_module("input_layernorm", RmsNorm(o.hidden_size, o.rms_norm_eps, gemma_));
    post_attention_layernorm = register_module("post_attention_layernorm", RmsNorm(o.hidden_size, o.rms_norm_eps, gemma_));
    if (gemma_) {
      pre_feedforward_layernorm = register_module("pre_feedforward_layernorm", RmsNorm(o.hidden_size, o.rms_norm_eps, true));
      post_feedforward_layernorm = register_module("post_feedforward_layernorm", RmsNorm(o.hidden_size, o.rms_norm_eps, true));
    }
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin, const torch::Tensor& mask,
                        KvCache* cache, std::size_t layer) {
    if (gemma_) {  // pre and post norms around both blocks
      torch::Tensor h = x + post_attention_layernorm->forward(self_attn->forward(input_layernorm->forward(x), cos, sin, mask, cache, layer));
      return h + post_feedforward_layernorm->forward(mlp->forward(pre_feedforward_layernorm->forward(h)));
    }
    torch::Tensor h = x + self_attn->forward(input_layernorm->forward(x), cos, sin, mask, cache, layer);
    return h + mlp->forward(post_attention_layernorm->forward(h));
  }
  LlamaAttention self_attn{nullptr};
  LlamaMlp mlp{nullptr};
  RmsNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr}, pre_feedforward_layernorm{nullptr}, post_feedforward_layernorm{nullptr};

 private:
  bool gemma_;
};
TORCH_MODULE(LlamaDecoderLayer);

/// The decoder stack ("model." in checkpoints).
class LlamaModelImpl : public torch::nn::Module {
 public:
  explicit LlamaModelImpl(const LlamaOptions& o) {
    embed_tokens = register_module("embed_tokens", Embedding(o.vocab_size, o.hidden_size));
    layers = register_module("layers", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < o.num_layers; ++i) layers->push_back(LlamaDecoderLayer(o));
    norm = register_module("norm", RmsNorm(o.hidden_size, o.rms_norm_eps, o.gemma()));
  }
  Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RmsNorm norm{nullptr};
};
TORCH_MODULE(LlamaModel);

/// LlamaForCausalLM / Qwen2ForCausalLM / Gemma2ForCausalLM.
class LlamaForCausalLmImpl : public torch::nn::Module {
 public:
  explicit LlamaForCausalLmImpl(LlamaOptions o) : o_(std::move(o)) {
    model = register_module("model", LlamaModel(o_));
    if (!o_.tie_word_embeddings) lm_head = register_module("lm_head", AdaptableLinear(o_.hidden_size, o_.vocab_size, false));
    inv_freq_ = rope_inverse_frequencies(o_);
  }

  torch::Tensor embed(const torch::Tensor& ids) { return model->embed_tokens->forward(ids); }

  /// Eager or SDPA attention from now on (layers with soft-capping stay eager).
  void set_attention(AttentionKernel k) {
    require_attention_kernel(k);
    o_.attention = k;
    for (std::size_t i = 0; i < model->layers->size(); ++i) model->layers->at<LlamaDecoderLayerImpl>(i).self_attn->set_attention(k);
  }
  [[nodiscard]] AttentionKernel attention() const { return o_.attention; }

  LmOutput forward(const LmInputs& in) {
    check_lm_inputs(in);
    torch::Tensor h = in.inputs_embeds.defined() ? in.inputs_embeds : embed(in.input_ids.to(device()));
    const auto b = h.size(0), t = h.size(1);
    const std::int64_t past = in.cache ? in.cache->length() : 0;
    if (in.cache) in.cache->resize(static_cast<std::size_t>(o_.num_layers));
    // Gemma's normaliser rounded to the activations' dtype as transformers makes it, applied as a
    // scalar: a tensor built on the host would be a blocking copy per step on a GPU.
    if (o_.gemma()) h = h * torch::tensor(std::sqrt(static_cast<double>(o_.hidden_size)), torch::kFloat64).to(h.scalar_type()).item<double>();
    const torch::Tensor pos = default_position_ids(in, b, t, past, h.device());
    const auto [cos, sin] = rope(pos, in.position_ids.defined() ? -1 : past + t, h.scalar_type());
    // One query without padding sees every cached key: no mask (windowed layers still get theirs).
    // SDPA without padding from position 0 needs none either: is_causal does it without [T, T] memory.
    const bool unmasked = (t == 1 || (past == 0 && uses_sdpa(o_.attention, o_.attn_logit_softcapping.has_value()))) && !in.attention_mask.defined();
    const torch::Tensor full = unmasked ? torch::Tensor() : causal_mask(in.attention_mask, b, t, past, std::nullopt, h.scalar_type(), h.device());
    torch::Tensor windowed;
    LmOutput out;
    for (std::size_t i = 0; i < model->layers->size(); ++i) {
      if (in.output_hidden_states) out.hidden_states.push_back(h);
      const auto w = o_.window_of_layer(static_cast<std::int64_t>(i));
      if (w && !windowed.defined()) windowed = causal_mask(in.attention_mask, b, t, past, w, h.scalar_type(), h.device());
      h = model->layers->at<LlamaDecoderLayerImpl>(i).forward(h, cos, sin, w ? windowed : full, in.cache, i);
    }
    if (in.last_logits_only && !in.output_hidden_states && t > 1) h = h.narrow(1, t - 1, 1);  // the norm is per position
    h = model->norm->forward(h);
    if (in.output_hidden_states) out.hidden_states.push_back(h);
    out.logits = lm_head ? lm_head->forward(h) : torch::matmul(h, model->embed_tokens->weight.t());
    if (o_.final_logit_softcapping) out.logits = torch::tanh(out.logits / *o_.final_logit_softcapping) * *o_.final_logit_softcapping;
    return out;
  }

  /// cos and signed sin ([-sin, sin] halves, see the attention) [B, T, head_dim] for positions `pos`
  /// [B, T] (`end`: one past the largest, or -1 to look): rows of a table over positions 0..n-1
  /// computed as transformers' rotary embedding computes them per call (float32 inv_freq x position,
  /// cat, cos / sin; each entry one product, so the same bits), grown on demand. Saves a dozen ops
  /// per decoding step.
  /// Given positions on a device are not read back (a host synchronisation per step): their cos and
  /// sin are computed directly, the same single product per entry as the table's.
  std::pair<torch::Tensor, torch::Tensor> rope(const torch::Tensor& pos, std::int64_t end, torch::ScalarType dtype) {
    if (end < 0 && !pos.is_cpu()) return rope_direct(pos, dtype);
    if (end < 0) {
      if (pos.numel() && pos.min().item<std::int64_t>() < 0) throw Error("position_ids must be >= 0");
      end = pos.numel() ? pos.max().item<std::int64_t>() + 1 : 0;
    }
    if (!rope_cos_.defined() || rope_cos_.size(0) < end || rope_cos_.device() != pos.device()) {
      c10::InferenceMode normal(false);  // a normal tensor even when first built during generation
      torch::NoGradGuard g;
      const std::int64_t n = std::max<std::int64_t>({end, 256, rope_cos_.defined() ? 2 * rope_cos_.size(0) : 0});
      const torch::Tensor p = torch::arange(n, torch::TensorOptions().dtype(torch::kFloat32).device(pos.device()));
      const torch::Tensor freqs = torch::matmul(inv_freq_.to(pos.device()).view({-1, 1}), p.view({1, -1})).t();  // [n, D/2]
      rope_cos_ = torch::cat({freqs, freqs}, -1).cos();
      const torch::Tensor sn = freqs.sin();
      rope_sin_ = torch::cat({-sn, sn}, -1);
    }
    const auto b = pos.size(0), t = pos.size(1);
    const torch::Tensor flat = pos.reshape({-1});
    return {rope_cos_.index_select(0, flat).view({b, t, -1}).to(dtype), rope_sin_.index_select(0, flat).view({b, t, -1}).to(dtype)};
  }

  /// The same cos and signed sin computed from `pos` directly, without a table (no host read).
  std::pair<torch::Tensor, torch::Tensor> rope_direct(const torch::Tensor& pos, torch::ScalarType dtype) {
    if (inv_freq_.device() != pos.device()) inv_freq_ = inv_freq_.to(pos.device());  // once, not per step
    const torch::Tensor freqs = pos.to(torch::kFloat32).unsqueeze(-1) * inv_freq_;  // [B, T, D/2]
    const torch::Tensor sn = freqs.sin();
    return {torch::cat({freqs, freqs}, -1).cos().to(dtype), torch::cat({-sn, sn}, -1).to(dtype)};
  }

  [[nodiscard]] std::int64_t hidden_size() const { return o_.hidden_size; }
  [[nodiscard]] std::int64_t vocab_size() const { return model->embed_tokens->weight.size(0); }
  [[nodiscard]] std::int64_t num_layers() const { return o_.num_layers; }
  [[nodiscard]] const LlamaOptions& options() const { return o_; }
  /// Adds (or drops) token rows; the untied lm_head follows.
  void resize_token_embeddings(std::int64_t n) {
    model->embed_tokens->resize(n, o_.initializer_range);
    if (lm_head) resize_rows(lm_head->weight, n, o_.initializer_range);
    o_.vocab_size = n;
  }
  [[nodiscard]] torch::Device device() const { return model->embed_tokens->weight.device(); }
  /// The token-embedding table [vocab, hidden_size()].
  torch::Tensor& input_embeddings() { return model->embed_tokens->weight; }
  [[nodiscard]] static std::string base_model_prefix() { return "model"; }

  LlamaModel model{nullptr};
  AdaptableLinear lm_head{nullptr};

 private:
  LlamaOptions o_;
  torch::Tensor inv_freq_, rope_cos_, rope_sin_;
};
TORCH_MODULE(LlamaForCausalLm);

}  // namespace ecgbench::models
