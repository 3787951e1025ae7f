// The empty encoder policies. `NoEncoder`: end-to-end ECG-Byte, the ECG reaches the LLM as tokens.
// `SignalFlatten`: the encoder-free (Fuyu-style) paradigm, the instance-normalised signal flattened
// lead-major to 12 L features (one token), which the projector maps into the LLM. Neither has
// parameters.
#pragma once

#include <torch/torch.h>

#include "ecgbench/core/error.hpp"
#include "ecgbench/models/concepts/ecg_encoder.hpp"

namespace ecgbench::models::encoders {

class NoEncoderImpl : public torch::nn::Module {
 public:
  static constexpr EncoderInput input = EncoderInput::none;
  torch::Tensor embed(const torch::Tensor&, std::int64_t = 1) { throw Error("this composition has no encoder (its ECG arrives as tokens)"); }
  [[nodiscard]] std::int64_t embedding_dim() const { return 0; }
};
TORCH_MODULE(NoEncoder);
static_assert(EcgEncoder<NoEncoder>);

class SignalFlattenImpl : public torch::nn::Module {
 public:
  static constexpr EncoderInput input = EncoderInput::signal;
  SignalFlattenImpl(std::int64_t leads = 12, std::int64_t seq_len = 1250) : leads_(leads), seq_len_(seq_len) {}
  /// [B, 12, L] -> [B, 1, 12 L]; k must be 1 (the flattened signal is one token).
  torch::Tensor embed(const torch::Tensor& series, std::int64_t k = 1) {
    if (k != 1) throw Error("encoder-free: the flattened signal is one token (tokens = 1), got " + std::to_string(k));
    if (series.dim() != 3 || series.size(1) != leads_ || series.size(2) != seq_len_)
      throw Error("encoder-free: series must be [batch, " + std::to_string(leads_) + ", " + std::to_string(seq_len_) + "]");
    return series.reshape({series.size(0), 1, leads_ * seq_len_});
  }
  [[nodiscard]] std::int64_t embedding_dim() const { return leads_ * seq_len_; }

 private:
  std::int64_t leads_, seq_len_;
};
TORCH_MODULE(SignalFlatten);
static_assert(EcgEncoder<SignalFlatten>);

}  // namespace ecgbench::models::encoders
