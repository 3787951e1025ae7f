// The transformer block of upstream's ECG encoders (ST-MEM's `TransformerBlock`, shared by MTAE and
// MLAE): pre-norm attention and feed-forward with residuals and drop-path, q/k/v from one Linear with
// bias, `dim_head` 64 whatever the width, exact (erf) GELU. Parameter names are upstream's
// (`attn.norm`, `attn.fn.to_qkv`, `attn.fn.to_out.0`, `ff.fn.net.0`, `ff.fn.net.3`), so upstream
// state dicts load 1:1. Also the fixed 1-D sin-cos position tables with SEP / CLS slots.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <string>

#include "ecgbench/core/error.hpp"

namespace ecgbench::models::encoders {

struct VitBlockOptions {
  std::int64_t dim = 768, hidden = 3072, heads = 12, dim_head = 64;
  bool qkv_bias = true;
  double dropout = 0.0, attn_dropout = 0.0, drop_path = 0.0, norm_eps = 1e-5;
};

/// Multi-head self-attention with upstream's layout: `to_qkv` [3 h d, dim], `to_out` = (Linear, Dropout),
/// or no output projection when one head already has the model width.
class EncoderAttentionImpl : public torch::nn::Module {
 public:
  explicit EncoderAttentionImpl(const VitBlockOptions& o) : heads_(o.heads), dim_head_(o.dim_head), attn_dropout_(o.attn_dropout) {
    const auto inner = o.heads * o.dim_head;
    to_qkv = register_module("to_qkv", torch::nn::Linear(torch::nn::LinearOptions(o.dim, inner * 3).bias(o.qkv_bias)));
    if (!(o.heads == 1 && o.dim_head == o.dim))
      to_out = register_module("to_out", torch::nn::Sequential(torch::nn::Linear(inner, o.dim), torch::nn::Dropout(o.dropout)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const auto b = x.size(0), n = x.size(1);
    // [B, N, 3 h d] -> q, k, v [B, h, N, d] ("b n (h d) -> b h n d" per chunk)
    const auto qkv = to_qkv->forward(x).view({b, n, 3, heads_, dim_head_}).permute({2, 0, 3, 1, 4});
    const torch::Tensor q = qkv[0], k = qkv[1], v = qkv[2];
    torch::Tensor attn = torch::softmax(torch::matmul(q, k.transpose(-1, -2)) * std::pow(static_cast<double>(dim_head_), -0.5), -1);
    if (attn_dropout_ > 0 && is_training()) attn = torch::dropout(attn, attn_dropout_, true);
    torch::Tensor out = torch::matmul(attn, v).transpose(1, 2).reshape({b, n, heads_ * dim_head_});
    return to_out ? to_out->forward(out) : out;
  }
  torch::nn::Linear to_qkv{nullptr};
  torch::nn::Sequential to_out{nullptr};

 private:
  std::int64_t heads_, dim_head_;
  double attn_dropout_;
};
TORCH_MODULE(EncoderAttention);

/// Linear -> GELU -> Dropout -> Linear -> Dropout, upstream's `FeedForward.net`.
class EncoderFeedForwardImpl : public torch::nn::Module {
 public:
  explicit EncoderFeedForwardImpl(const VitBlockOptions& o) {
    net = register_module("net", torch::nn::Sequential(torch::nn::Linear(o.dim, o.hidden), torch::nn::GELU(), torch::nn::Dropout(o.dropout),
                                                        torch::nn::Linear(o.hidden, o.dim), torch::nn::Dropout(o.dropout)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return net->forward(x); }
  torch::nn::Sequential net{nullptr};
};
TORCH_MODULE(EncoderFeedForward);

/// `PreNorm(dim, fn)`: fn(LayerNorm(x)).
template <class Fn>
class PreNormImpl : public torch::nn::Module {
 public:
  PreNormImpl(const VitBlockOptions& o) {
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.dim}).eps(o.norm_eps)));
    fn = register_module("fn", Fn(o));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fn->forward(norm->forward(x)); }
  torch::nn::LayerNorm norm{nullptr};
  Fn fn{nullptr};
};
class PreNormAttention : public torch::nn::ModuleHolder<PreNormImpl<EncoderAttention>> {
 public:
  using torch::nn::ModuleHolder<PreNormImpl<EncoderAttention>>::ModuleHolder;
};
class PreNormFeedForward : public torch::nn::ModuleHolder<PreNormImpl<EncoderFeedForward>> {
 public:
  using torch::nn::ModuleHolder<PreNormImpl<EncoderFeedForward>>::ModuleHolder;
};

/// Stochastic depth: each sample's residual branch is dropped with probability p in training and the
/// kept ones scaled by 1 / (1 - p) (timm's DropPath).
inline torch::Tensor drop_path(const torch::Tensor& x, double p, bool training) {
  if (p <= 0 || !training) return x;
  std::vector<std::int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[0] = x.size(0);
  const torch::Tensor keep = torch::empty(shape, x.options()).bernoulli_(1.0 - p);
  return x * keep / (1.0 - p);
}

/// x += DropPath(Attn(LN(x))); x += DropPath(FF(LN(x))).
class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const VitBlockOptions& o) : drop_path_(o.drop_path) {
    attn = register_module("attn", PreNormAttention(o));
    ff = register_module("ff", PreNormFeedForward(o));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = drop_path(attn->forward(x), drop_path_, is_training()) + x;
    return drop_path(ff->forward(x), drop_path_, is_training()) + x;
  }
  PreNormAttention attn{nullptr};
  PreNormFeedForward ff{nullptr};

 private:
  double drop_path_;
};
TORCH_MODULE(TransformerBlock);

