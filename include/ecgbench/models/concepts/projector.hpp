// What a projector policy provides to the Elm composition: encoder features [B, k, d] -> LLM
// embeddings [B, k, hidden]. `NoProjector` (end-to-end ECG-Byte) holds nothing.
#pragma once

#include <torch/torch.h>

#include <concepts>

namespace ecgbench::models {

template <class P>
concept Projector = requires(P p, const torch::Tensor& x) {
  { p->forward(x) } -> std::same_as<torch::Tensor>;
  { p->in_features() } -> std::convertible_to<std::int64_t>;
  { p->out_features() } -> std::convertible_to<std::int64_t>;
};

}  // namespace ecgbench::models
