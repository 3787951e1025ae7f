// LoRA as PEFT does it: adapters on the linear layers named in target_modules (matched on the last
// name component, or a full-name suffix), only adapters trainable, merge / unmerge, and the PEFT
// file format (adapter_config.json + adapter_model.safetensors with "base_model.model." keys).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/models/hf/checkpoint.hpp"
#include "ecgbench/models/nn/layers.hpp"

namespace ecgbench::models {

struct LoraConfig {
  std::int64_t r = 16;
  double alpha = 32;
  double dropout = 0.05;
  /// Upstream ECG-Bench's choice for Llama / Qwen / Gemma.
  std::vector<std::string> target_modules{"q_proj", "v_proj", "k_proj", "o_proj", "gate_proj", "down_proj", "up_proj"};
};

/// PEFT's default targets per model_type (when a config names none).
inline std::vector<std::string> default_lora_targets(const std::string& model_type) {
  if (model_type == "gpt2") return {"c_attn"};
  if (model_type == "opt") return {"q_proj", "v_proj"};
  return {"q_proj", "v_proj"};
}

namespace detail {
inline bool lora_target_matches(const std::string& name, const std::vector<std::string>& targets) {
  for (const auto& t : targets) {
    if (name == t) return true;
    if (name.size() > t.size() && name.compare(name.size() - t.size(), t.size(), t) == 0 && name[name.size() - t.size() - 1] == '.') return true;
  }
  return false;
}
}  // namespace detail

/// Attaches adapters and freezes everything else. Returns the names of the adapted layers.
inline std::vector<std::string> apply_lora(torch::nn::Module& model, const LoraConfig& cfg) {
  std::vector<std::string> adapted;
  for (auto& item : model.named_modules("", false)) {
    auto* lin = dynamic_cast<AdaptableLinearImpl*>(item.value().get());
    if (!lin || !detail::lora_target_matches(item.key(), cfg.target_modules)) continue;
    lin->enable_lora(cfg.r, cfg.alpha, cfg.dropout);
    adapted.push_back(item.key());
  }
  if (adapted.empty()) throw Error("LoRA: no linear layer matches the target modules");
  for (auto& p : model.named_parameters(true))
    p.value().set_requires_grad(p.key().find(".lora_A.") != std::string::npos || p.key().find(".lora_B.") != std::string::npos);
  return adapted;
}

/// Folds every adapter into its weight (inference without the extra matmuls), or takes it out again.
inline void merge_lora(torch::nn::Module& model, bool merge = true) {
  for (auto& item : model.named_modules("", false))
    if (auto* lin = dynamic_cast<AdaptableLinearImpl*>(item.value().get())) merge ? lin->merge() : lin->unmerge();
}

/// Writes adapter_config.json and adapter_model.safetensors (keys "base_model.model.<name>.lora_A.weight").
inline void save_lora(torch::nn::Module& model, const LoraConfig& cfg, const std::filesystem::path& dir, const std::string& base_model = "") {
  std::filesystem::create_directories(dir);
  std::map<std::string, hf::TensorBytes> tensors;
  for (const auto& p : model.named_parameters(true)) {
    if (p.key().find(".lora_A.") == std::string::npos && p.key().find(".lora_B.") == std::string::npos) continue;
    const torch::Tensor t = p.value().detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
    hf::TensorBytes b;
    b.shape = t.sizes().vec();
    b.bytes.assign(static_cast<const char*>(t.data_ptr()), static_cast<std::size_t>(t.numel() * 4));
    tensors.emplace("base_model.model." + p.key(), std::move(b));
  }
  if (tensors.empty()) throw Error({dir.string(), {}, {}, {}}, "the model has no LoRA adapters to save");
  bool fan_in_fan_out = false;  // GPT-2's Conv1D layout
  for (auto& item : model.named_modules("", false))
    if (auto* lin = dynamic_cast<AdaptableLinearImpl*>(item.value().get()); lin && lin->has_lora()) fan_in_fan_out |= lin->transposed();
  hf::write_safetensors(dir / "adapter_model.safetensors", tensors);
  Json c{{"peft_type", "LORA"}, {"r", cfg.r}, {"lora_alpha", cfg.alpha}, {"lora_dropout", cfg.dropout},
         {"target_modules", cfg.target_modules}, {"bias", "none"}, {"task_type", "CAUSAL_LM"}, {"fan_in_fan_out", fan_in_fan_out},
         {"base_model_name_or_path", base_model}, {"inference_mode", true}};
  write_json(dir / "adapter_config.json", c);
}

/// Loads PEFT adapter weights into adapters already attached (resuming a run).
inline void load_lora_weights(torch::nn::Module& model, const std::filesystem::path& dir) {
  const hf::Checkpoint ckpt(dir / "adapter_model.safetensors");
  torch::NoGradGuard g;
  for (auto& p : model.named_parameters(true)) {
    if (p.key().find(".lora_A.") == std::string::npos && p.key().find(".lora_B.") == std::string::npos) continue;
    // PEFT files may carry the adapter name (".lora_A.default.weight") or not.
    std::string key = "base_model.model." + p.key();
    const hf::TensorView* v = ckpt.find(key);
    if (!v) {
      std::string with_default = key;
      with_default.replace(with_default.rfind(".weight"), 7, ".default.weight");
      v = ckpt.find(with_default);
    }
    if (!v) throw Error({ckpt.source(), {}, {}, "tensor '" + key + "'"}, "missing from the adapter");
    if (v->shape != p.value().sizes().vec()) throw Error({ckpt.source(), {}, {}, "tensor '" + key + "'"}, "shape does not match the adapter rank / layer");
    p.value().copy_(hf::to_torch(*v).to(p.value().scalar_type()));
  }
}

/// Reads a PEFT LoRA folder: applies its config to `model` and loads the adapter weights.
inline LoraConfig load_lora(torch::nn::Module& model, const std::filesystem::path& dir) {
  const Json c = read_json(dir / "adapter_config.json");
  const std::string file = (dir / "adapter_config.json").string();
  if (c.value("peft_type", std::string("LORA")) != "LORA") throw Error({file, {}, {}, "peft_type"}, "not a LoRA adapter");
  LoraConfig cfg;
  cfg.r = json_get<std::int64_t>(c, "r", file, "adapter config");
  cfg.alpha = json_get<double>(c, "lora_alpha", file, "adapter config");
  cfg.dropout = c.value("lora_dropout", 0.0);
  if (c.contains("target_modules") && c["target_modules"].is_array()) cfg.target_modules = c["target_modules"].get<std::vector<std::string>>();
  else if (c.contains("target_modules") && c["target_modules"].is_string()) cfg.target_modules = {c["target_modules"].get<std::string>()};
  apply_lora(model, cfg);
  load_lora_weights(model, dir);
  return cfg;
}

}  // namespace ecgbench::models
