// The Hugging Face vision encoders as ECG encoder policies (upstream's HuggingFaceEncoder): CLIP
// (`image_embeds`: the pooled CLS through `visual_projection`, 512), SigLIP (`image_embeds`: the
// attention-pooling head, 768), ViT (the mean over every hidden state and token, 768). Input:
// pixel values of a plotted image or stacked signal from the image processors (represent/).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "ecgbench/models/concepts/ecg_encoder.hpp"
#include "ecgbench/models/encoders.hpp"
#include "ecgbench/models/hf/checkpoint.hpp"

namespace ecgbench::models {

enum class VisionKind { vit, clip, siglip };

inline VisionKind vision_kind_of(const hf::ModelConfig& c) {
  const std::string a = c.architecture(), t = c.get<std::string>("model_type", "");
  if (a.rfind("ViT", 0) == 0 || t == "vit") return VisionKind::vit;
  if (a.rfind("CLIP", 0) == 0 || t == "clip" || t == "clip_vision_model") return VisionKind::clip;
  if (a.rfind("Siglip", 0) == 0 || t == "siglip" || t == "siglip_vision_model") return VisionKind::siglip;
  throw Error({c.file, {}, {}, "architectures"}, "not a ViT, CLIP or SigLIP checkpoint ('" + a + "')");
}

class HfVisionEncoderImpl : public torch::nn::Module {
 public:
  static constexpr EncoderInput input = EncoderInput::pixel_values;

  /// `projection_dim` > 0 adds CLIP's visual_projection (hidden -> projection_dim, no bias).
  HfVisionEncoderImpl(VisionKind kind, const VisionOptions& o, std::int64_t projection_dim = 0) : kind_(kind), o_(o) {
    if (kind == VisionKind::vit) vit = register_module("model", VitModel(o));
    else tower = register_module("model", ClipVisionModel(o, kind == VisionKind::siglip));
    if (kind == VisionKind::clip && projection_dim > 0)
      visual_projection = register_module("visual_projection", torch::nn::Linear(torch::nn::LinearOptions(o.hidden_size, projection_dim).bias(false)));
  }
  /// Builds from a checkpoint folder (ViTModel / ViTForMaskedImageModeling, CLIPModel /
  /// CLIPVisionModel, SiglipModel / SiglipVisionModel) and loads the vision weights.
  static std::shared_ptr<HfVisionEncoderImpl> from_pretrained(const std::filesystem::path& dir) {
    const auto c = hf::ModelConfig::load(dir);
    const VisionKind kind = vision_kind_of(c);
    std::int64_t proj = 0;
    if (kind == VisionKind::clip) proj = c.get_size("projection_dim", 0);
    auto m = std::make_shared<HfVisionEncoderImpl>(kind, VisionOptions::from_config(c), proj);
    const hf::Checkpoint ckpt(dir);
    if (m->vit) hf::load_state(*m->vit, ckpt, "vit", {"pooler.dense.weight", "pooler.dense.bias"});
    else hf::load_state(*m->tower, ckpt, kind == VisionKind::siglip ? "siglip" : "clip");
    if (m->visual_projection) {
      if (!ckpt.find("visual_projection.weight")) m->unregister_module("visual_projection"), m->visual_projection = nullptr;
      else m->visual_projection->weight.data().copy_(hf::to_torch(*ckpt.find("visual_projection.weight")));
    }
    return m;
  }

  /// [B, 3, H, W] -> [B, 1, D]: one embedding per image (k must be 1).
  torch::Tensor embed(const torch::Tensor& pixels, std::int64_t k = 1) {
    if (k != 1) throw Error("vision encoders give one embedding per image (tokens = 1), got " + std::to_string(k));
    if (kind_ == VisionKind::vit) {
      const EncoderOutput o = vit->encode(pixels, true);
      return torch::stack(o.hidden_states).mean(0).mean(1).unsqueeze(1);
    }
    const EncoderOutput o = tower->encode(pixels, false);
    torch::Tensor e = o.pooler_output;
    if (visual_projection) e = visual_projection->forward(e);
    return e.unsqueeze(1);
  }
  [[nodiscard]] std::int64_t embedding_dim() const { return visual_projection ? visual_projection->weight.size(0) : o_.hidden_size; }
  [[nodiscard]] VisionKind kind() const { return kind_; }
  [[nodiscard]] const VisionOptions& options() const { return o_; }

  VitModel vit{nullptr};
  ClipVisionModel tower{nullptr};
  torch::nn::Linear visual_projection{nullptr};

 private:
  VisionKind kind_;
  VisionOptions o_;
};
TORCH_MODULE(HfVisionEncoder);
static_assert(EcgEncoder<HfVisionEncoder>);

}  // namespace ecgbench::models
