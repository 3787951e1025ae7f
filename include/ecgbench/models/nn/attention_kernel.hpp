// The attention kernel a model runs, by name ("eager", "sdpa", "auto") in model options, ElmConfig
// and the apps' --attention. Torch-free (model options are parsed and fuzzed without LibTorch);
// layers.hpp decides what runs.
#pragma once

#include <string>

#include "ecgbench/core/error.hpp"

namespace ecgbench::models {

/// eager: `attend` (transformers' "eager", what the goldens hold bit for bit); sdpa: PyTorch's
/// scaled_dot_product_attention (flash / memory-efficient / cuDNN kernels on a GPU; LibTorch >= 2.1);
/// automatic: sdpa where available and applicable (not with soft-capped scores), else eager.
enum class AttentionKernel { automatic, eager, sdpa };

inline AttentionKernel parse_attention_kernel(const std::string& s) {
  if (s == "auto") return AttentionKernel::automatic;
  if (s == "eager") return AttentionKernel::eager;
  if (s == "sdpa") return AttentionKernel::sdpa;
  throw Error("unknown attention '" + s + "' (eager, sdpa, auto)");
}
inline std::string to_string(AttentionKernel k) { return k == AttentionKernel::eager ? "eager" : k == AttentionKernel::sdpa ? "sdpa" : "auto"; }

}  // namespace ecgbench::models
