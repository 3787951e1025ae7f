// PyTorch checkpoint -> safetensors, torch-free (ecgbench-convert): every tensor with its name,
// dtype and shape; DDP's "module." prefix and an optional given prefix removed; written atomically.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "ecgbench/models/hf/pytorch_file.hpp"
#include "ecgbench/models/hf/safetensors.hpp"

namespace ecgbench::hf {

/// Returns the number of tensors written.
inline std::size_t convert_pytorch_to_safetensors(const std::filesystem::path& in, const std::filesystem::path& out, const std::string& strip_prefix = {}) {
  const PytorchFile f(in);
  std::map<std::string, TensorBytes> tensors;
  for (const auto& [name, v] : f.tensors()) {
    std::string key = name.rfind("module.", 0) == 0 ? name.substr(7) : name;
    if (!strip_prefix.empty() && key.rfind(strip_prefix, 0) == 0) key = key.substr(strip_prefix.size());
    TensorBytes b;
    b.dtype = v.dtype;
    b.shape = v.shape;
    b.bytes.assign(reinterpret_cast<const char*>(v.data), v.bytes);
    if (!tensors.emplace(key, std::move(b)).second) throw Error({in.string(), {}, {}, "tensor '" + key + "'"}, "two tensors share this name after removing prefixes");
  }
  write_safetensors(out, tensors);
  return tensors.size();
}

}  // namespace ecgbench::hf
