// A batch of ELM inputs as LibTorch tensors: left-padded token ids with labels, mask and positions,
// the positions of the `<signal>` slots, and the encoder's input (signal or pixel values).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace ecgbench::elm {

struct ElmBatch {
  torch::Tensor input_ids;         ///< [B, T] int64, left-padded
  torch::Tensor attention_mask;    ///< [B, T] int64, 0 on padding
  torch::Tensor position_ids;      ///< [B, T] int64, cumsum(mask) - 1
  torch::Tensor labels;            ///< [B, T] int64, -100 where no loss (undefined at inference)
  torch::Tensor signal_positions;  ///< [B, k] int64, the slots the encoder's k tokens replace; -1 = none
  torch::Tensor encoder_input;     ///< [B, 12, L] normalised signal or [B, 3, H, W] pixel values; undefined without encoder
  std::vector<std::string> ids;    ///< item ids (for reports)

  [[nodiscard]] std::int64_t size() const { return input_ids.defined() ? input_ids.size(0) : 0; }
  /// The same batch on another device (pinned host memory copies asynchronously to CUDA).
  [[nodiscard]] ElmBatch to(torch::Device d, bool non_blocking = false) const {
    auto mv = [&](const torch::Tensor& t) { return t.defined() ? t.to(d, non_blocking) : t; };
    return {mv(input_ids), mv(attention_mask), mv(position_ids), mv(labels), mv(signal_positions), mv(encoder_input), ids};
  }
};

}  // namespace ecgbench::elm
