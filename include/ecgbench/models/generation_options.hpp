// Options and inputs of text generation, and the one-step forward the decoders share.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ecgbench/models/llm/language_model.hpp"

namespace ecgbench::models {

struct GenerationOptions {
  std::int64_t max_new_tokens = 20;
  bool do_sample = false;
  double temperature = 1.0;
  std::int64_t top_k = 50;  ///< 0 = off (transformers' default is 50 when sampling)
  double top_p = 1.0;
  std::int64_t num_beams = 1;
  double length_penalty = 1.0;  ///< beam score = sum log p / (new tokens ^ length_penalty)
  std::vector<std::int64_t> eos_token_ids;
  std::optional<std::int64_t> pad_token_id;  ///< written after EOS (default: the first EOS id, else 0)
  std::uint64_t seed = 0;
  bool use_cache = true;
  /// Greedy / sampling: decoding steps between host reads of "has every row finished?" (0: every
  /// step on the CPU, every 8 on a GPU, where each read waits for the device). The result is the
  /// same whatever the interval: steps past the point where every row had finished are cut off.
  std::int64_t stop_check_every = 0;
  /// Called with each step's tokens [B] as they are chosen (streaming output; greedy / sampling only).
  std::function<void(const torch::Tensor& next)> on_step;
};

struct GenerationInputs {
  torch::Tensor input_ids;       ///< [B, T], or
  torch::Tensor inputs_embeds;   ///< [B, T, E]
  torch::Tensor attention_mask;  ///< [B, T], default ones (left padding for batched prompts)
};

namespace detail {

inline std::int64_t pad_id(const GenerationOptions& o) {
  return o.pad_token_id ? *o.pad_token_id : (o.eos_token_ids.empty() ? 0 : o.eos_token_ids.front());
}
inline bool is_eos(const GenerationOptions& o, std::int64_t t) {
  return std::find(o.eos_token_ids.begin(), o.eos_token_ids.end(), t) != o.eos_token_ids.end();
}

template <class M>
LmOutput step(M& model, const torch::Tensor& ids, const torch::Tensor& embeds, const torch::Tensor& mask, KvCache* cache) {
  LmInputs in;
  if (ids.defined()) in.input_ids = ids;
  else in.inputs_embeds = embeds;
  in.attention_mask = mask;
  in.cache = cache;
  in.last_logits_only = true;
  return model->forward(in);
}

}  // namespace detail

}  // namespace ecgbench::models
