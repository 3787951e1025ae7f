// The projection from encoder features into the LLM's embedding space: one Linear with bias, as
// upstream's LLaVA / encoder-free wrappers (no MLP, no activation), created in the LLM's dtype.
// `NoProjector` is the empty policy for paradigms without an encoder.
#pragma once

#include <torch/torch.h>

#include "ecgbench/core/error.hpp"
#include "ecgbench/models/concepts/projector.hpp"

namespace ecgbench::models {

class LinearProjectorImpl : public torch::nn::Module {
 public:
  LinearProjectorImpl(std::int64_t in, std::int64_t out) : in_(in), out_(out) {
    if (in <= 0 || out <= 0) throw Error("projector sizes must be positive");
    linear = register_module("linear", torch::nn::Linear(in, out));
  }
  torch::Tensor forward(const torch::Tensor& x) { return linear->forward(x.to(linear->weight.scalar_type())); }
  [[nodiscard]] std::int64_t in_features() const { return in_; }
  [[nodiscard]] std::int64_t out_features() const { return out_; }
  torch::nn::Linear linear{nullptr};

 private:
  std::int64_t in_, out_;
};
TORCH_MODULE(LinearProjector);
static_assert(Projector<LinearProjector>, "LinearProjector must satisfy Projector");

/// No projection: the paradigm puts no encoder features into the LLM.
class NoProjectorImpl : public torch::nn::Module {
 public:
  NoProjectorImpl() = default;
  NoProjectorImpl(std::int64_t, std::int64_t) {}
  torch::Tensor forward(const torch::Tensor& x) { return x; }
  [[nodiscard]] std::int64_t in_features() const { return 0; }
  [[nodiscard]] std::int64_t out_features() const { return 0; }
};
TORCH_MODULE(NoProjector);
static_assert(Projector<NoProjector>, "NoProjector must satisfy Projector");

}  // namespace ecgbench::models
