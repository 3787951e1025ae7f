// GPT-2 (GPT2LMHeadModel) with Hugging Face parameter names: Conv1D weights stored [in, out], learned
// positions, pre-LayerNorm blocks, lm_head tied to the token embedding.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <string>

#include "ecgbench/models/hf/checkpoint.hpp"
#include "ecgbench/models/config/gpt2_options.hpp"
#include "ecgbench/models/llm/language_model.hpp"
#include "ecgbench/models/nn/layers.hpp"

namespace ecgbench::models {


class Gpt2AttentionImpl : public torch::nn::Module {
 public:
  Gpt2AttentionImpl(const Gpt2Options& o, std::int64_t layer) : o_(o), layer_(layer) {
    c_attn = register_module("c_attn", AdaptableLinear(o.n_embd, 3 * o.n_embd, true, true));
    c_proj = register_module("c_proj", AdaptableLinear(o.n_embd, o.n_embd, true, true));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, KvCache* cache) {
    const auto b = x.size(0), t = x.size(1), d = o_.n_embd / o_.n_head;
    const auto qkv = c_attn->forward(x).split(o_.n_embd, 2);
    auto heads = [&](const torch::Tensor& y) { return y.view({b, t, o_.n_head, d}).transpose(1, 2); };
    torch::Tensor q = heads(qkv[0]), k = heads(qkv[1]), v = heads(qkv[2]);
    if (cache) std::tie(k, v) = cache->update(static_cast<std::size_t>(layer_), k, v);
    double scale = o_.scale_attn_weights ? 1.0 / std::sqrt(static_cast<double>(d)) : 1.0;
    if (o_.scale_attn_by_inverse_layer_idx) scale /= static_cast<double>(layer_ + 1);
    torch::Tensor out = attend(q, k, v, mask, scale, std::nullopt, o_.dropout, is_training());
    out = c_proj->forward(out.transpose(1, 2).reshape({b, t, o_.n_embd}));
    return is_training() ? torch::dropout(out, o_.dropout, true) : out;
  }
  AdaptableLinear c_attn{nullptr}, c_proj{nullptr};

 private:
  Gpt2Options o_;
  std::int64_t layer_;
};
TORCH_MODULE(Gpt2Attention);

class Gpt2MlpImpl : public torch::nn::Module {
 public:
  explicit Gpt2MlpImpl(const Gpt2Options& o) : o_(o) {
    c_fc = register_module("c_fc", AdaptableLinear(o.n_embd, o.n_inner, true, true));
    c_proj = register_module("c_proj", AdaptableLinear(o.n_inner, o.n_embd, true, true));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = c_proj->forward(activation(o_.activation, c_fc->forward(x)));
    return is_training() ? torch::dropout(y, o_.dropout, true) : y;
  }
  AdaptableLinear c_fc{nullptr}, c_proj{nullptr};

 private:
  Gpt2Options o_;
};
TORCH_MODULE(Gpt2Mlp);

class Gpt2BlockImpl : public torch::nn::Module {
 public:
  Gpt2BlockImpl(const Gpt2Options& o, std::int64_t layer) {
    ln_1 = register_module("ln_1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.n_embd}).eps(o.layer_norm_epsilon)));
    attn = register_module("attn", Gpt2Attention(o, layer));
    ln_2 = register_module("ln_2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.n_embd}).eps(o.layer_norm_epsilon)));
    mlp = register_module("mlp", Gpt2Mlp(o));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, KvCache* cache) {
    const torch::Tensor h = x + attn->forward(ln_1->forward(x), mask, cache);
    return h + mlp->forward(ln_2->forward(h));
  }
  torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
  Gpt2Attention attn{nullptr};
  Gpt2Mlp mlp{nullptr};
};
TORCH_MODULE(Gpt2Block);

class Gpt2ModelImpl : public torch::nn::Module {
 public:
  explicit Gpt2ModelImpl(const Gpt2Options& o) {
    wte = register_module("wte", Embedding(o.vocab_size, o.n_embd));
    wpe = register_module("wpe", Embedding(o.n_positions, o.n_embd));
    h = register_module("h", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < o.n_layer; ++i) h->push_back(Gpt2Block(o, i));
    ln_f = register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.n_embd}).eps(o.layer_norm_epsilon)));
  }
  Embedding wte{nullptr}, wpe{nullptr};
  torch::nn::ModuleList h{nullptr};
  torch::nn::LayerNorm ln_f{nullptr};
};
TORCH_MODULE(Gpt2Model);

