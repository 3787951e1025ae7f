// What the training engine needs of a model and of its data. A model is `Trainable` when its
// `loss(batch)` returns the mean loss and the number of tokens (or samples) it averages over; the
// engine weights by that count, so gradient accumulation and data-parallel ranks give the gradient
// of the mean over every token of the effective batch. Data is anything with `size()` and
// `batch(indices)`.
#pragma once

#include <torch/torch.h>

#include <concepts>
#include <cstdint>
#include <span>
#include <string>

namespace ecgbench::train {

struct LossOutput {
  torch::Tensor loss;     ///< scalar mean over `count`
  std::int64_t count = 1;  ///< tokens (or samples) behind the mean
};

template <class D>
concept TrainData = requires(D d, std::span<const std::size_t> idx) {
  { d.size() } -> std::convertible_to<std::size_t>;
  d.batch(idx);
};

template <class D>
using BatchOf = decltype(std::declval<D&>().batch(std::span<const std::size_t>{}));

/// A TORCH_MODULE holder (used through `->`) whose loss on `Batch` is a `LossOutput`.
template <class M, class Batch>
concept Trainable = requires(M m, const Batch& b) {
  { m->loss(b) } -> std::same_as<LossOutput>;
  { m->parameters() } -> std::convertible_to<std::vector<torch::Tensor>>;
  m->train();
  m->eval();
};

/// Optional model hooks, found with `requires`:
///  - `save_trainable(dir)` / `load_trainable(dir)`: own checkpoint files (e.g. PEFT adapters);
///  - `rng_state()` -> Json / `set_rng_state(Json)`: generators beyond torch's (masking noise);
///  - `fingerprint()` -> std::string: refuses checkpoints of another composition.
template <class M>
concept HasOwnCheckpoint = requires(M m, const std::filesystem::path& p) {
  m->save_trainable(p);
  m->load_trainable(p);
};

}  // namespace ecgbench::train
