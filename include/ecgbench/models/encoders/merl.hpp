// MERL (Liu et al., ICML 2024) as upstream ECG-Bench runs it (elms/ecg_encoder/merl.py,
// elms/blocks/merl_blocks.py): a ResNet-1D ECG encoder; for pretraining a 1x1 down-convolution, an
// attention pool (CLIP's AttentionPool2d over the time axis, nn.MultiheadAttention's parameter
// names), two dropout views of the average-pooled features, and a text projection of a frozen text
// encoder's pooler output. Loss = CMA (ECG vs report) + UMA (view 1 vs view 2), each a symmetric
// InfoNCE with temperature 0.07, summed. Stage-2 embeddings: the ResNet output pooled to k tokens.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <vector>

#include "ecgbench/models/concepts/ecg_encoder.hpp"
#include "ecgbench/models/config/ecg_encoder_options.hpp"
#include "ecgbench/models/encoders/resnet1d.hpp"
#include "ecgbench/models/nn/query_attention.hpp"

namespace ecgbench::models::encoders {

/// Attention pooling with a learned CLS query: returns (pooled [B, 1, out], attention over the
/// positions [B, 1, L]) as upstream's `AttentionPool2d.forward` (`x.squeeze(0)` aside).
class AttentionPool1dImpl : public torch::nn::Module {
 public:
  AttentionPool1dImpl(std::int64_t spacial_dim, std::int64_t embed_dim, std::int64_t heads, std::int64_t out_dim) : heads_(heads) {
    positional_embedding = register_parameter("positional_embedding", torch::randn({1, spacial_dim + 1, embed_dim}) / static_cast<double>(embed_dim));
    cls_token = register_parameter("cls_token", torch::randn({1, 1, embed_dim}));
    mhsa = register_module("mhsa", MhaParams(embed_dim));
    c_proj = register_module("c_proj", torch::nn::Linear(embed_dim, out_dim));
  }
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x_in) {
    torch::Tensor x = x_in.permute({0, 2, 1});  // [B, C, L] -> [B, L, C]
    const auto b = x.size(0), l = x.size(1), e = x.size(2);
    if (l + 1 != positional_embedding.size(1))
      throw Error("MERL attention pool: the ResNet gives " + std::to_string(l) + " positions, the pool was built for " + std::to_string(positional_embedding.size(1) - 1) +
                  " (seq_len does not match the checkpoint's spacial_dim)");
    const torch::Tensor cls = (cls_token + positional_embedding.narrow(1, 0, 1)).expand({b, 1, e});
    x = torch::cat({cls, x}, 1) + positional_embedding.to(x.scalar_type());
    // nn.MultiheadAttention(query = x[:, :1], key = value = x), as torch 1.13 computes it.
    auto [heads_out, attn] = query_attention(x.narrow(1, 0, 1), x, mhsa->in_proj_weight, mhsa->in_proj_bias, heads_);  // attn [B, h, 1, L+1]
    const torch::Tensor out = mhsa->out_proj->forward(heads_out);
    return {c_proj->forward(out), attn.mean(1).narrow(2, 1, l)};
  }

  /// The parameters of nn.MultiheadAttention under its names.
  class MhaParamsImpl : public torch::nn::Module {
   public:
    explicit MhaParamsImpl(std::int64_t e) {
      in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * e, e}));
      torch::nn::init::xavier_uniform_(in_proj_weight);
      in_proj_bias = register_parameter("in_proj_bias", torch::zeros({3 * e}));
      out_proj = register_module("out_proj", torch::nn::Linear(e, e));
      torch::NoGradGuard g;
      out_proj->bias.zero_();
    }
    torch::Tensor in_proj_weight, in_proj_bias;
    torch::nn::Linear out_proj{nullptr};
  };
  TORCH_MODULE(MhaParams);

  torch::Tensor positional_embedding, cls_token;
  MhaParams mhsa{nullptr};
  torch::nn::Linear c_proj{nullptr};

 private:
  std::int64_t heads_;
};
TORCH_MODULE(AttentionPool1d);

/// Symmetric InfoNCE of upstream's `merl_loss`: rows L2-normalised, sim = x y^T / t,
/// CE(sim, arange) + CE(sim^T, arange).
inline torch::Tensor merl_contrastive_loss(const torch::Tensor& x, const torch::Tensor& y, double temperature) {
  namespace F = torch::nn::functional;
  const torch::Tensor xn = F::normalize(x, F::NormalizeFuncOptions().dim(-1));
  const torch::Tensor yn = F::normalize(y, F::NormalizeFuncOptions().dim(-1));
  const torch::Tensor sim = torch::matmul(xn, yn.t()) / temperature;
  const torch::Tensor labels = torch::arange(x.size(0), torch::TensorOptions().dtype(torch::kLong).device(x.device()));
  return F::cross_entropy(sim, labels) + F::cross_entropy(sim.t(), labels);
}

/// Gathers a [b, d] tensor from every rank of a data-parallel job without gradient; the rank's own
/// shard is put back so gradients flow through it (upstream's `calc_loss`). Given by the trainer.
struct ContrastiveGather {
  std::function<std::vector<torch::Tensor>(const torch::Tensor&)> all_gather;
  std::size_t rank = 0;
  [[nodiscard]] torch::Tensor operator()(const torch::Tensor& local) const {
    std::vector<torch::Tensor> parts;
    {
      torch::NoGradGuard g;
      parts = all_gather(local.detach());
    }
    if (rank >= parts.size()) throw Error("contrastive gather: rank " + std::to_string(rank) + " outside the " + std::to_string(parts.size()) + " gathered shards");
    parts[rank] = local;
    return torch::cat(parts, 0);
  }
};

