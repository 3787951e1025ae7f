// Hugging Face checkpoint folders: config.json, model.safetensors or a sharded
// model.safetensors.index.json, loaded into a module's parameters by name as from_pretrained does
// (base_model_prefix added or stripped, unused tensors such as GPT-2's attn.bias buffers ignored,
// missing tensors and wrong shapes named in the error).
#pragma once

#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/core/log.hpp"
#include "ecgbench/models/hf/config.hpp"
#include "ecgbench/models/hf/pytorch_file.hpp"
#include "ecgbench/models/hf/safetensors.hpp"

namespace ecgbench::hf {

inline torch::ScalarType torch_dtype(StDType t) {
  switch (t) {
    case StDType::f64: return torch::kFloat64;
    case StDType::f32: return torch::kFloat32;
    case StDType::f16: return torch::kFloat16;
    case StDType::bf16: return torch::kBFloat16;
    case StDType::i64: return torch::kInt64;
    case StDType::i32: return torch::kInt32;
    case StDType::i16: return torch::kInt16;
    case StDType::i8: return torch::kInt8;
    case StDType::u8: return torch::kUInt8;
    case StDType::boolean: return torch::kBool;
  }
  return torch::kFloat32;
}

/// A copy of a mapped tensor as a CPU torch tensor of its own dtype (alignment-safe).
inline torch::Tensor to_torch(const TensorView& v) {
  torch::Tensor t = torch::empty(v.shape, torch::TensorOptions().dtype(torch_dtype(v.dtype)));
  if (v.bytes) std::memcpy(t.data_ptr(), v.data, v.bytes);
  return t;
}

/// All tensors of a checkpoint (one file or shards), by name.
class Checkpoint {
 public:
  /// `path`: a folder (model.safetensors or model.safetensors.index.json inside), one .safetensors
  /// file, or a PyTorch checkpoint (`.pth` / `.pt` / `.bin`, the zip format torch.save writes; read
  /// without executing its pickle). DDP's `module.` prefix is stripped from PyTorch checkpoints.
  explicit Checkpoint(const std::filesystem::path& path) {
    std::filesystem::path file = path;
    if (std::filesystem::is_directory(path)) {
      if (std::filesystem::exists(path / "model.safetensors")) file = path / "model.safetensors";
      else if (std::filesystem::exists(path / "model.safetensors.index.json")) file = path / "model.safetensors.index.json";
      else if (std::filesystem::exists(path / "adapter_model.safetensors")) file = path / "adapter_model.safetensors";
      else if (std::filesystem::exists(path / "pytorch_model.bin")) file = path / "pytorch_model.bin";
      else throw Error({path.string(), {}, {}, {}}, "no model.safetensors, model.safetensors.index.json or pytorch_model.bin");
    }
    if (file.extension() == ".json") {
      const Json index = read_json(file);
      if (!index.contains("weight_map") || !index["weight_map"].is_object())
        throw Error({file.string(), {}, {}, "weight_map"}, "shard index lacks a weight_map object");
      std::map<std::string, std::size_t> shard_of_file;
      for (const auto& [name, shard] : index["weight_map"].items()) {
        if (!shard.is_string()) throw Error({file.string(), {}, {}, "weight_map['" + name + "']"}, "shard name is not a string");
        const auto shard_path = file.parent_path() / shard.get<std::string>();
        auto [it, fresh] = shard_of_file.emplace(shard_path.string(), files_.size());
        if (fresh) files_.push_back(std::make_unique<SafetensorsFile>(shard_path));
        const TensorView* t = files_[it->second]->find(name);
        if (!t) throw Error({shard_path.string(), {}, {}, "tensor '" + name + "'"}, "the shard index names a tensor this shard does not hold");
        tensors_[name] = t;
        owner_[name] = shard_path.string();
      }
    } else if (looks_like_pytorch_file(file)) {
      pth_ = std::make_unique<PytorchFile>(file);
      for (const auto& [name, t] : pth_->tensors()) {
        // DistributedDataParallel saves its wrapped module's names with "module." in front.
        const std::string key = name.rfind("module.", 0) == 0 ? name.substr(7) : name;
        tensors_[key] = &t;
        owner_[key] = pth_->path();
      }
    } else {
      files_.push_back(std::make_unique<SafetensorsFile>(file));
      for (const auto& [name, t] : files_[0]->tensors()) {
        tensors_[name] = &t;
        owner_[name] = files_[0]->path();
      }
    }
    source_ = file.string();
  }