/// GPT2LMHeadModel ("transformer." in checkpoints; lm_head tied to wte).
class Gpt2LmHeadModelImpl : public torch::nn::Module {
 public:
  explicit Gpt2LmHeadModelImpl(Gpt2Options o) : o_(std::move(o)) { transformer = register_module("transformer", Gpt2Model(o_)); }

  torch::Tensor embed(const torch::Tensor& ids) { return transformer->wte->forward(ids); }
  /// GPT-2 and OPT run eager attention (transformers' default for them in 4.44); sdpa is refused.
  void set_attention(AttentionKernel k) {
    if (k == AttentionKernel::sdpa) throw Error("attention 'sdpa' is implemented for the Llama family (Llama 3, Qwen 2.5); GPT-2 and OPT run eager");
  }
  [[nodiscard]] AttentionKernel attention() const { return AttentionKernel::eager; }

  LmOutput forward(const LmInputs& in) {
    check_lm_inputs(in);
    torch::Tensor x = in.inputs_embeds.defined() ? in.inputs_embeds : embed(in.input_ids.to(device()));
    const auto b = x.size(0), t = x.size(1);
    const std::int64_t past = in.cache ? in.cache->length() : 0;
    if (in.cache) in.cache->resize(static_cast<std::size_t>(o_.n_layer));
    const torch::Tensor pos = default_position_ids(in, b, t, past, x.device());
    // Checked without reading a device back: exactly on the CPU; elsewhere positions derived from
    // the mask are below cached + new tokens, and given ones were checked where they were made.
    if (pos.is_cpu() ? pos.numel() > 0 && pos.max().item<std::int64_t>() >= o_.n_positions : !in.position_ids.defined() && past + t > o_.n_positions)
      throw Error("GPT-2 positions beyond n_positions = " + std::to_string(o_.n_positions));
    x = x + transformer->wpe->forward(pos);
    if (is_training()) x = torch::dropout(x, o_.dropout, true);
    const torch::Tensor mask = causal_mask(in.attention_mask, b, t, past, std::nullopt, x.scalar_type(), x.device());
    LmOutput out;
    for (std::size_t i = 0; i < transformer->h->size(); ++i) {
      if (in.output_hidden_states) out.hidden_states.push_back(x);
      x = transformer->h->at<Gpt2BlockImpl>(i).forward(x, mask, in.cache);
    }
    x = transformer->ln_f->forward(x);
    if (in.output_hidden_states) out.hidden_states.push_back(x);
    out.logits = torch::matmul(x, transformer->wte->weight.t());
    return out;
  }

  [[nodiscard]] std::int64_t hidden_size() const { return o_.n_embd; }
  [[nodiscard]] std::int64_t vocab_size() const { return transformer->wte->weight.size(0); }
  [[nodiscard]] std::int64_t num_layers() const { return o_.n_layer; }
  void resize_token_embeddings(std::int64_t n) {
    transformer->wte->resize(n, o_.initializer_range);
    o_.vocab_size = n;
  }
  [[nodiscard]] torch::Device device() const { return transformer->wte->weight.device(); }
  /// The token-embedding table [vocab, hidden_size()].
  torch::Tensor& input_embeddings() { return transformer->wte->weight; }
  [[nodiscard]] static std::string base_model_prefix() { return "transformer"; }

  Gpt2Model transformer{nullptr};

 private:
  Gpt2Options o_;
};
TORCH_MODULE(Gpt2LmHeadModel);

}  // namespace ecgbench::models
