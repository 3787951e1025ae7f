// .npy <-> torch tensors, for parity tools and tests (float32/float64/int16/int32/int64/uint8).
#pragma once

#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "ecgbench/core/npy.hpp"

namespace ecgbench::models {

inline torch::Tensor load_npy_tensor(const std::filesystem::path& path) {
  const npy::Array a = npy::load(path);
  std::vector<std::int64_t> shape(a.shape().begin(), a.shape().end());
  torch::ScalarType t = torch::kFloat32;
  switch (a.dtype()) {
    case npy::DType::f32: t = torch::kFloat32; break;
    case npy::DType::f64: t = torch::kFloat64; break;
    case npy::DType::i16: t = torch::kInt16; break;
    case npy::DType::i32: t = torch::kInt32; break;
    case npy::DType::i64: t = torch::kInt64; break;
    case npy::DType::u8: t = torch::kUInt8; break;
  }
  torch::Tensor out = torch::empty(shape, torch::TensorOptions().dtype(t));
  if (out.numel()) std::memcpy(out.data_ptr(), a.raw(), static_cast<std::size_t>(out.numel() * out.element_size()));
  return out;
}

inline void save_npy_tensor(const std::filesystem::path& path, const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
  std::vector<std::size_t> shape(t.sizes().begin(), t.sizes().end());
  auto save = [&]<class T>(T*) {
    npy::save<T>(path, std::span<const T>(t.data_ptr<T>(), static_cast<std::size_t>(t.numel())), std::span<const std::size_t>(shape));
  };
  switch (t.scalar_type()) {
    case torch::kFloat32: save(static_cast<float*>(nullptr)); break;
    case torch::kFloat64: save(static_cast<double*>(nullptr)); break;
    case torch::kInt32: save(static_cast<std::int32_t*>(nullptr)); break;
    case torch::kInt64: save(static_cast<std::int64_t*>(nullptr)); break;
    case torch::kInt16: save(static_cast<std::int16_t*>(nullptr)); break;
    case torch::kUInt8: save(static_cast<std::uint8_t*>(nullptr)); break;
    case torch::kBFloat16:
    case torch::kFloat16: {
      const torch::Tensor f = t.to(torch::kFloat32);
      npy::save<float>(path, std::span<const float>(f.data_ptr<float>(), static_cast<std::size_t>(f.numel())), std::span<const std::size_t>(shape));
      break;
    }
    default: throw Error({path.string(), {}, {}, {}}, "cannot write this tensor dtype to .npy");
  }
}

}  // namespace ecgbench::models
