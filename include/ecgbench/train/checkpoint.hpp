// Training checkpoints that survive a kill: `RUN/checkpoints/step-<N>/` holds `model.safetensors`
// (every trainable parameter and every buffer such as BatchNorm statistics; or what the model's own
// `save_trainable(dir)` writes, e.g. PEFT adapters), `optimizer.safetensors` and `state.json` (step,
// epoch, data position, RNG states, schedule). A checkpoint is written into a temporary folder,
// each file fsynced, the folder renamed into place and the parent fsynced; only then does
// `RUN/checkpoints/latest` (written the same way) name it. A process killed at any moment leaves the
// previous checkpoint complete and named by `latest`; a half-written folder is never picked up.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/models/hf/checkpoint.hpp"
#include "ecgbench/models/hf/safetensors.hpp"

namespace ecgbench::train {

namespace fs = std::filesystem;

/// Writes tensors (float, bfloat16, half, int64, int32, bool) to one safetensors file, atomically.
inline void save_tensors(const fs::path& path, const std::map<std::string, torch::Tensor>& tensors) {
  std::map<std::string, hf::TensorBytes> out;
  for (const auto& [name, value] : tensors) {
    const torch::Tensor t = value.detach().to(torch::kCPU).contiguous();
    hf::TensorBytes b;
    switch (t.scalar_type()) {
      case torch::kFloat32: b.dtype = hf::StDType::f32; break;
      case torch::kFloat64: b.dtype = hf::StDType::f64; break;
      case torch::kFloat16: b.dtype = hf::StDType::f16; break;
      case torch::kBFloat16: b.dtype = hf::StDType::bf16; break;
      case torch::kInt64: b.dtype = hf::StDType::i64; break;
      case torch::kInt32: b.dtype = hf::StDType::i32; break;
      case torch::kBool: b.dtype = hf::StDType::boolean; break;
      default: throw Error({path.string(), {}, {}, "tensor '" + name + "'"}, "unsupported dtype for a checkpoint");
    }
    b.shape = t.sizes().vec();
    b.bytes.assign(static_cast<const char*>(t.data_ptr()), static_cast<std::size_t>(t.numel() * t.element_size()));
    out.emplace(name, std::move(b));
  }
  hf::write_safetensors(path, out);
}

inline std::map<std::string, torch::Tensor> load_tensors(const fs::path& path) {
  const hf::SafetensorsFile f(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, v] : f.tensors()) out.emplace(name, hf::to_torch(v));
  return out;
}

/// Trainable parameters and all buffers of a module, by name: what a training checkpoint must keep.
inline std::map<std::string, torch::Tensor> trainable_state(const torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.named_parameters(true))
    if (p.value().defined() && p.value().requires_grad()) out.emplace(p.key(), p.value());
  for (const auto& b : m.named_buffers(true))
    if (b.value().defined()) out.emplace(b.key(), b.value());
  return out;
}

/// Copies `trainable_state` tensors back; a tensor the model lacks, a trainable parameter the file
/// lacks, or a shape that differs means the checkpoint belongs to another model.
inline void restore_trainable_state(torch::nn::Module& m, const fs::path& file) {
  torch::NoGradGuard g;
  const auto saved = load_tensors(file);
  auto mine = trainable_state(m);
  for (const auto& [name, t] : saved) {
    auto it = mine.find(name);
    if (it == mine.end()) throw Error({file.string(), {}, {}, "tensor '" + name + "'"}, "the model has no trainable tensor of this name (a checkpoint of another model?)");
    if (it->second.sizes() != t.sizes()) throw Error({file.string(), {}, {}, "tensor '" + name + "'"}, "shape differs from the model's (a checkpoint of another model?)");
    it->second.copy_(t.to(it->second.device(), it->second.scalar_type()));
  }
  for (const auto& [name, t] : mine)
    if (!saved.count(name)) throw Error({file.string(), {}, {}, "tensor '" + name + "'"}, "missing: the model trains it, the checkpoint lacks it (a checkpoint of another model?)");
}

inline void fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

/// The counters a resumed run continues from.
struct TrainState {
  std::int64_t step = 0;            ///< optimizer steps done
  std::int64_t epoch = 0;           ///< current epoch
  std::int64_t batch_in_epoch = 0;  ///< micro-batches of this epoch already consumed (data-order position)
  std::int64_t world_size = 1;
  std::uint64_t seed = 0;
  std::int64_t optimizer_steps = 0;
  std::string optimizer;
  Json schedule = Json::object();
  Json rng = Json::object();    ///< torch's generator state and the model's own RNGs
  Json extra = Json::object();  ///< anything the model or app wants back (configuration fingerprint)

  [[nodiscard]] Json to_json() const {
    return {{"format", "ecgbench.train-state"}, {"version", 1}, {"step", step}, {"epoch", epoch}, {"batch_in_epoch", batch_in_epoch},
            {"world_size", world_size}, {"seed", seed}, {"optimizer", optimizer}, {"optimizer_steps", optimizer_steps},
            {"schedule", schedule}, {"rng", rng}, {"extra", extra}};
  }
  static TrainState from_json(const Json& j, const std::string& file) {
    return with_json_errors(file, [&] {
      if (!j.is_object() || j.value("format", "") != "ecgbench.train-state") throw Error({file, {}, {}, "format"}, "not an ecgbench training state");
      if (json_get<int>(j, "version", file, "") != 1) throw Error({file, {}, {}, "version"}, "unsupported training-state version");
      TrainState s;
      s.step = json_get<std::int64_t>(j, "step", file, "");
      s.epoch = json_get<std::int64_t>(j, "epoch", file, "");
      s.batch_in_epoch = json_get<std::int64_t>(j, "batch_in_epoch", file, "");
      s.world_size = json_get<std::int64_t>(j, "world_size", file, "");
      s.seed = json_get<std::uint64_t>(j, "seed", file, "");
      s.optimizer = json_get<std::string>(j, "optimizer", file, "");
      s.optimizer_steps = json_get<std::int64_t>(j, "optimizer_steps", file, "");
      s.schedule = j.at("schedule");
      s.rng = j.at("rng");
      s.extra = j.value("extra", Json::object());
      return s;
    });
  }
};

