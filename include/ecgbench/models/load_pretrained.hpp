// The typed loader beside the run-time `AnyCausalLm`: `load_pretrained<LlamaForCausalLm>(dir)`
// builds the class a static composition names from config.json and loads its weights, refusing a
// checkpoint of another architecture with the valid choices.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "ecgbench/models/hf/checkpoint.hpp"
#include "ecgbench/models/llm/gpt2.hpp"
#include "ecgbench/models/llm/llama.hpp"
#include "ecgbench/models/llm/opt.hpp"

namespace ecgbench::models {

/// The LLM family a config belongs to (which static class loads it).
inline std::string llm_family(const hf::ModelConfig& c) {
  const std::string a = c.architecture(), t = c.get<std::string>("model_type", "");
  if (a == "LlamaForCausalLM" || a == "Qwen2ForCausalLM" || a == "Gemma2ForCausalLM" || a == "MistralForCausalLM" || t == "llama" || t == "qwen2" || t == "gemma2")
    return "llama";
  if (a == "GPT2LMHeadModel" || t == "gpt2") return "gpt2";
  if (a == "OPTForCausalLM" || t == "opt") return "opt";
  throw Error({c.file, {}, {}, "architectures"}, "unsupported LLM architecture '" + a + "' (Llama 3, Qwen 2.5, Gemma 2, GPT-2, OPT)");
}

template <class M>
M load_pretrained(const std::filesystem::path& dir, torch::ScalarType dtype = torch::kFloat32, torch::Device device = torch::kCPU) {
  const auto c = hf::ModelConfig::load(dir);
  const std::string family = llm_family(c);
  M m{nullptr};
  if constexpr (std::is_same_v<M, LlamaForCausalLm>) {
    if (family != "llama") throw Error({c.file, {}, {}, "architectures"}, "this composition needs a Llama-family checkpoint (Llama, Qwen 2.5, Gemma 2), got " + family);
    m = LlamaForCausalLm(LlamaOptions::from_config(c));
  } else if constexpr (std::is_same_v<M, Gpt2LmHeadModel>) {
    if (family != "gpt2") throw Error({c.file, {}, {}, "architectures"}, "this composition needs a GPT-2 checkpoint, got " + family);
    m = Gpt2LmHeadModel(Gpt2Options::from_config(c));
  } else if constexpr (std::is_same_v<M, OptForCausalLm>) {
    if (family != "opt") throw Error({c.file, {}, {}, "architectures"}, "this composition needs an OPT checkpoint, got " + family);
    m = OptForCausalLm(OptOptions::from_config(c));
  } else {
    static_assert(sizeof(M) == 0, "load_pretrained: unsupported model class");
  }
  m->to(dtype);
  const hf::Checkpoint ckpt(dir);
  hf::load_state(*m, ckpt, m->base_model_prefix());
  m->to(device);
  m->eval();
  return m;
}

/// Adds rows for new tokens as transformers' `resize_token_embeddings(mean_resizing=True)`: each
/// new row ~ N(mean, 1e-9 Cov) of the old rows (the mean itself when Cov is not positive definite),
/// drawn with torch's generator; untied output rows likewise.
template <class M>
void resize_token_embeddings_mean(M& m, std::int64_t n) {
  torch::NoGradGuard g;
  torch::Tensor& table = m->input_embeddings();
  const auto old = table.size(0);
  if (n <= old) {
    m->resize_token_embeddings(n);
    return;
  }
  auto new_rows = [&](const torch::Tensor& w) {
    const torch::Tensor x = w.to(torch::kFloat64);
    const torch::Tensor mean = x.mean(0);
    const torch::Tensor centered = x - mean;
    const torch::Tensor cov = centered.t().matmul(centered) / static_cast<double>(x.size(0));
    torch::Tensor rows = mean.unsqueeze(0).expand({n - old, x.size(1)}).clone();
    const auto chol = torch::linalg_cholesky_ex(1e-9 * cov);
    if (std::get<1>(chol).item<int>() == 0)
      rows = rows + torch::randn({n - old, x.size(1)}, torch::kFloat64).matmul(std::get<0>(chol).t());
    return rows.to(w.scalar_type());
  };
  const torch::Tensor add_in = new_rows(table);
  torch::Tensor add_out;
  const bool untied = [&] {
    if constexpr (requires { m->lm_head; }) return static_cast<bool>(m->lm_head);
    else return false;
  }();
  if constexpr (requires { m->lm_head->weight; })
    if (untied) add_out = new_rows(m->lm_head->weight);
  m->resize_token_embeddings(n);
  m->input_embeddings().narrow(0, old, n - old).copy_(add_in);
  if constexpr (requires { m->lm_head->weight; })
    if (untied) m->lm_head->weight.narrow(0, old, n - old).copy_(add_out);
}

}  // namespace ecgbench::models