/// Upstream's `get_1d_sincos_pos_embed(dim, n)`: rows [sin(p w), cos(p w)] with w_i = 1e4^(-i / (dim/2)),
/// computed in float32 as torch does; `sep` adds a zero row before and after, `cls` one before.
inline torch::Tensor sincos_position_table(std::int64_t dim, std::int64_t n, bool sep, bool cls) {
  if (dim % 2) throw Error("sin-cos position table: the width must be even, got " + std::to_string(dim));
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  torch::Tensor omega = torch::arange(dim / 2, f32);
  omega = omega / (static_cast<double>(dim) / 2.0);
  omega = 1.0 / torch::pow(torch::tensor(10000.0f), omega);
  const torch::Tensor grid = torch::arange(n, f32).unsqueeze(1) * omega.unsqueeze(0);
  torch::Tensor table = torch::cat({grid.sin(), grid.cos()}, 1);
  const torch::Tensor zero = torch::zeros({1, dim}, f32);
  if (sep) table = torch::cat({zero, table, zero}, 0);
  else if (cls) table = torch::cat({zero, table}, 0);
  return table.unsqueeze(0);
}

/// A module that holds named 1-D parameters "0", "1", ... (upstream's `nn.ParameterList` of lead embeddings).
class ParameterRowsImpl : public torch::nn::Module {
 public:
  ParameterRowsImpl(std::int64_t count, std::int64_t dim) {
    for (std::int64_t i = 0; i < count; ++i) rows.push_back(register_parameter(std::to_string(i), torch::randn({dim}) * 0.02));
  }
  /// [count, dim]
  torch::Tensor stacked() const { return torch::stack(rows); }
  std::vector<torch::Tensor> rows;
};
TORCH_MODULE(ParameterRows);

/// MAE-style initialisation as upstream's `_init_weights`: xavier-uniform Linear weights, zero biases,
/// LayerNorm (1, 0).
inline void init_mae_weights(torch::nn::Module& m) {
  torch::NoGradGuard g;
  m.apply([](torch::nn::Module& sub) {
    if (auto* lin = sub.as<torch::nn::Linear>()) {
      torch::nn::init::xavier_uniform_(lin->weight);
      if (lin->bias.defined()) lin->bias.zero_();
    } else if (auto* ln = sub.as<torch::nn::LayerNorm>()) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    }
  });
}

}  // namespace ecgbench::models::encoders
