// The Llama family with Hugging Face parameter names: Llama 3 (llama3 RoPE scaling, GQA), Qwen 2.5
// (q/k/v bias, tied embeddings) and Gemma 2 (embedding scale, (1 + w) RMSNorm with pre/post norms,
// GeGLU, attention and final logit soft-capping, sliding-window attention on even layers,
// query_pre_attn_scalar, independent head_dim). One class, switched by the config's model_type.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "ecgbench/models/hf/checkpoint.hpp"
#include "ecgbench/models/llm/language_model.hpp"
#include "ecgbench/models/nn/layers.hpp"

namespace ecgbench::models {

struct LlamaOptions {
  std::string model_type = "llama";  ///< llama | qwen2 | gemma2
  std::int64_t vocab_size = 32000, hidden_size = 4096, intermediate_size = 11008, num_layers = 32, num_heads = 32,
               num_kv_heads = 32, head_dim = 128;
  double rms_norm_eps = 1e-6, rope_theta = 10000.0;
  std::string rope_type = "default";
  double rope_factor = 1.0, rope_low_freq_factor = 1.0, rope_high_freq_factor = 4.0, rope_original_max_positions = 8192;
  bool qkv_bias = false, o_bias = false, mlp_bias = false, tie_word_embeddings = false;
  std::string hidden_act = "silu";
  double initializer_range = 0.02;
  // Gemma 2
  std::optional<double> query_pre_attn_scalar, attn_logit_softcapping, final_logit_softcapping;
  std::optional<std::int64_t> sliding_window;  ///< Gemma 2: even layers; Qwen2 with use_sliding_window: layers >= max_window_layers
  std::int64_t max_window_layers = 0;

  static LlamaOptions from_config(const hf::ModelConfig& c) {
    LlamaOptions o;
    o.model_type = c.get<std::string>("model_type", "llama");
    if (o.model_type != "llama" && o.model_type != "qwen2" && o.model_type != "gemma2" && o.model_type != "mistral")
      throw Error({c.file, {}, {}, "model_type"}, "not a Llama-family model: '" + o.model_type + "'");
    o.vocab_size = c.require<std::int64_t>("vocab_size");
    o.hidden_size = c.require<std::int64_t>("hidden_size");
    o.intermediate_size = c.require<std::int64_t>("intermediate_size");
    o.num_layers = c.require<std::int64_t>("num_hidden_layers");
    o.num_heads = c.require<std::int64_t>("num_attention_heads");
    o.num_kv_heads = c.get<std::int64_t>("num_key_value_heads", o.num_heads);
    o.head_dim = c.get<std::int64_t>("head_dim", o.hidden_size / o.num_heads);
    if (o.num_heads % o.num_kv_heads != 0) throw Error({c.file, {}, {}, "num_key_value_heads"}, "must divide num_attention_heads");
    o.rms_norm_eps = c.get<double>("rms_norm_eps", 1e-6);
    o.rope_theta = c.get<double>("rope_theta", 10000.0);
    if (c.json.contains("rope_scaling") && c.json["rope_scaling"].is_object()) {
      const auto& r = c.json["rope_scaling"];
      o.rope_type = r.value("rope_type", r.value("type", std::string("default")));
      if (o.rope_type != "default" && o.rope_type != "llama3")
        throw Error({c.file, {}, {}, "rope_scaling"}, "unsupported rope_type '" + o.rope_type + "' (supported: default, llama3)");
      o.rope_factor = r.value("factor", 1.0);
      o.rope_low_freq_factor = r.value("low_freq_factor", 1.0);
      o.rope_high_freq_factor = r.value("high_freq_factor", 4.0);
      o.rope_original_max_positions = r.value("original_max_position_embeddings", 8192.0);
    }
    o.initializer_range = c.get<double>("initializer_range", 0.02);
    if (o.model_type == "qwen2") {
      o.qkv_bias = true;
      o.tie_word_embeddings = c.get<bool>("tie_word_embeddings", false);
      if (c.get<bool>("use_sliding_window", false)) {
        o.sliding_window = c.get<std::int64_t>("sliding_window", 4096);
        o.max_window_layers = c.get<std::int64_t>("max_window_layers", 28);
      }
    } else if (o.model_type == "gemma2") {
      o.qkv_bias = o.o_bias = c.get<bool>("attention_bias", false);
      o.tie_word_embeddings = c.get<bool>("tie_word_embeddings", true);
      o.query_pre_attn_scalar = c.get<double>("query_pre_attn_scalar", static_cast<double>(o.head_dim));
      if (c.json.contains("attn_logit_softcapping") && !c.json["attn_logit_softcapping"].is_null()) o.attn_logit_softcapping = c.get<double>("attn_logit_softcapping", 50.0);
      if (c.json.contains("final_logit_softcapping") && !c.json["final_logit_softcapping"].is_null()) o.final_logit_softcapping = c.get<double>("final_logit_softcapping", 30.0);
      if (c.json.contains("sliding_window") && !c.json["sliding_window"].is_null()) o.sliding_window = c.get<std::int64_t>("sliding_window", 4096);
    } else {
      o.qkv_bias = o.o_bias = c.get<bool>("attention_bias", false);
      o.mlp_bias = c.get<bool>("mlp_bias", false);
      o.tie_word_embeddings = c.get<bool>("tie_word_embeddings", false);
    }
    o.hidden_act = c.get<std::string>(o.model_type == "gemma2" ? "hidden_activation" : "hidden_act", o.model_type == "gemma2" ? "gelu_pytorch_tanh" : "silu");
    check_activation(o.hidden_act, c.file);
    return o;
  }
  [[nodiscard]] bool gemma() const { return model_type == "gemma2"; }
  [[nodiscard]] std::optional<std::int64_t> window_of_layer(std::int64_t layer) const {
    if (!sliding_window) return std::nullopt;
    if (gemma()) return layer % 2 == 0 ? sliding_window : std::nullopt;
    return layer >= max_window_layers ? sliding_window : std::nullopt;
  }
};

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

inline torch::Tensor rotate_half(const torch::Tensor& x) {
  const auto half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
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
    const torch::Tensor c = cos.unsqueeze(1), s = sin.unsqueeze(1);
    q = q * c + rotate_half(q) * s;
    k = k * c + rotate_half(k) * s;
    if (cache) std::tie(k, v) = cache->update(layer, k, v);
    const auto groups = o_.num_heads / o_.num_kv_heads;
    const double scale = o_.query_pre_attn_scalar ? 1.0 / std::sqrt(*o_.query_pre_attn_scalar) : 1.0 / std::sqrt(static_cast<double>(d));
    const torch::Tensor out = attend(q, repeat_kv(k, groups), repeat_kv(v, groups), mask, scale, o_.attn_logit_softcapping);
    return o_proj->forward(out.transpose(1, 2).reshape({b, t, o_.num_heads * d}));
  }
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

