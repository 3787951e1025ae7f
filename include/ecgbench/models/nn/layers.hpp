// Building blocks shared by every Hugging Face model port: a linear layer that can carry a LoRA
// adapter (Hugging Face `nn.Linear` or GPT-2's transposed `Conv1D` layout), RMSNorm in the Llama and
// Gemma variants, activations by their config names, rotary embeddings, attention masks, KV cache.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/torch_compat.hpp"
#include "ecgbench/models/nn/attention_kernel.hpp"
#include "ecgbench/models/hf/config.hpp"

namespace ecgbench::models {

/// A linear map with Hugging Face parameter names (`weight`, `bias`). `transposed` stores the weight
/// as [in, out] (GPT-2's Conv1D). A LoRA adapter (`lora_A` [r, in], `lora_B` [out, r]) can be
/// attached, merged into the weight and unmerged again.
class AdaptableLinearImpl : public torch::nn::Module {
 public:
  AdaptableLinearImpl(std::int64_t in, std::int64_t out, bool bias, bool transposed = false)
      : in_(in), out_(out), transposed_(transposed) {
    weight = register_parameter("weight", transposed ? torch::empty({in, out}) : torch::empty({out, in}));
    torch::nn::init::normal_(weight, 0.0, 0.02);
    if (bias) this->bias = register_parameter("bias", torch::zeros({out}));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = transposed_ ? (bias.defined() ? torch::addmm(bias, x.reshape({-1, in_}), weight).reshape(out_shape(x))
                                                    : torch::matmul(x, weight))
                                  : torch::nn::functional::linear(x, weight, bias);
    if (lora_A && !merged_) {
      torch::Tensor h = x;
      if (lora_dropout_ > 0 && is_training()) h = torch::dropout(h, lora_dropout_, true);
      y = y + lora_B->forward(lora_A->forward(h)) * lora_scaling_;
    }
    return y;
  }

  /// Attaches a LoRA adapter as PEFT initialises it: A Kaiming-uniform (a = sqrt 5), B zero.
  void enable_lora(std::int64_t r, double alpha, double dropout) {
    if (lora_A) throw Error("LoRA is already enabled on this layer");
    if (r <= 0) throw Error("LoRA rank must be positive");
    lora_A = register_module("lora_A", torch::nn::Linear(torch::nn::LinearOptions(in_, r).bias(false)));
    lora_B = register_module("lora_B", torch::nn::Linear(torch::nn::LinearOptions(r, out_).bias(false)));
    torch::nn::init::kaiming_uniform_(lora_A->weight, std::sqrt(5.0));
    torch::nn::init::zeros_(lora_B->weight);
    lora_A->to(weight.device(), weight.scalar_type());
    lora_B->to(weight.device(), weight.scalar_type());
    lora_scaling_ = alpha / static_cast<double>(r);
    lora_dropout_ = dropout;
  }
  [[nodiscard]] bool has_lora() const { return static_cast<bool>(lora_A); }
  [[nodiscard]] bool merged() const { return merged_; }
  /// W += scaling * B A (in the stored layout); the adapter is then skipped in forward.
  void merge() {
    if (!lora_A || merged_) return;
    torch::NoGradGuard g;
    weight.add_(delta());
    merged_ = true;
  }
  void unmerge() {
    if (!lora_A || !merged_) return;
    torch::NoGradGuard g;
    weight.sub_(delta());
    merged_ = false;
  }
  [[nodiscard]] bool transposed() const { return transposed_; }
  [[nodiscard]] std::int64_t in_features() const { return in_; }
  [[nodiscard]] std::int64_t out_features() const { return out_; }

  torch::Tensor weight, bias;
  torch::nn::Linear lora_A{nullptr}, lora_B{nullptr};