/// torch's default CPU generator state as hex (dropout, drop-path, randn in the model).
inline std::string torch_rng_state() {
  at::Generator gen = torch::globalContext().defaultGenerator(torch::kCPU);
  std::lock_guard<std::mutex> lock(gen.mutex());
  const torch::Tensor s = gen.get_state();
  static const char* hex = "0123456789abcdef";
  std::string out;
  const auto* p = s.data_ptr<std::uint8_t>();
  for (std::int64_t i = 0; i < s.numel(); ++i) out += hex[p[i] >> 4], out += hex[p[i] & 15];
  return out;
}
inline void set_torch_rng_state(const std::string& h, const std::string& file) {
  if (h.size() % 2) throw Error({file, {}, {}, "rng.torch_cpu"}, "odd-length hex state");
  torch::Tensor s = torch::empty({static_cast<std::int64_t>(h.size() / 2)}, torch::kUInt8);
  auto* p = s.data_ptr<std::uint8_t>();
  auto nib = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw Error({file, {}, {}, "rng.torch_cpu"}, "not a hex state");
  };
  for (std::size_t i = 0; i < h.size() / 2; ++i) p[i] = static_cast<std::uint8_t>(nib(h[2 * i]) * 16 + nib(h[2 * i + 1]));
  try {
    at::Generator gen = torch::globalContext().defaultGenerator(torch::kCPU);  // a handle to the same generator
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(s);
  } catch (const std::exception& e) {
    throw Error({file, {}, {}, "rng.torch_cpu"}, std::string("cannot restore torch's generator: ") + e.what());
  }
}

/// The checkpoints of one run folder.
class CheckpointStore {
 public:
  explicit CheckpointStore(fs::path run) : run_(std::move(run)), root_(run_ / "checkpoints") {}

  [[nodiscard]] const fs::path& root() const { return root_; }
  [[nodiscard]] static std::string name_of(std::int64_t step) { return "step-" + std::to_string(step); }

  /// Writes a checkpoint: `write_files(tmp_dir)` fills a temporary folder, which then becomes
  /// `step-<N>` and `latest`. Older checkpoints beyond `keep` (> 0) are removed afterwards.
  template <class Fill>
  fs::path save(std::int64_t step, std::size_t keep, Fill&& write_files) {
    fs::create_directories(root_);
    const fs::path tmp = root_ / (".tmp-" + name_of(step) + "-" + std::to_string(::getpid()));
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    try {
      write_files(tmp);  // each file written atomically (fsynced) by its writer
    } catch (...) {
      std::error_code ec;
      fs::remove_all(tmp, ec);
      throw;
    }
    fsync_directory(tmp);
    const fs::path final_dir = root_ / name_of(step);
    if (fs::exists(final_dir)) {  // the same step saved again (after a resume): replace it
      const fs::path old = root_ / (".old-" + name_of(step) + "-" + std::to_string(::getpid()));
      fs::rename(final_dir, old);
      fs::rename(tmp, final_dir);
      fs::remove_all(old);
    } else {
      fs::rename(tmp, final_dir);
    }
    fsync_directory(root_);
    write_file_atomically(root_ / "latest", name_of(step) + "\n");
    fsync_directory(root_);
    if (keep > 0) prune(keep);
    return final_dir;
  }

  /// The newest complete checkpoint: the one `latest` names, else the highest step-<N> folder
  /// (temporary folders of interrupted writes are ignored).
  [[nodiscard]] std::optional<fs::path> latest() const {
    if (!fs::exists(root_)) return std::nullopt;
    if (fs::exists(root_ / "latest")) {
      std::string name = read_file(root_ / "latest");
      while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
      if (name.rfind("step-", 0) == 0 && fs::exists(root_ / name / "state.json")) return root_ / name;
    }
    const auto all = steps();
    if (all.empty()) return std::nullopt;
    return root_ / name_of(all.back());
  }
  /// Steps of the complete checkpoints, ascending.
  [[nodiscard]] std::vector<std::int64_t> steps() const {
    std::vector<std::int64_t> out;
    if (!fs::exists(root_)) return out;
    for (const auto& e : fs::directory_iterator(root_)) {
      const std::string n = e.path().filename().string();
      if (!e.is_directory() || n.rfind("step-", 0) != 0 || !fs::exists(e.path() / "state.json")) continue;
      try {
        std::size_t used = 0;
        const auto v = std::stoll(n.substr(5), &used);
        if (used == n.size() - 5) out.push_back(v);
      } catch (const std::exception&) {
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  /// Removes temporary folders of interrupted writes (call once at start, single writer).
  void clean_temporaries() const {
    if (!fs::exists(root_)) return;
    for (const auto& e : fs::directory_iterator(root_)) {
      const std::string n = e.path().filename().string();
      if (n.rfind(".tmp-", 0) == 0 || n.rfind(".old-", 0) == 0) fs::remove_all(e.path());
    }
  }

 private:
  void prune(std::size_t keep) const {
    auto all = steps();
    while (all.size() > keep) {
      fs::remove_all(root_ / name_of(all.front()));
      all.erase(all.begin());
    }
  }
  fs::path run_, root_;
};

}  // namespace ecgbench::train
