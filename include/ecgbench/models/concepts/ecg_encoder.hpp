// What an ECG encoder policy provides to the Elm composition: embeddings [B, k, d] of a batch in
// its input form, its embedding width, and its own pretraining objective (stage 1). The empty
// `NoEncoder` stands for paradigms without one (end-to-end ECG-Byte).
#pragma once

#include <torch/torch.h>

#include <concepts>
#include <cstdint>

namespace ecgbench::models {

/// The representation an encoder reads (upstream-inventory §4).
enum class EncoderInput {
  signal,        ///< [B, 12, L] instance-normalised signal (ST-MEM, MTAE, MLAE, MERL, encoder-free)
  pixel_values,  ///< [B, 3, H, W] from a plotted image or the stacked signal (CLIP, SigLIP, ViT)
  none,          ///< no encoder (ECG-Byte tokens go through the LLM's vocabulary)
};

/// An ECG encoder policy (a TORCH_MODULE holder, used through `->`): `embed(x, k)` gives k tokens
/// of `embedding_dim()` features per item.
template <class E>
concept EcgEncoder = requires(E e, const torch::Tensor& x, std::int64_t k) {
  { e->embed(x, k) } -> std::same_as<torch::Tensor>;
  { e->embedding_dim() } -> std::convertible_to<std::int64_t>;
  { E::ContainedType::input } -> std::convertible_to<EncoderInput>;
};

/// An encoder with its own first-stage objective: `pretrain_loss(batch)` returns a scalar loss.
template <class E, class Batch>
concept PretrainableEncoder = EcgEncoder<E> && requires(E e, const Batch& b) {
  { e->pretrain_loss(b) } -> std::same_as<torch::Tensor>;
};

}  // namespace ecgbench::models