 private:
  [[nodiscard]] torch::Tensor delta() const {
    const torch::Tensor d = torch::matmul(lora_B->weight, lora_A->weight) * lora_scaling_;  // [out, in]
    return transposed_ ? d.t() : d;
  }
  [[nodiscard]] std::vector<std::int64_t> out_shape(const torch::Tensor& x) const {
    auto s = x.sizes().vec();
    s.back() = out_;
    return s;
  }
  std::int64_t in_, out_;
  bool transposed_;
  double lora_scaling_ = 1.0, lora_dropout_ = 0.0;
  bool merged_ = false;
};
TORCH_MODULE(AdaptableLinear);

/// Llama RMSNorm: w * x / sqrt(mean(x^2) + eps), computed in float32. Gemma: x (1 + w).
class RmsNormImpl : public torch::nn::Module {
 public:
  RmsNormImpl(std::int64_t dim, double eps, bool one_plus_weight = false) : eps_(eps), one_plus_(one_plus_weight) {
    weight = register_parameter("weight", one_plus_weight ? torch::zeros({dim}) : torch::ones({dim}));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const auto dtype = x.scalar_type();
    torch::Tensor h = x.to(torch::kFloat32);
    h = h * torch::rsqrt(h.pow(2).mean(-1, true) + eps_);
    if (one_plus_) return (h * (1.0 + weight.to(torch::kFloat32))).to(dtype);
    return weight * h.to(dtype);
  }
  torch::Tensor weight;

 private:
  double eps_;
  bool one_plus_;
};
TORCH_MODULE(RmsNorm);

/// Activations by their Hugging Face config names.
inline torch::Tensor activation(const std::string& name, const torch::Tensor& x) {
  if (name == "silu" || name == "swish") return torch::silu(x);
  if (name == "gelu") return torch::gelu(x);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast")  // tanh approximation
    return 0.5 * x * (1.0 + torch::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * torch::pow(x, 3.0))));
  if (name == "quick_gelu") return x * torch::sigmoid(1.702 * x);
  if (name == "relu") return torch::relu(x);
  if (name == "tanh") return torch::tanh(x);
  throw Error("unsupported activation '" + name + "'");
}

/// Per-layer keys and values of earlier steps ([B, kv_heads, S, head_dim] each).
struct KvCache {
  std::vector<torch::Tensor> keys, values;
  [[nodiscard]] std::int64_t length() const { return keys.empty() || !keys[0].defined() ? 0 : keys[0].size(2); }
  void resize(std::size_t layers) {
    keys.resize(layers);
    values.resize(layers);
  }
  /// Appends this step's k/v for `layer` and returns the full k/v.
  std::pair<torch::Tensor, torch::Tensor> update(std::size_t layer, const torch::Tensor& k, const torch::Tensor& v) {
    if (keys.size() <= layer) resize(layer + 1);
    keys[layer] = keys[layer].defined() ? torch::cat({keys[layer], k}, 2) : k;
    values[layer] = values[layer].defined() ? torch::cat({values[layer], v}, 2) : v;
    return {keys[layer], values[layer]};
  }
  /// Keeps the rows `index` (beam search reorders hypotheses).
  void select(const torch::Tensor& index) {
    for (auto& k : keys) if (k.defined()) k = k.index_select(0, index);
    for (auto& v : values) if (v.defined()) v = v.index_select(0, index);
  }
};

/// torch.finfo(dtype).min: what Hugging Face writes into blocked mask entries (float32's would
/// overflow bfloat16 and float16).
inline double lowest_value(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat64: return std::numeric_limits<double>::lowest();
    case torch::kBFloat16: return static_cast<double>(static_cast<float>(std::numeric_limits<c10::BFloat16>::lowest()));
    case torch::kHalf: return -65504.0;
    default: return std::numeric_limits<float>::lowest();
  }
}

/// Additive attention mask [B, 1, T, S] for a causal decoder: query i (absolute position past + i)
/// sees key j iff mask[b, j] = 1, j <= past + i and, with a window w, j > past + i - w. Blocked
/// entries hold the dtype's lowest value (as Hugging Face does, so fully blocked rows stay finite).
inline torch::Tensor causal_mask(const torch::Tensor& attention_mask, std::int64_t batch, std::int64_t q_len, std::int64_t past,
                                 std::optional<std::int64_t> window, torch::ScalarType dtype, torch::Device device) {
  const std::int64_t s = past + q_len;
  auto opts = torch::TensorOptions().device(device).dtype(torch::kLong);
  const torch::Tensor qpos = torch::arange(past, s, opts).view({q_len, 1});
  const torch::Tensor kpos = torch::arange(0, s, opts).view({1, s});
  torch::Tensor allowed = kpos <= qpos;
  if (window) allowed = allowed & (kpos > qpos - *window);
  allowed = allowed.view({1, 1, q_len, s}).expand({batch, 1, q_len, s});
  if (attention_mask.defined()) allowed = allowed & (attention_mask.to(device).view({batch, 1, 1, s}) != 0);
  const double lowest = lowest_value(dtype);
  return torch::zeros({batch, 1, q_len, s}, torch::TensorOptions().device(device).dtype(dtype)).masked_fill(allowed.logical_not(), lowest);
}

