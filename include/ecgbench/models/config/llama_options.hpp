// Options of the Llama family (Llama 3, Qwen 2.5, Gemma 2), parsed from config.json; torch-free so that configs can be
// validated (and fuzzed) without LibTorch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ecgbench/core/json.hpp"
#include "ecgbench/models/hf/config.hpp"
#include "ecgbench/models/nn/attention_kernel.hpp"

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
  AttentionKernel attention = AttentionKernel::automatic;  ///< a run-time choice, not read from config.json

  static LlamaOptions from_config(const hf::ModelConfig& c) {
    return with_json_errors(c.file, [&] { return from_config_unchecked(c); });
  }
  static LlamaOptions from_config_unchecked(const hf::ModelConfig& c) {
    LlamaOptions o;
    o.model_type = c.get<std::string>("model_type", "llama");
    if (o.model_type != "llama" && o.model_type != "qwen2" && o.model_type != "gemma2" && o.model_type != "mistral")
      throw Error({c.file, {}, {}, "model_type"}, "not a Llama-family model: '" + o.model_type + "'");
    o.vocab_size = c.require_size("vocab_size");
    o.hidden_size = c.require_size("hidden_size");
    o.intermediate_size = c.require_size("intermediate_size");
    o.num_layers = c.require_size("num_hidden_layers");
    o.num_heads = c.require_size("num_attention_heads");
    o.num_kv_heads = c.get_size("num_key_value_heads", o.num_heads);
    o.head_dim = c.get_size("head_dim", o.hidden_size / o.num_heads);
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
        o.sliding_window = c.get_size("sliding_window", 4096);
        o.max_window_layers = c.get<std::int64_t>("max_window_layers", 28);
      }
    } else if (o.model_type == "gemma2") {
      o.qkv_bias = o.o_bias = c.get<bool>("attention_bias", false);
      o.tie_word_embeddings = c.get<bool>("tie_word_embeddings", true);
      o.query_pre_attn_scalar = c.get<double>("query_pre_attn_scalar", static_cast<double>(o.head_dim));
      if (c.json.contains("attn_logit_softcapping") && !c.json["attn_logit_softcapping"].is_null()) o.attn_logit_softcapping = c.get<double>("attn_logit_softcapping", 50.0);
      if (c.json.contains("final_logit_softcapping") && !c.json["final_logit_softcapping"].is_null()) o.final_logit_softcapping = c.get<double>("final_logit_softcapping", 30.0);
      if (c.json.contains("sliding_window") && !c.json["sliding_window"].is_null()) o.sliding_window = c.get_size("sliding_window", 4096);
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

}  // namespace ecgbench::models
