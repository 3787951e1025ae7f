// Options of the ViT / CLIP / SigLIP vision towers, parsed from config.json; torch-free so that configs can be
// validated (and fuzzed) without LibTorch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ecgbench/core/json.hpp"
#include "ecgbench/models/hf/config.hpp"

namespace ecgbench::models {

struct VisionOptions {
  std::int64_t hidden_size = 768, intermediate_size = 3072, num_layers = 12, num_heads = 12, image_size = 224, patch_size = 16,
               num_channels = 3;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";
  bool qkv_bias = true;

  static VisionOptions from_config(const hf::ModelConfig& c) {
    return with_json_errors(c.file, [&] { return from_config_unchecked(c); });
  }
  static VisionOptions from_config_unchecked(const hf::ModelConfig& c) {
    // Full CLIP / SigLIP configs nest the tower's settings under "vision_config".
    const Json& j = c.json.contains("vision_config") && c.json["vision_config"].is_object() ? c.json["vision_config"] : c.json;
    const hf::ModelConfig v{j, c.file};
    VisionOptions o;
    o.hidden_size = v.require_size("hidden_size");
    o.intermediate_size = v.require_size("intermediate_size");
    o.num_layers = v.require_size("num_hidden_layers");
    o.num_heads = v.require_size("num_attention_heads");
    o.image_size = v.get_size("image_size", 224);
    o.patch_size = v.get_size("patch_size", 16);
    o.num_channels = v.get_size("num_channels", 3);
    o.layer_norm_eps = v.get<double>("layer_norm_eps", 1e-12);
    o.hidden_act = v.get<std::string>("hidden_act", "gelu");
    o.qkv_bias = v.get<bool>("qkv_bias", true);
    check_activation(o.hidden_act, c.file);
    if (o.hidden_size % o.num_heads != 0) throw Error({c.file, {}, {}, "num_attention_heads"}, "must divide hidden_size");
    return o;
  }
  [[nodiscard]] std::int64_t num_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
};

}  // namespace ecgbench::models
