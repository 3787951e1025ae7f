// Options of the OPT, parsed from config.json; torch-free so that configs can be
// validated (and fuzzed) without LibTorch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ecgbench/core/json.hpp"
#include "ecgbench/models/hf/config.hpp"

namespace ecgbench::models {

struct OptOptions {
  std::int64_t vocab_size = 50272, hidden_size = 768, ffn_dim = 3072, num_layers = 12, num_heads = 12,
               max_position_embeddings = 2048, word_embed_proj_dim = 768;
  bool do_layer_norm_before = true, remove_final_layer_norm = false, enable_bias = true, elementwise_affine = true;
  std::string activation = "relu";
  double dropout = 0.1, init_std = 0.02;

  static OptOptions from_config(const hf::ModelConfig& c) {
    return with_json_errors(c.file, [&] { return from_config_unchecked(c); });
  }
  static OptOptions from_config_unchecked(const hf::ModelConfig& c) {
    OptOptions o;
    o.vocab_size = c.require_size("vocab_size");
    o.hidden_size = c.require_size("hidden_size");
    o.ffn_dim = c.require_size("ffn_dim");
    o.num_layers = c.require_size("num_hidden_layers");
    o.num_heads = c.require_size("num_attention_heads");
    o.max_position_embeddings = c.get_size("max_position_embeddings", 2048);
    o.word_embed_proj_dim = c.get_size("word_embed_proj_dim", o.hidden_size);
    o.do_layer_norm_before = c.get<bool>("do_layer_norm_before", true);
    o.remove_final_layer_norm = c.get<bool>("_remove_final_layer_norm", false);
    o.enable_bias = c.get<bool>("enable_bias", true);
    o.elementwise_affine = c.get<bool>("layer_norm_elementwise_affine", true);
    o.activation = c.get<std::string>("activation_function", "relu");
    o.dropout = c.get<double>("dropout", 0.1);
    o.init_std = c.get<double>("init_std", 0.02);
    check_activation(o.activation, c.file);
    if (o.hidden_size % o.num_heads != 0) throw Error({c.file, {}, {}, "num_attention_heads"}, "must divide hidden_size");
    return o;
  }
  [[nodiscard]] bool final_norm() const { return do_layer_norm_before && !remove_final_layer_norm; }
};

}  // namespace ecgbench::models
