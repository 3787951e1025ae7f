// Run-time choice of a causal LM from a checkpoint folder's config.json (architectures /
// model_type), for apps and tools. Static compositions use the concrete classes directly.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>
#include <variant>

#include "ecgbench/core/log.hpp"
#include "ecgbench/models/hf/checkpoint.hpp"
#include "ecgbench/models/llm/gpt2.hpp"
#include "ecgbench/models/llm/language_model.hpp"
#include "ecgbench/models/llm/llama.hpp"
#include "ecgbench/models/llm/opt.hpp"

namespace ecgbench::models {

/// One of the supported causal LMs. Satisfies `CausalLm` through `->`.
class AnyCausalLm {
 public:
  using Variant = std::variant<LlamaForCausalLm, Gpt2LmHeadModel, OptForCausalLm>;
  explicit AnyCausalLm(Variant v) : v_(std::move(v)) {}

  AnyCausalLm* operator->() { return this; }
  const AnyCausalLm* operator->() const { return this; }

  torch::Tensor embed(const torch::Tensor& ids) { return std::visit([&](auto& m) { return m->embed(ids); }, v_); }
  LmOutput forward(const LmInputs& in) { return std::visit([&](auto& m) { return m->forward(in); }, v_); }
  [[nodiscard]] std::int64_t hidden_size() const { return std::visit([](auto& m) { return m->hidden_size(); }, v_); }
  [[nodiscard]] std::int64_t vocab_size() const { return std::visit([](auto& m) { return m->vocab_size(); }, v_); }
  [[nodiscard]] std::int64_t num_layers() const { return std::visit([](auto& m) { return m->num_layers(); }, v_); }
  void resize_token_embeddings(std::int64_t n) { std::visit([&](auto& m) { m->resize_token_embeddings(n); }, v_); }
  void set_attention(AttentionKernel k) { std::visit([&](auto& m) { m->set_attention(k); }, v_); }
  [[nodiscard]] torch::nn::Module& module() { return std::visit([](auto& m) -> torch::nn::Module& { return *m; }, v_); }
  [[nodiscard]] std::string base_model_prefix() const { return std::visit([](auto& m) { return m->base_model_prefix(); }, v_); }
  [[nodiscard]] const Variant& variant() const { return v_; }

 private:
  Variant v_;
};

inline AnyCausalLm make_causal_lm(const hf::ModelConfig& c) {
  const std::string arch = c.architecture(), type = c.get<std::string>("model_type", "");
  if (arch == "LlamaForCausalLM" || arch == "Qwen2ForCausalLM" || arch == "Gemma2ForCausalLM" || arch == "MistralForCausalLM" ||
      type == "llama" || type == "qwen2" || type == "gemma2")
    return AnyCausalLm(LlamaForCausalLm(LlamaOptions::from_config(c)));
  if (arch == "GPT2LMHeadModel" || type == "gpt2") return AnyCausalLm(Gpt2LmHeadModel(Gpt2Options::from_config(c)));
  if (arch == "OPTForCausalLM" || type == "opt") return AnyCausalLm(OptForCausalLm(OptOptions::from_config(c)));
  throw Error({c.file, {}, {}, "architectures"}, "unsupported architecture '" + arch + "' (supported: LlamaForCausalLM, "
              "Qwen2ForCausalLM, Gemma2ForCausalLM, GPT2LMHeadModel, OPTForCausalLM)");
}

/// Builds the model of `dir`/config.json and loads its weights (float32 on CPU unless told otherwise),
/// in evaluation mode. Unused checkpoint tensors other than known buffers are reported as a warning.
inline AnyCausalLm load_causal_lm(const std::filesystem::path& dir, torch::ScalarType dtype = torch::kFloat32,
                                  torch::Device device = torch::kCPU) {
  const auto config = hf::ModelConfig::load(dir);
  AnyCausalLm lm = make_causal_lm(config);
  lm.module().to(dtype);
  const hf::Checkpoint ckpt(dir);
  const auto report = hf::load_state(lm.module(), ckpt, lm.base_model_prefix());
  std::size_t unexpected = 0;
  std::string first;
  for (const auto& name : report.unused) {
    const bool buffer = name.find("attn.bias") != std::string::npos || name.find("attn.masked_bias") != std::string::npos ||
                        name.find("rotary_emb.inv_freq") != std::string::npos || name == "lm_head.weight";
    if (!buffer && unexpected++ == 0) first = name;
  }
  if (unexpected) log::warn(ckpt.source() + ": " + std::to_string(unexpected) + " checkpoint tensors are not used by the model (first: '" + first + "')");
  lm.module().to(device);
  lm.module().eval();
  return lm;
}

}  // namespace ecgbench::models
