// config.json of a Hugging Face checkpoint, torch-free: typed access with errors naming the file and
// key, and the checks shared by every architecture's options parser.
#pragma once

#include <filesystem>
#include <cstdint>
#include <string>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"

namespace ecgbench::hf {

/// config.json with the file name kept for error messages.
struct ModelConfig {
  Json json;
  std::string file;

  static ModelConfig load(const std::filesystem::path& dir) {
    const auto path = std::filesystem::is_directory(dir) ? dir / "config.json" : dir;
    if (!std::filesystem::exists(path)) throw Error({path.string(), {}, {}, {}}, "config.json not found");
    ModelConfig c{read_json(path), path.string()};
    if (!c.json.is_object()) throw Error({c.file, {}, {}, {}}, "config.json is not a JSON object");
    return c;
  }
  template <class T>
  [[nodiscard]] T get(const std::string& key, T fallback) const {
    if (!json.contains(key) || json[key].is_null()) return fallback;
    return json_as<T>(json[key], file, key);
  }
  template <class T>
  [[nodiscard]] T require(const std::string& key) const {
    if (!json.contains(key) || json[key].is_null()) throw Error({file, {}, {}, key}, "missing key '" + key + "'");
    return get<T>(key, T{});
  }
  /// Sizes must be positive (a zero head count would divide by zero later) and plausible.
  [[nodiscard]] std::int64_t require_size(const std::string& key) const { return checked_size(key, require<std::int64_t>(key)); }
  [[nodiscard]] std::int64_t get_size(const std::string& key, std::int64_t fallback) const {
    return checked_size(key, get<std::int64_t>(key, fallback));
  }
  [[nodiscard]] std::string architecture() const {
    if (json.contains("architectures") && json["architectures"].is_array() && !json["architectures"].empty()) {
      if (!json["architectures"][0].is_string()) throw Error({file, {}, {}, "architectures"}, "architectures[0] is not a string");
      return json["architectures"][0].get<std::string>();
    }
    return get<std::string>("model_type", "");
  }

 private:
  [[nodiscard]] std::int64_t checked_size(const std::string& key, std::int64_t v) const {
    if (v <= 0) throw Error({file, {}, {}, key}, "'" + key + "' must be positive, got " + std::to_string(v));
    if (v > (std::int64_t{1} << 40)) throw Error({file, {}, {}, key}, "'" + key + "' is implausibly large: " + std::to_string(v));
    return v;
  }
};

}  // namespace ecgbench::hf

namespace ecgbench::models {

/// Activation names the model ports implement (transformers' ACT2FN keys).
inline void check_activation(const std::string& name, const std::string& file) {
  for (const char* ok : {"silu", "swish", "gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "quick_gelu", "relu", "tanh"})
    if (name == ok) return;
  throw Error({file, {}, {}, "activation"}, "unsupported activation '" + name + "'");
}

}  // namespace ecgbench::models