/// Bidirectional padding mask [B, 1, 1, S] for encoders (BERT-style: blocked keys get the lowest value).
inline torch::Tensor padding_mask(const torch::Tensor& attention_mask, torch::ScalarType dtype) {
  const double lowest = lowest_value(dtype);
  const auto m = attention_mask.view({attention_mask.size(0), 1, 1, attention_mask.size(1)});
  return torch::zeros(m.sizes(), torch::TensorOptions().device(m.device()).dtype(dtype)).masked_fill(m == 0, lowest);
}

/// Position ids as Hugging Face's generate() makes them: cumsum(mask) - 1 with pads set to 1,
/// the last `q_len` columns.
inline torch::Tensor positions_from_mask(const torch::Tensor& attention_mask, std::int64_t q_len) {
  torch::Tensor pos = attention_mask.to(torch::kLong).cumsum(-1) - 1;
  pos.masked_fill_(attention_mask == 0, 1);
  return pos.narrow(1, pos.size(1) - q_len, q_len);
}

/// Multi-head scaled dot-product attention, eager as Hugging Face computes it: scores in the model
/// dtype, optional soft-capping tanh(s / c) c, additive mask, softmax in float32.
inline torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask,
                            double scale, std::optional<double> softcap = std::nullopt, double dropout = 0.0, bool training = false) {
  torch::Tensor scores = torch::matmul(q, k.transpose(2, 3)) * scale;
  if (softcap) scores = torch::tanh(scores / *softcap) * *softcap;
  if (mask.defined()) scores = scores + mask;
  // float32 softmax as transformers does; float64 models keep float64 (their mask's lowest value is
  // -inf in float32, which would turn fully masked padding rows into NaN).
  torch::Tensor p = torch::softmax(scores, -1, q.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32).to(q.scalar_type());
  if (dropout > 0 && training) p = torch::dropout(p, dropout, true);
  return torch::matmul(p, v);
}

/// Refuses an explicit sdpa this LibTorch cannot run (auto falls back to eager instead).
inline void require_attention_kernel(AttentionKernel k) {
  if (k == AttentionKernel::sdpa && !compat::sdpa_available())
    throw Error(std::string("attention 'sdpa' needs LibTorch >= 2.1 (this build: ") + TORCH_VERSION + "); use eager or auto");
}
/// Whether a layer runs SDPA (soft-capped scores have no SDPA form: eager).
inline bool uses_sdpa(AttentionKernel k, bool softcap) { return !softcap && compat::sdpa_available() && k != AttentionKernel::eager; }

/// [B, kv_heads, S, D] -> [B, kv_heads * groups, S, D] (grouped-query attention).
inline torch::Tensor repeat_kv(const torch::Tensor& x, std::int64_t groups) {
  if (groups == 1) return x;
  const auto b = x.size(0), h = x.size(1), s = x.size(2), d = x.size(3);
  return x.unsqueeze(2).expand({b, h, groups, s, d}).reshape({b, h * groups, s, d});
}

/// SDPA with grouped-query heads: SDPA's own `enable_gqa` where it has it (2.5), else k and v expanded.
inline torch::Tensor attend_sdpa(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask, bool is_causal,
                                 double scale, std::int64_t groups) {
  if (groups == 1 || compat::sdpa_gqa_available()) return compat::sdpa(q, k, v, mask, is_causal, scale, groups > 1);
  return compat::sdpa(q, repeat_kv(k, groups), repeat_kv(v, groups), mask, is_causal, scale);
}

}  // namespace ecgbench::models
