// Building an ECG encoder by name or configuration (as upstream's `--encoder`), and loading
// upstream-format checkpoints into it: safetensors or torch.save files (`{"model": state_dict}`,
// `model_state_dict` wrappers, DDP's `module.` prefix, the `st_mem.` / `mtae.` / `mlae.` prefix of
// upstream's `*_Ours` wrappers), strictly or, as upstream loads ECG encoders, non-strictly with the
// missing and unexpected names reported.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "ecgbench/core/json.hpp"
#include "ecgbench/core/log.hpp"
#include "ecgbench/models/config/ecg_encoder_options.hpp"
#include "ecgbench/models/encoders/masked_autoencoder.hpp"
#include "ecgbench/models/encoders/merl.hpp"
#include "ecgbench/models/encoders/mtae.hpp"
#include "ecgbench/models/encoders/st_mem.hpp"
#include "ecgbench/models/hf/checkpoint.hpp"

namespace ecgbench::models::encoders {

struct StateLoadReport {
  std::vector<std::string> missing;     ///< module names the checkpoint lacks (kept at their initial values)
  std::vector<std::string> unexpected;  ///< checkpoint names the module does not have
  std::string prefix;                   ///< wrapper prefix that was stripped from the checkpoint's names
};

/// Copies the tensors of `ckpt` into `module`. Wrapper prefixes are found automatically. Shapes must
/// match (error naming file and tensor). `strict`: any missing or unexpected name is an error listing
/// them; otherwise they are reported. `is_alias(name)` marks checkpoint names that duplicate one of
/// ours (not unexpected).
template <class AliasFn>
StateLoadReport load_encoder_state(torch::nn::Module& module, const hf::Checkpoint& ckpt, bool strict, AliasFn&& is_alias) {
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> targets;
  for (auto& p : module.named_parameters(true))
    if (p.value().defined()) targets[p.key()] = p.value();
  for (auto& b : module.named_buffers(true))
    if (b.value().defined()) targets[b.key()] = b.value();
  StateLoadReport r;
  auto hits = [&](const std::string& prefix) {
    std::size_t n = 0;
    for (const auto& [name, t] : ckpt.tensors())
      if (name.rfind(prefix, 0) == 0 && targets.count(name.substr(prefix.size()))) ++n;
    return n;
  };
  std::size_t best = hits("");
  for (const char* p : {"st_mem.", "mtae.", "mlae.", "merl.", "encoder.", "model."}) {
    const auto h = hits(p);
    if (h > best) best = h, r.prefix = p;
  }
  std::set<std::string> used;
  for (auto& [name, target] : targets) {
    const std::string key = r.prefix + name;
    const hf::TensorView* v = ckpt.find(key);
    if (!v) {
      r.missing.push_back(name);
      continue;
    }
    used.insert(key);
    if (v->shape != target.sizes().vec()) {
      std::string have = "[", want = "[";
      for (std::size_t i = 0; i < v->shape.size(); ++i) have += (i ? ", " : "") + std::to_string(v->shape[i]);
      for (std::int64_t i = 0; i < target.dim(); ++i) want += (i ? ", " : "") + std::to_string(target.size(i));
      throw Error({ckpt.file_of(key), {}, {}, "tensor '" + key + "'"}, "shape " + have + "] does not match the model's " + want + "]");
    }
    const torch::Tensor src = hf::to_torch(*v);
    if (src.is_floating_point() != target.is_floating_point())
      throw Error({ckpt.file_of(key), {}, {}, "tensor '" + key + "'"}, "dtype " + std::string(hf::dtype_name(v->dtype)) + " does not fit the model's tensor");
    target.copy_(src.to(target.scalar_type()));
  }
  for (const auto& [name, t] : ckpt.tensors()) {
    if (used.count(name)) continue;
    const std::string local = name.rfind(r.prefix, 0) == 0 ? name.substr(r.prefix.size()) : name;
    if (!is_alias(local)) r.unexpected.push_back(name);
  }
  if (strict && (!r.missing.empty() || !r.unexpected.empty())) {
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (std::size_t i = 0; i < v.size() && i < 5; ++i) s += (i ? ", " : "") + ("'" + v[i] + "'");
      if (v.size() > 5) s += ", ... (" + std::to_string(v.size()) + " in all)";
      return s;
    };
    std::string what = "checkpoint does not fit the encoder:";
    if (!r.missing.empty()) what += " missing " + list(r.missing) + (r.unexpected.empty() ? "" : ";");
    if (!r.unexpected.empty()) what += " unexpected " + list(r.unexpected);
    throw Error({ckpt.source(), {}, {}, {}}, what);
  }
  return r;
}

/// One of the ECG encoders, chosen at run time (apps); static compositions use the classes directly.
class AnyEcgEncoder {
 public:
  using Variant = std::variant<StMem, Mtae, Merl>;
  explicit AnyEcgEncoder(Variant v, std::string name) : v_(std::move(v)), name_(std::move(name)) {}

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] torch::nn::Module& module() { return std::visit([](auto& m) -> torch::nn::Module& { return *m; }, v_); }
  [[nodiscard]] std::int64_t embedding_dim() const { return std::visit([](auto& m) { return m->embedding_dim(); }, v_); }
  torch::Tensor embed(const torch::Tensor& series, std::int64_t k) { return std::visit([&](auto& m) { return m->embed(series, k); }, v_); }
  template <class T>
  [[nodiscard]] T* get() { return std::get_if<T>(&v_); }
  [[nodiscard]] Variant& variant() { return v_; }

  /// Loads weights (safetensors or .pth); see `load_encoder_state`.
  StateLoadReport load(const std::filesystem::path& weights, bool strict = true) {
    const hf::Checkpoint ckpt(weights);
    auto r = std::visit([&](auto& m) {
      using M = std::decay_t<decltype(m)>;
      if constexpr (std::is_same_v<M, Merl>) return load_encoder_state(*m, ckpt, strict, [](const std::string&) { return false; });
      else return load_encoder_state(*m, ckpt, strict, [](const std::string& n) { return MaskedAutoencoderBase::is_alias(n); });
    }, v_);
    if (!strict && (!r.missing.empty() || !r.unexpected.empty()))
      log::warn(ckpt.source() + ": loaded non-strictly: " + std::to_string(r.missing.size()) + " encoder tensors missing, " + std::to_string(r.unexpected.size()) +
                " checkpoint tensors unused");
    return r;
  }

 private:
  Variant v_;
  std::string name_;
};

/// Builds an encoder from a parsed configuration; MERL with its pretraining head unless told otherwise.
inline AnyEcgEncoder make_ecg_encoder(const EcgEncoderConfig& c, bool merl_pretraining_head = true) {
  if (c.name == "st_mem") return AnyEcgEncoder(StMem(c.mae), c.name);
  if (c.name == "mtae" || c.name == "mlae") return AnyEcgEncoder(Mtae(c.mae), c.name);
  if (c.name == "merl") return AnyEcgEncoder(Merl(c.merl, merl_pretraining_head), c.name);
  throw Error("unknown ECG encoder '" + c.name + "' (st_mem, mtae, mlae, merl)");
}

/// Reads an encoder configuration file (JSON; a golden `manifest.json` works: its `config` object is used).
inline EcgEncoderConfig read_ecg_encoder_config(const std::filesystem::path& path) {
  const Json j = read_json(path);
  if (j.is_object() && j.contains("config") && j["config"].is_object()) return parse_ecg_encoder_config(j["config"], path.string());
  return parse_ecg_encoder_config(j, path.string());
}

}  // namespace ecgbench::models::encoders
