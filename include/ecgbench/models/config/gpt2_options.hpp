// Options of the GPT-2, parsed from config.json; torch-free so that configs can be
// validated (and fuzzed) without LibTorch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ecgbench/core/json.hpp"
#include "ecgbench/models/hf/config.hpp"

namespace ecgbench::models {

struct Gpt2Options {
  std::int64_t vocab_size = 50257, n_positions = 1024, n_embd = 768, n_layer = 12, n_head = 12, n_inner = 3072;
  double layer_norm_epsilon = 1e-5, initializer_range = 0.02, dropout = 0.1;
  std::string activation = "gelu_new";
  bool scale_attn_weights = true, scale_attn_by_inverse_layer_idx = false;

  static Gpt2Options from_config(const hf::ModelConfig& c) {
    return with_json_errors(c.file, [&] { return from_config_unchecked(c); });
  }
  static Gpt2Options from_config_unchecked(const hf::ModelConfig& c) {
    Gpt2Options o;
    o.vocab_size = c.require_size("vocab_size");
    o.n_positions = c.get_size("n_positions", 1024);
    o.n_embd = c.require_size("n_embd");
    o.n_layer = c.require_size("n_layer");
    o.n_head = c.require_size("n_head");
    o.n_inner = c.get_size("n_inner", 4 * o.n_embd);
    o.layer_norm_epsilon = c.get<double>("layer_norm_epsilon", 1e-5);
    o.initializer_range = c.get<double>("initializer_range", 0.02);
    o.dropout = c.get<double>("resid_pdrop", 0.1);
    o.activation = c.get<std::string>("activation_function", "gelu_new");
    o.scale_attn_weights = c.get<bool>("scale_attn_weights", true);
    o.scale_attn_by_inverse_layer_idx = c.get<bool>("scale_attn_by_inverse_layer_idx", false);
    check_activation(o.activation, c.file);
    if (o.n_embd % o.n_head != 0) throw Error({c.file, {}, {}, "n_head"}, "must divide n_embd");
    return o;
  }
};

}  // namespace ecgbench::models
