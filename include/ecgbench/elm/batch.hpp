// A batch of ELM inputs as LibTorch tensors: left-padded token ids with labels, mask and positions,
// the positions of the `<signal>` slots, and the encoder's input (signal or pixel values).
#pragma once

#include <torch/torch.h>

#include "ecgbench/core/error.hpp"

#include <string>
#include <vector>

namespace ecgbench::elm {

/// Signal slots must lie inside the sequence (`len` tokens). Read where the positions are on the
/// CPU only: on a device the check would wait for it (ElmBatch::to checks before the copy).
inline void check_signal_positions(const torch::Tensor& positions, std::int64_t len) {
  if (positions.is_cpu() && (positions >= len).any().item<bool>()) throw Error("a signal position lies beyond the sequence");
}

struct ElmBatch {
  torch::Tensor input_ids;         ///< [B, T] int64, left-padded
  torch::Tensor attention_mask;    ///< [B, T] int64, 0 on padding
  torch::Tensor position_ids;      ///< [B, T] int64, cumsum(mask) - 1
  torch::Tensor labels;            ///< [B, T] int64, -100 where no loss (undefined at inference)
  torch::Tensor signal_positions;  ///< [B, k] int64, the slots the encoder's k tokens replace; -1 = none
  torch::Tensor encoder_input;     ///< [B, 12, L] normalised signal or [B, 3, H, W] pixel values; undefined without encoder
  std::vector<std::string> ids;    ///< item ids (for reports)

  /// Labelled (shifted) tokens, counted on the CPU when the batch leaves it; -1: count `labels`.
  /// The loss needs the count on the host, and reading it back from a device would stall the step.
  std::int64_t labelled = -1;

  [[nodiscard]] std::int64_t size() const { return input_ids.defined() ? input_ids.size(0) : 0; }
  /// The loss's token count: `labelled` when the batch left the CPU, else counted from `labels`.
  [[nodiscard]] std::int64_t labelled_tokens() const {
    if (labelled >= 0) return labelled;
    return labels.size(1) > 1 ? (labels.narrow(1, 1, labels.size(1) - 1).to(torch::kCPU) != -100).sum().item<std::int64_t>() : 0;
  }
  /// The same batch on another device (pinned host memory copies asynchronously to CUDA). What needs
  /// host values is done here, on the CPU: the label count, the signal slots' bounds check.
  [[nodiscard]] ElmBatch to(torch::Device d, bool non_blocking = false) const {
    std::int64_t count = labelled;
    if (!d.is_cpu() && labels.defined() && labels.is_cpu()) {
      count = labelled_tokens();
      if (signal_positions.defined() && input_ids.defined()) check_signal_positions(signal_positions, input_ids.size(1));
    }
    auto mv = [&](const torch::Tensor& t) { return t.defined() ? t.to(d, non_blocking) : t; };
    return {mv(input_ids), mv(attention_mask), mv(position_ids), mv(labels), mv(signal_positions), mv(encoder_input), ids, count};
  }
  /// A copy in page-locked host memory (the source of an asynchronous copy to CUDA).
  [[nodiscard]] ElmBatch pin_memory() const {
    auto pin = [](const torch::Tensor& t) { return t.defined() && t.is_cpu() ? t.pin_memory() : t; };
    return {pin(input_ids), pin(attention_mask), pin(position_ids), pin(labels), pin(signal_positions), pin(encoder_input), ids, labelled};
  }
  [[nodiscard]] std::vector<torch::Tensor> tensors() const { return {input_ids, attention_mask, position_ids, labels, signal_positions, encoder_input}; }
};

}  // namespace ecgbench::elm
