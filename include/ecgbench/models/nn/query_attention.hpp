// nn.MultiheadAttention for a few queries over a sequence (attention pooling: MERL's AttentionPool,
// SigLIP's probe head), computed from the module's packed weights as Python's torch 1.13
// F.multi_head_attention_forward does (q / sqrt(head_dim)). Not LibTorch's MultiheadAttention
// forward: it compares query, key and value with torch::equal, a host synchronisation on a GPU.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <utility>

namespace ecgbench::models {

/// `query` [B, Q, E] attends over `x` [B, S, E] with `heads` heads; `in_proj_weight` [3E, E] and
/// `in_proj_bias` [3E] as nn.MultiheadAttention packs them. Returns the heads' output [B, Q, E]
/// before out_proj, and the attention weights [B, heads, Q, S].
inline std::pair<torch::Tensor, torch::Tensor> query_attention(const torch::Tensor& query, const torch::Tensor& x, const torch::Tensor& in_proj_weight,
                                                               const torch::Tensor& in_proj_bias, std::int64_t heads) {
  namespace F = torch::nn::functional;
  const auto b = x.size(0), s = x.size(1), e = x.size(2), nq = query.size(1), hd = e / heads;
  const auto w = in_proj_weight.chunk(3, 0), bias = in_proj_bias.chunk(3, 0);
  const torch::Tensor q = F::linear(query, w[0], bias[0]).view({b, nq, heads, hd}).transpose(1, 2);
  const torch::Tensor k = F::linear(x, w[1], bias[1]).view({b, s, heads, hd}).transpose(1, 2);
  const torch::Tensor v = F::linear(x, w[2], bias[2]).view({b, s, heads, hd}).transpose(1, 2);
  const torch::Tensor attn = torch::softmax(torch::matmul(q / std::sqrt(static_cast<double>(hd)), k.transpose(-2, -1)), -1);  // [B, h, Q, S]
  return {torch::matmul(attn, v).transpose(1, 2).reshape({b, nq, e}), attn};
}

}  // namespace ecgbench::models