  [[nodiscard]] const std::map<std::string, const TensorView*>& tensors() const noexcept { return tensors_; }
  [[nodiscard]] const TensorView* find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : it->second;
  }
  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  [[nodiscard]] std::string file_of(const std::string& name) const {
    auto it = owner_.find(name);
    return it == owner_.end() ? source_ : it->second;
  }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::unique_ptr<PytorchFile> pth_;
  std::map<std::string, const TensorView*> tensors_;
  std::map<std::string, std::string> owner_;
  std::string source_;
};

struct LoadReport {
  std::vector<std::string> unused;  ///< checkpoint tensors no parameter took
};

/// Copies checkpoint tensors into every parameter and persistent buffer of `module` (names as
/// `named_parameters()` gives them). `base_model_prefix` ("model", "transformer", "bert", ...) may
/// be present in the file and absent in the module or the other way round. `optional` names
/// parameters that may be missing (they keep their initial values). Tensors are converted to the
/// parameter's dtype and device.
inline LoadReport load_state(torch::nn::Module& module, const Checkpoint& ckpt, const std::string& base_model_prefix,
                             const std::set<std::string>& optional = {}) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  auto lookup = [&](const std::string& name) -> const TensorView* {
    if (const TensorView* t = ckpt.find(name)) return used.insert(name), t;
    const std::string p = base_model_prefix + ".";
    if (!base_model_prefix.empty()) {
      if (name.rfind(p, 0) == 0) {
        if (const TensorView* t = ckpt.find(name.substr(p.size()))) return used.insert(name.substr(p.size())), t;
      } else if (const TensorView* t = ckpt.find(p + name)) {
        return used.insert(p + name), t;
      }
    }
    return nullptr;
  };
  auto assign = [&](const std::string& name, torch::Tensor& target) {
    const TensorView* v = lookup(name);
    if (!v) {
      if (optional.count(name)) return;
      throw Error({ckpt.source(), {}, {}, "tensor '" + name + "'"}, "missing from the checkpoint");
    }
    if (v->shape != target.sizes().vec()) {
      auto str = [](const std::vector<std::int64_t>& s) {
        std::string r = "[";
        for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
        return r + "]";
      };
      throw Error({ckpt.file_of(v->name), {}, {}, "tensor '" + v->name + "'"},
                  "shape " + str(v->shape) + " does not match the model's " + str(target.sizes().vec()));
    }
    const torch::Tensor src = to_torch(*v);
    if (src.is_floating_point() != target.is_floating_point())
      throw Error({ckpt.file_of(v->name), {}, {}, "tensor '" + v->name + "'"}, "dtype " + std::string(dtype_name(v->dtype)) + " does not fit the parameter");
    target.copy_(src.to(target.scalar_type()));
  };
  for (auto& p : module.named_parameters(true))
    if (p.value().defined()) assign(p.key(), p.value());  // (torch registers some optional parameters undefined)
  for (auto& b : module.named_buffers(true))
    if (b.value().defined()) assign(b.key(), b.value());
  LoadReport r;
  for (const auto& [name, t] : ckpt.tensors())
    if (!used.count(name)) r.unused.push_back(name);
  return r;
}

/// Writes every parameter of `module` to one safetensors file (float tensors in their own dtype).
inline void save_state(const torch::nn::Module& module, const std::filesystem::path& path, const std::set<std::string>& skip = {}) {
  std::map<std::string, TensorBytes> out;
  for (const auto& p : module.named_parameters(true)) {
    if (skip.count(p.key()) || !p.value().defined()) continue;
    torch::Tensor t = p.value().detach().to(torch::kCPU).contiguous();
    TensorBytes b;
    switch (t.scalar_type()) {
      case torch::kFloat32: b.dtype = StDType::f32; break;
      case torch::kFloat16: b.dtype = StDType::f16; break;
      case torch::kBFloat16: b.dtype = StDType::bf16; break;
      case torch::kFloat64: b.dtype = StDType::f64; break;
      default: throw Error({path.string(), {}, {}, "tensor '" + p.key() + "'"}, "unsupported dtype for saving");
    }
    b.shape = t.sizes().vec();
    b.bytes.assign(static_cast<const char*>(t.data_ptr()), static_cast<std::size_t>(t.numel() * t.element_size()));
    out.emplace(p.key(), std::move(b));
  }
  write_safetensors(path, out);
}


}  // namespace ecgbench::hf