  LmOutput forward(const LmInputs& in) {
    check_lm_inputs(in);
    torch::Tensor h = in.inputs_embeds.defined() ? in.inputs_embeds : embed(in.input_ids.to(device()));
    const auto b = h.size(0), t = h.size(1);
    const std::int64_t past = in.cache ? in.cache->length() : 0;
    if (in.cache) in.cache->resize(static_cast<std::size_t>(o_.num_layers));
    if (o_.gemma()) h = h * torch::tensor(std::sqrt(static_cast<double>(o_.hidden_size)), h.options());
    const torch::Tensor pos = default_position_ids(in, b, t, past, h.device());
    // cos/sin [B, T, head_dim] from float32 frequencies, as transformers' rotary embedding.
    const torch::Tensor freqs = torch::matmul(inv_freq_.to(h.device()).view({1, -1, 1}).expand({b, -1, 1}), pos.to(torch::kFloat32).unsqueeze(1)).transpose(1, 2);
    const torch::Tensor emb = torch::cat({freqs, freqs}, -1);
    const torch::Tensor cos = emb.cos().to(h.scalar_type()), sin = emb.sin().to(h.scalar_type());
    const torch::Tensor full = causal_mask(in.attention_mask, b, t, past, std::nullopt, h.scalar_type(), h.device());
    torch::Tensor windowed;
    LmOutput out;
    for (std::size_t i = 0; i < model->layers->size(); ++i) {
      if (in.output_hidden_states) out.hidden_states.push_back(h);
      const auto w = o_.window_of_layer(static_cast<std::int64_t>(i));
      if (w && !windowed.defined()) windowed = causal_mask(in.attention_mask, b, t, past, w, h.scalar_type(), h.device());
      h = model->layers->at<LlamaDecoderLayerImpl>(i).forward(h, cos, sin, w ? windowed : full, in.cache, i);
    }
    h = model->norm->forward(h);
    if (in.output_hidden_states) out.hidden_states.push_back(h);
    out.logits = lm_head ? lm_head->forward(h) : torch::matmul(h, model->embed_tokens->weight.t());
    if (o_.final_logit_softcapping) out.logits = torch::tanh(out.logits / *o_.final_logit_softcapping) * *o_.final_logit_softcapping;
    return out;
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
  [[nodiscard]] static std::string base_model_prefix() { return "model"; }

  LlamaModel model{nullptr};
  AdaptableLinear lm_head{nullptr};

 private:
  static void resize_rows(torch::Tensor& w, std::int64_t n, double std) {
    torch::NoGradGuard g;
    torch::Tensor nw = torch::empty({n, w.size(1)}, w.options());
    const auto keep = std::min(w.size(0), n);
    nw.narrow(0, 0, keep).copy_(w.narrow(0, 0, keep));
    if (n > keep) nw.narrow(0, keep, n - keep).normal_(0.0, std);
    w.set_data(nw);
  }
  LlamaOptions o_;
  torch::Tensor inv_freq_;
};
TORCH_MODULE(LlamaForCausalLm);

}  // namespace ecgbench::models