struct MerlOutput {
  torch::Tensor loss, resnet_out, att_pool, att_map, ecg_emb1, ecg_emb2, proj_ecg, proj_text;
};

class MerlImpl : public torch::nn::Module {
 public:
  static constexpr EncoderInput input = EncoderInput::signal;

  /// `pretraining_head`: build the stage-1 parts (downconv, attention pool, views, text projection);
  /// stage 2 needs only the ResNet (upstream's MERLFinetune).
  explicit MerlImpl(MerlOptions o, bool pretraining_head = true) : o_(std::move(o)) {
    o_.validate();
    resnet = register_module("resnet", ResNet1d(o_.resnet));
    if (!pretraining_head) return;
    namespace nn = torch::nn;
    downconv = register_module("downconv", nn::Conv1d(nn::Conv1dOptions(o_.resnet.out_channels(), o_.proj_out, 1)));
    att_pool_head = register_module("att_pool_head", AttentionPool1d(o_.spacial_dim(), o_.proj_out, o_.att_pool_heads, o_.proj_out));
    linear1 = register_module("linear1", nn::Linear(nn::LinearOptions(o_.proj_out, o_.proj_out).bias(false)));
    linear2 = register_module("linear2", nn::Linear(nn::LinearOptions(o_.proj_out, o_.proj_out).bias(false)));
    proj_t = register_module("proj_t", nn::Sequential(nn::Linear(o_.text_dim, o_.proj_hidden), nn::GELU(), nn::Linear(o_.proj_hidden, o_.proj_out)));
  }

  /// The pretraining pass: `text_emb` [B, text_dim] is the frozen text encoder's pooler output.
  MerlOutput forward(const torch::Tensor& series, const torch::Tensor& text_emb, const ContrastiveGather* gather = nullptr) {
    namespace F = torch::nn::functional;
    if (!downconv) throw Error("MERL: this encoder was built without its pretraining head");
    check_series(series);
    if (text_emb.dim() != 2 || text_emb.size(0) != series.size(0) || text_emb.size(1) != o_.text_dim)
      throw Error("MERL: text embeddings must be [batch, " + std::to_string(o_.text_dim) + "] with the series' batch size");
    MerlOutput out;
    out.resnet_out = resnet->forward(series);
    const torch::Tensor ecg = downconv->forward(out.resnet_out);
    std::tie(out.att_pool, out.att_map) = att_pool_head->forward(ecg);
    const torch::Tensor pooled = ecg.mean(-1);  // AdaptiveAvgPool1d(1)
    const double p = is_training() ? o_.dropout : 0.0;
    out.ecg_emb1 = F::dropout(linear1->forward(pooled), F::DropoutFuncOptions().p(p).training(is_training()));
    out.ecg_emb2 = F::dropout(linear2->forward(pooled), F::DropoutFuncOptions().p(p).training(is_training()));
    out.proj_ecg = F::normalize(out.att_pool.reshape({series.size(0), -1}), F::NormalizeFuncOptions().dim(-1));
    out.proj_text = F::normalize(proj_t->forward(text_emb.to(out.proj_ecg.scalar_type()).contiguous()), F::NormalizeFuncOptions().dim(-1));
    auto all = [&](const torch::Tensor& t) { return gather ? (*gather)(t) : t; };
    out.loss = merl_contrastive_loss(all(out.proj_ecg), all(out.proj_text), o_.temperature) +
               merl_contrastive_loss(all(out.ecg_emb1), all(out.ecg_emb2), o_.temperature);
    return out;
  }
  torch::Tensor pretrain_loss(const torch::Tensor& series, const torch::Tensor& text_emb, const ContrastiveGather* gather = nullptr) {
    return forward(series, text_emb, gather).loss;
  }

  /// Stage-2 embeddings (upstream's `MERLFinetune.get_encoder_embeddings`): the ResNet output
  /// average-pooled to k tokens -> [B, k, 2048].
  torch::Tensor embed(const torch::Tensor& series, std::int64_t k = 1) {
    check_series(series);
    return torch::adaptive_avg_pool1d(resnet->forward(series), k).transpose(1, 2);
  }
  [[nodiscard]] std::int64_t embedding_dim() const { return o_.resnet.out_channels(); }
  [[nodiscard]] const MerlOptions& options() const { return o_; }
  [[nodiscard]] bool has_pretraining_head() const { return static_cast<bool>(downconv); }

  ResNet1d resnet{nullptr};
  torch::nn::Conv1d downconv{nullptr};
  AttentionPool1d att_pool_head{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::Sequential proj_t{nullptr};

 private:
  void check_series(const torch::Tensor& s) const {
    if (s.dim() != 3 || s.size(1) != o_.resnet.in_channels || s.size(2) != o_.seq_len)
      throw Error("merl: series must be [batch, " + std::to_string(o_.resnet.in_channels) + ", " + std::to_string(o_.seq_len) + "], got " + std::to_string(s.dim()) +
                  "-d input of " + std::to_string(s.dim() == 3 ? s.size(2) : 0) + " samples");
  }
  MerlOptions o_;
};
TORCH_MODULE(Merl);
static_assert(EcgEncoder<Merl>, "Merl must satisfy EcgEncoder");

}  // namespace ecgbench::models::encoders
