// Run-time choice of an encoder (ViT, CLIP / SigLIP vision tower, BERT, RoBERTa) from config.json.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <set>
#include <string>
#include <variant>

#include "ecgbench/core/log.hpp"
#include "ecgbench/models/hf/checkpoint.hpp"
#include "ecgbench/models/text/bert.hpp"
#include "ecgbench/models/vision/vision_towers.hpp"

namespace ecgbench::models {

using AnyVisionEncoder = std::variant<VitModel, ClipVisionModel>;

inline bool is_vision_config(const hf::ModelConfig& c) {
  const std::string a = c.architecture(), t = c.get<std::string>("model_type", "");
  return a == "ViTModel" || a == "CLIPVisionModel" || a == "SiglipVisionModel" || a == "CLIPModel" || a == "SiglipModel" || t == "vit" ||
         t == "clip_vision_model" || t == "siglip_vision_model" || t == "clip" || t == "siglip";
}
inline bool is_text_encoder_config(const hf::ModelConfig& c) {
  const std::string t = c.get<std::string>("model_type", "");
  return t == "bert" || t == "roberta" || t == "xlm-roberta";
}

/// Loads a vision tower in evaluation mode (full CLIP / SigLIP checkpoints: the vision half).
inline AnyVisionEncoder load_vision_encoder(const std::filesystem::path& dir, torch::ScalarType dtype = torch::kFloat32, torch::Device device = torch::kCPU) {
  const auto c = hf::ModelConfig::load(dir);
  const std::string a = c.architecture(), t = c.get<std::string>("model_type", "");
  const auto o = VisionOptions::from_config(c);
  AnyVisionEncoder m = (a == "ViTModel" || t == "vit") ? AnyVisionEncoder(VitModel(o))
                       : (a == "CLIPVisionModel" || a == "CLIPModel" || t == "clip_vision_model" || t == "clip")
                           ? AnyVisionEncoder(ClipVisionModel(o, false))
                       : (a == "SiglipVisionModel" || a == "SiglipModel" || t == "siglip_vision_model" || t == "siglip")
                           ? AnyVisionEncoder(ClipVisionModel(o, true))
                           : throw Error({c.file, {}, {}, "architectures"}, "unsupported vision encoder '" + a + "' (supported: ViTModel, CLIPVisionModel, SiglipVisionModel)");
  std::visit([&](auto& e) {
    e->to(dtype);
    const hf::Checkpoint ckpt(dir);
    // ViT checkpoints saved from classification heads lack the pooler.
    hf::load_state(*e, ckpt, e->base_model_prefix(), {"pooler.dense.weight", "pooler.dense.bias"});
    e->to(device);
    e->eval();
  }, m);
  return m;
}

/// Loads BERT or RoBERTa in evaluation mode (checkpoints with "bert." / "roberta." prefixes and MLM heads load too).
inline BertModel load_bert(const std::filesystem::path& dir, torch::ScalarType dtype = torch::kFloat32, torch::Device device = torch::kCPU) {
  const auto c = hf::ModelConfig::load(dir);
  BertModel m(BertOptions::from_config(c));
  m->to(dtype);
  const hf::Checkpoint ckpt(dir);
  hf::load_state(*m, ckpt, m->base_model_prefix(), {"pooler.dense.weight", "pooler.dense.bias"});
  m->to(device);
  m->eval();
  return m;
}

}  // namespace ecgbench::models
