// What an LLM backbone policy provides to the Elm composition and to generation: token embedding,
// a forward pass from embeddings (so ECG embeddings can be spliced in), sizes, and vocabulary resize
// for added tokens (`signal_<id>`, `<signal>`).
#pragma once

#include <torch/torch.h>

#include <concepts>
#include <string>
#include <optional>
#include <vector>

#include "ecgbench/models/nn/layers.hpp"

namespace ecgbench::models {

/// Inputs of one causal-LM forward pass. Either `input_ids` [B, T] or `inputs_embeds` [B, T, E].
/// `attention_mask` [B, past + T] (1 = token, 0 = padding; default all ones). `position_ids` [B, T]
/// default to cumsum(mask) - 1 with pads at 1, as generate() makes them (OPT derives its own).
struct LmInputs {
  torch::Tensor input_ids, inputs_embeds, attention_mask, position_ids;
  KvCache* cache = nullptr;  ///< keys/values of earlier steps; appended to
  bool output_hidden_states = false;
  /// Logits of the last position only ([B, 1, vocab]): all that decoding reads (models may ignore it).
  bool last_logits_only = false;
};

struct LmOutput {
  torch::Tensor logits;                      ///< [B, T, vocab]
  std::vector<torch::Tensor> hidden_states;  ///< embeddings output, then each layer (last one after the final norm)
};

/// What generation and scoring need of a causal LM (TORCH_MODULE holders and `AnyCausalLm`, used through `->`).
template <class M>
concept CausalLm = requires(M m, const torch::Tensor& ids, const LmInputs& in, std::int64_t n) {
  { m->embed(ids) } -> std::same_as<torch::Tensor>;
  { m->forward(in) } -> std::same_as<LmOutput>;
  { m->hidden_size() } -> std::convertible_to<std::int64_t>;
  { m->vocab_size() } -> std::convertible_to<std::int64_t>;
  { m->num_layers() } -> std::convertible_to<std::int64_t>;
  m->resize_token_embeddings(n);
};

/// The LLM policy of `Elm<E, P, L, T>`: a causal LM that is also a module holder (so the Elm can
/// register it as its `llm` submodule), knows its device, and exposes its token-embedding table
/// (new rows for added tokens are initialised and frozen there). `hidden_size()` is the width of
/// the embeddings the ECG is spliced into (OPT's `word_embed_proj_dim`).
template <class M>
concept LanguageModel = CausalLm<M> && std::derived_from<typename M::ContainedType, torch::nn::Module> && requires(M m) {
  { m->device() } -> std::same_as<torch::Device>;
  { m->input_embeddings() } -> std::same_as<torch::Tensor&>;
  { M::ContainedType::base_model_prefix() } -> std::convertible_to<std::string>;
};

/// Keeps the first rows of a [rows, dim] parameter and adds new ones ~ N(0, std^2) (transformers'
/// _init_weights for embeddings and LM heads), in place so optimisers and modules keep the tensor.
inline void resize_rows(torch::Tensor& w, std::int64_t n, double std) {
  torch::NoGradGuard g;
  torch::Tensor nw = torch::empty({n, w.size(1)}, w.options());
  const auto keep = std::min(w.size(0), n);
  nw.narrow(0, 0, keep).copy_(w.narrow(0, 0, keep));
  if (n > keep) nw.narrow(0, keep, n - keep).normal_(0.0, std);
  w.set_data(nw);
}

/// Token embedding table with Hugging Face's parameter name `weight`; rows can be added.
class EmbeddingImpl : public torch::nn::Module {
 public:
  EmbeddingImpl(std::int64_t n, std::int64_t dim) { weight = register_parameter("weight", torch::randn({n, dim}) * 0.02); }
  torch::Tensor forward(const torch::Tensor& ids) { return torch::embedding(weight, ids); }
  void resize(std::int64_t n, double std = 0.02) { resize_rows(weight, n, std); }
  torch::Tensor weight;
};
TORCH_MODULE(Embedding);

/// HF's defaults for positions when none are given.
inline torch::Tensor default_position_ids(const LmInputs& in, std::int64_t batch, std::int64_t q_len, std::int64_t past, torch::Device device) {
  if (in.position_ids.defined()) return in.position_ids.to(device).to(torch::kLong);
  if (in.attention_mask.defined()) return positions_from_mask(in.attention_mask.to(device), q_len);
  return torch::arange(past, past + q_len, torch::TensorOptions().dtype(torch::kLong).device(device)).unsqueeze(0).expand({batch, q_len});
}

inline void check_lm_inputs(const LmInputs& in) {
  if (in.input_ids.defined() == in.inputs_embeds.defined()) throw Error("give exactly one of input_ids and inputs_embeds");
  const auto& x = in.input_ids.defined() ? in.input_ids : in.inputs_embeds;
  if (in.input_ids.defined() && in.input_ids.dim() != 2) throw Error("input_ids must be [batch, tokens]");
  if (in.inputs_embeds.defined() && in.inputs_embeds.dim() != 3) throw Error("inputs_embeds must be [batch, tokens, hidden]");
  const std::int64_t past = in.cache ? in.cache->length() : 0;
  if (in.attention_mask.defined() && (in.attention_mask.dim() != 2 || in.attention_mask.size(0) != x.size(0) || in.attention_mask.size(1) != past + x.size(1)))
    throw Error("attention_mask must be [batch, cached + new tokens] = [" + std::to_string(x.size(0)) + ", " + std::to_string(past + x.size(1)) + "]");
  if (in.position_ids.defined() && (in.position_ids.dim() != 2 || in.position_ids.size(0) != x.size(0) || in.position_ids.size(1) != x.size(1)))
    throw Error("position_ids must be [batch, tokens]");
}

}  // namespace ecgbench::models
