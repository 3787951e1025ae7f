// The 1-D ResNet of MERL (upstream elms/blocks/merl_blocks.py): conv1 k7 s2 (12 -> 64) + BN + ReLU,
// no max-pool, four stages of basic or bottleneck blocks (strides 1, 2, 2, 2) with a 1x1-conv
// shortcut where the shape changes. Output [B, 512 x expansion, ~L / 16]. Parameter and buffer names
// are upstream's (`layer4.0.shortcut.1.running_var`); the unused classification head `linear` is
// kept so that upstream state dicts load strictly.
#pragma once

#include <torch/torch.h>

#include "ecgbench/models/config/ecg_encoder_options.hpp"

namespace ecgbench::models::encoders {

class ResNetBlock1dImpl : public torch::nn::Module {
 public:
  ResNetBlock1dImpl(std::int64_t in, std::int64_t out, std::int64_t stride, bool bottleneck) : bottleneck_(bottleneck) {
    namespace nn = torch::nn;
    const auto expansion = bottleneck ? 4 : 1;
    if (bottleneck) {
      conv1 = register_module("conv1", nn::Conv1d(nn::Conv1dOptions(in, out, 1).bias(false)));
      bn1 = register_module("bn1", nn::BatchNorm1d(out));
      conv2 = register_module("conv2", nn::Conv1d(nn::Conv1dOptions(out, out, 3).stride(stride).padding(1).bias(false)));
      bn2 = register_module("bn2", nn::BatchNorm1d(out));
      conv3 = register_module("conv3", nn::Conv1d(nn::Conv1dOptions(out, out * expansion, 1).bias(false)));
      bn3 = register_module("bn3", nn::BatchNorm1d(out * expansion));
    } else {
      conv1 = register_module("conv1", nn::Conv1d(nn::Conv1dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
      bn1 = register_module("bn1", nn::BatchNorm1d(out));
      conv2 = register_module("conv2", nn::Conv1d(nn::Conv1dOptions(out, out, 3).padding(1).bias(false)));
      bn2 = register_module("bn2", nn::BatchNorm1d(out));
    }
    shortcut = register_module("shortcut", nn::Sequential());
    if (stride != 1 || in != expansion * out) {
      shortcut->push_back(nn::Conv1d(nn::Conv1dOptions(in, expansion * out, 1).stride(stride).bias(false)));
      shortcut->push_back(nn::BatchNorm1d(expansion * out));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor out = torch::relu(bn1->forward(conv1->forward(x)));
    if (bottleneck_) {
      out = torch::relu(bn2->forward(conv2->forward(out)));
      out = bn3->forward(conv3->forward(out));
    } else {
      out = bn2->forward(conv2->forward(out));
    }
    out = out + (shortcut->is_empty() ? x : shortcut->forward(x));
    return torch::relu(out);
  }
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential shortcut{nullptr};

 private:
  bool bottleneck_;
};
TORCH_MODULE(ResNetBlock1d);

class ResNet1dImpl : public torch::nn::Module {
 public:
  explicit ResNet1dImpl(const ResNet1dOptions& o) : o_(o) {
    o.validate();
    namespace nn = torch::nn;
    conv1 = register_module("conv1", nn::Conv1d(nn::Conv1dOptions(o.in_channels, 64, 7).stride(2).padding(3).bias(false)));
    bn1 = register_module("bn1", nn::BatchNorm1d(64));
    std::int64_t in = 64;
    const std::int64_t widths[4] = {64, 128, 256, 512}, strides[4] = {1, 2, 2, 2};
    for (int s = 0; s < 4; ++s) {
      nn::Sequential stage;
      for (std::int64_t i = 0; i < o.layers[static_cast<std::size_t>(s)]; ++i) {
        stage->push_back(ResNetBlock1d(in, widths[s], i == 0 ? strides[s] : 1, o.bottleneck));
        in = widths[s] * o.expansion();
      }
      layers[s] = register_module("layer" + std::to_string(s + 1), stage);
    }
    linear = register_module("linear", nn::Linear(o.out_channels(), o.num_classes));
  }
  /// [B, 12, L] -> [B, 512 x expansion, L']
  torch::Tensor forward(const torch::Tensor& x) {
    if (x.dim() != 3 || x.size(1) != o_.in_channels)
      throw Error("ResNet-1D: input must be [batch, " + std::to_string(o_.in_channels) + ", samples], got " + std::to_string(x.dim()) + " dimensions");
    torch::Tensor out = torch::relu(bn1->forward(conv1->forward(x.to(conv1->weight.scalar_type()))));
    for (auto& stage : layers) out = stage->forward(out);
    return out;
  }
  [[nodiscard]] const ResNet1dOptions& options() const { return o_; }

  torch::nn::Conv1d conv1{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr};
  torch::nn::Sequential layers[4] = {torch::nn::Sequential{nullptr}, torch::nn::Sequential{nullptr}, torch::nn::Sequential{nullptr}, torch::nn::Sequential{nullptr}};
  torch::nn::Linear linear{nullptr};

 private:
  ResNet1dOptions o_;
};
TORCH_MODULE(ResNet1d);

}  // namespace ecgbench::models::encoders
