// BERT (BertModel) and RoBERTa (RobertaModel) text encoders with Hugging Face parameter names, for
// BERTScore and text-side models. RoBERTa differs in its position ids: padding_idx + cumsum over
// non-pad tokens, derived from input_ids.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "ecgbench/models/hf/checkpoint.hpp"
#include "ecgbench/models/config/bert_options.hpp"
#include "ecgbench/models/nn/layers.hpp"
#include "ecgbench/models/vision/vision_towers.hpp"  // EncoderOutput, Dense, split/merge heads

namespace ecgbench::models {


inline torch::nn::LayerNorm bert_layer_norm(const BertOptions& o) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden_size}).eps(o.layer_norm_eps));
}

class BertEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit BertEmbeddingsImpl(const BertOptions& o) {
    word_embeddings = register_module("word_embeddings", torch::nn::Embedding(o.vocab_size, o.hidden_size));
    position_embeddings = register_module("position_embeddings", torch::nn::Embedding(o.max_position_embeddings, o.hidden_size));
    token_type_embeddings = register_module("token_type_embeddings", torch::nn::Embedding(o.type_vocab_size, o.hidden_size));
    LayerNorm = register_module("LayerNorm", bert_layer_norm(o));
  }
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // NOLINT: the checkpoint's name
};
TORCH_MODULE(BertEmbeddings);

class BertSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit BertSelfAttentionImpl(const BertOptions& o) : heads_(o.num_heads) {
    query = register_module("query", AdaptableLinear(o.hidden_size, o.hidden_size, true));
    key = register_module("key", AdaptableLinear(o.hidden_size, o.hidden_size, true));
    value = register_module("value", AdaptableLinear(o.hidden_size, o.hidden_size, true));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) {
    const double scale = 1.0 / std::sqrt(static_cast<double>(x.size(2) / heads_));
    return merge_heads(attend(split_heads(query->forward(x), heads_), split_heads(key->forward(x), heads_), split_heads(value->forward(x), heads_),
                              mask, scale));
  }
  AdaptableLinear query{nullptr}, key{nullptr}, value{nullptr};

 private:
  std::int64_t heads_;
};
TORCH_MODULE(BertSelfAttention);

class BertOutputImpl : public torch::nn::Module {  // dense + LayerNorm(residual)
 public:
  BertOutputImpl(std::int64_t in, const BertOptions& o) {
    dense = register_module("dense", AdaptableLinear(in, o.hidden_size, true));
    LayerNorm = register_module("LayerNorm", bert_layer_norm(o));
  }
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& residual) { return LayerNorm->forward(dense->forward(h) + residual); }
  AdaptableLinear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // NOLINT
};
TORCH_MODULE(BertOutput);

class BertAttentionImpl : public torch::nn::Module {
 public:
  explicit BertAttentionImpl(const BertOptions& o) {
    self = register_module("self", BertSelfAttention(o));
    output = register_module("output", BertOutput(o.hidden_size, o));
  }
  BertSelfAttention self{nullptr};
  BertOutput output{nullptr};
};
TORCH_MODULE(BertAttention);

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertOptions& o) : act_(o.hidden_act) {
    attention = register_module("attention", BertAttention(o));
    intermediate = register_module("intermediate", Dense(o.hidden_size, o.intermediate_size));
    output = register_module("output", BertOutput(o.intermediate_size, o));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) {
    const torch::Tensor a = attention->output->forward(attention->self->forward(x, mask), x);
    return output->forward(activation(act_, intermediate->dense->forward(a)), a);
  }
  BertAttention attention{nullptr};
  Dense intermediate{nullptr};
  BertOutput output{nullptr};

 private:
  std::string act_;
};
TORCH_MODULE(BertLayer);

class BertEncoderImpl : public torch::nn::Module {
 public:
  explicit BertEncoderImpl(const BertOptions& o) {
    layer = register_module("layer", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < o.num_layers; ++i) layer->push_back(BertLayer(o));
  }
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(BertEncoder);

/// BertModel / RobertaModel: last hidden state, pooler tanh(dense(CLS)), all hidden states.
class BertModelImpl : public torch::nn::Module {
 public:
  explicit BertModelImpl(BertOptions o) : o_(std::move(o)) {
    embeddings = register_module("embeddings", BertEmbeddings(o_));
    encoder = register_module("encoder", BertEncoder(o_));
    pooler = register_module("pooler", Dense(o_.hidden_size, o_.hidden_size));
  }
  /// `attention_mask` default ones; `token_type_ids` default zeros; positions as each model defines them.
  EncoderOutput encode(const torch::Tensor& input_ids, torch::Tensor attention_mask = {}, torch::Tensor token_type_ids = {},
                       bool output_hidden_states = false) {
    if (input_ids.dim() != 2) throw Error("input_ids must be [batch, tokens]");
    const auto b = input_ids.size(0), t = input_ids.size(1);
    if (t > o_.max_position_embeddings - (o_.roberta() ? o_.pad_token_id + 1 : 0))
      throw Error(std::to_string(t) + " tokens exceed max_position_embeddings of this model");
    const auto dev = embeddings->word_embeddings->weight.device();
    const auto ids = input_ids.to(dev).to(torch::kLong);
    if (!attention_mask.defined()) attention_mask = torch::ones({b, t}, torch::TensorOptions().dtype(torch::kLong).device(dev));
    if (!token_type_ids.defined()) token_type_ids = torch::zeros({b, t}, torch::TensorOptions().dtype(torch::kLong).device(dev));
    torch::Tensor pos;
    if (o_.roberta()) {
      const torch::Tensor not_pad = (ids != o_.pad_token_id).to(torch::kLong);
      pos = not_pad.cumsum(1) * not_pad + o_.pad_token_id;
    } else {
      pos = torch::arange(t, torch::TensorOptions().dtype(torch::kLong).device(dev)).unsqueeze(0).expand({b, t});
    }
    auto& e = *embeddings;
    torch::Tensor h = e.word_embeddings->forward(ids) + e.token_type_embeddings->forward(token_type_ids.to(dev).to(torch::kLong)) +
                      e.position_embeddings->forward(pos);
    h = e.LayerNorm->forward(h);
    const torch::Tensor mask = padding_mask(attention_mask.to(dev), h.scalar_type());
    EncoderOutput out;
    for (std::size_t i = 0; i < encoder->layer->size(); ++i) {
      if (output_hidden_states) out.hidden_states.push_back(h);
      h = encoder->layer->at<BertLayerImpl>(i).forward(h, mask);
    }
    if (output_hidden_states) out.hidden_states.push_back(h);
    out.last_hidden_state = h;
    out.pooler_output = torch::tanh(pooler->dense->forward(h.select(1, 0)));
    return out;
  }
  [[nodiscard]] std::int64_t hidden_size() const { return o_.hidden_size; }
  [[nodiscard]] std::int64_t num_layers() const { return o_.num_layers; }
  [[nodiscard]] std::string base_model_prefix() const { return o_.roberta() ? "roberta" : "bert"; }
  [[nodiscard]] const BertOptions& options() const { return o_; }

  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
  Dense pooler{nullptr};

 private:
  BertOptions o_;
};
TORCH_MODULE(BertModel);

}  // namespace ecgbench::models
