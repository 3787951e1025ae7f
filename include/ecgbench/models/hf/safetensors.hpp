// The safetensors format (Hugging Face checkpoints), torch-free: an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian data. The
// reader memory-maps the file and validates the header completely before anything is read (offsets in
// bounds, no overlaps, byte counts equal to shape x dtype); the writer is atomic.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"
#include "ecgbench/core/mapped_file.hpp"

namespace ecgbench::hf {

enum class StDType { f64, f32, f16, bf16, i64, i32, i16, i8, u8, boolean };

inline std::size_t element_size(StDType t) {
  switch (t) {
    case StDType::f64: case StDType::i64: return 8;
    case StDType::f32: case StDType::i32: return 4;
    case StDType::f16: case StDType::bf16: case StDType::i16: return 2;
    case StDType::i8: case StDType::u8: case StDType::boolean: return 1;
  }
  return 0;
}
inline std::string_view dtype_name(StDType t) {
  switch (t) {
    case StDType::f64: return "F64";
    case StDType::f32: return "F32";
    case StDType::f16: return "F16";
    case StDType::bf16: return "BF16";
    case StDType::i64: return "I64";
    case StDType::i32: return "I32";
    case StDType::i16: return "I16";
    case StDType::i8: return "I8";
    case StDType::u8: return "U8";
    case StDType::boolean: return "BOOL";
  }
  return "?";
}
inline std::optional<StDType> parse_dtype(std::string_view s) {
  for (StDType t : {StDType::f64, StDType::f32, StDType::f16, StDType::bf16, StDType::i64, StDType::i32, StDType::i16, StDType::i8,
                    StDType::u8, StDType::boolean})
    if (dtype_name(t) == s) return t;
  return std::nullopt;
}

/// One tensor inside a mapped file (no copy).
struct TensorView {
  std::string name;
  StDType dtype = StDType::f32;
  std::vector<std::int64_t> shape;
  const unsigned char* data = nullptr;
  std::size_t bytes = 0;
  [[nodiscard]] std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

/// A validated, memory-mapped safetensors file.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path) : map_(std::make_shared<MappedFile>(path)) {
    const std::string file = map_->path();
    const auto bytes = map_->bytes();
    if (bytes.size() < 8) throw Error({file, {}, 0, {}}, "not a safetensors file: shorter than its 8-byte header length");
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[static_cast<std::size_t>(i)];
    if (n > bytes.size() - 8) throw Error({file, {}, 0, {}}, "header length " + std::to_string(n) + " exceeds the file size " + std::to_string(bytes.size()));
    const std::string_view header(reinterpret_cast<const char*>(bytes.data()) + 8, n);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(header);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error({file, {}, 8 + e.byte, {}}, std::string("invalid safetensors JSON header: ") + e.what());
    } catch (const nlohmann::json::exception& e) {  // e.g. a number too large
      throw Error({file, {}, 8, {}}, std::string("invalid safetensors JSON header: ") + e.what());
    }
    if (!j.is_object()) throw Error({file, {}, 8, {}}, "safetensors header is not a JSON object");
    const unsigned char* data = bytes.data() + 8 + n;
    const std::size_t data_size = bytes.size() - 8 - n;
    for (const auto& item : j.items()) {
      const std::string& name = item.key();  // (not a structured binding: clang 14 cannot capture those)
      const auto& v = item.value();
      if (name == "__metadata__") {
        if (v.is_object())
          for (const auto& [k, x] : v.items())
            if (x.is_string()) metadata_[k] = x.get<std::string>();
        continue;
      }
      auto bad = [&](const std::string& why) { return Error({file, {}, {}, "tensor '" + name + "'"}, why); };
      if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
        throw bad("entry lacks dtype, shape or data_offsets");
      if (!v["dtype"].is_string()) throw bad("dtype is not a string");
      const auto dtype = parse_dtype(v["dtype"].get<std::string>());
      if (!dtype) throw bad("unsupported dtype '" + v["dtype"].get<std::string>() + "'");
      TensorView t;
      t.name = name;
      t.dtype = *dtype;
      std::uint64_t count = 1;
      bool overflow = false;
      if (!v["shape"].is_array()) throw bad("shape is not an array");
      for (const auto& d : v["shape"]) {
        if (!d.is_number_unsigned()) throw bad("shape has a negative or non-integer dimension");
        const auto dim = d.get<std::uint64_t>();
        if (dim != 0 && count > (std::uint64_t{1} << 62) / dim) overflow = true;
        count *= dim;
        t.shape.push_back(static_cast<std::int64_t>(dim));
      }
      const auto& off = v["data_offsets"];
      if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
        throw bad("data_offsets is not [begin, end]");
      const auto b = off[0].get<std::uint64_t>(), e = off[1].get<std::uint64_t>();
      if (b > e || e > data_size)
        throw bad("data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "] outside the " + std::to_string(data_size) + " data bytes");
      if (overflow || e - b != count * element_size(t.dtype))
        throw bad("data_offsets span " + std::to_string(e - b) + " bytes but the shape and dtype need " +
                  (overflow ? std::string("more") : std::to_string(count * element_size(t.dtype))));
      t.data = data + b;
      t.bytes = static_cast<std::size_t>(e - b);
      tensors_.emplace(name, std::move(t));
    }
    // No two tensors may share bytes.
    std::vector<const TensorView*> by_offset;
    for (const auto& [k, t] : tensors_) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->data < b->data; });
    for (std::size_t i = 1; i < by_offset.size(); ++i)
      if (by_offset[i]->data < by_offset[i - 1]->data + by_offset[i - 1]->bytes)
        throw Error({file, {}, {}, "tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name + "'"}, "data ranges overlap");
  }

  [[nodiscard]] const std::string& path() const { return map_->path(); }
  [[nodiscard]] const std::map<std::string, TensorView>& tensors() const noexcept { return tensors_; }
  [[nodiscard]] const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }
  [[nodiscard]] const TensorView* find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
  }

 private:
  std::shared_ptr<MappedFile> map_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

/// One tensor to write: raw little-endian bytes.
struct TensorBytes {
  StDType dtype = StDType::f32;
  std::vector<std::int64_t> shape;
  std::string bytes;
};

/// Writes a safetensors file atomically: tensors in name order, header padded with spaces to 8 bytes.
inline void write_safetensors(const std::filesystem::path& path, const std::map<std::string, TensorBytes>& tensors,
                              const std::map<std::string, std::string>& metadata = {{"format", "pt"}}) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    std::uint64_t count = 1;
    for (auto d : t.shape) count *= static_cast<std::uint64_t>(d);
    if (count * element_size(t.dtype) != t.bytes.size())
      throw Error({path.string(), {}, {}, "tensor '" + name + "'"}, "byte count does not match shape and dtype");
    header[name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string h;
  try {
    h = header.dump();
  } catch (const nlohmann::json::exception&) {  // names from a damaged .pth may not be UTF-8 (Python's str always is)
    throw Error({path.string(), {}, {}, "tensor names"}, "a tensor name or metadata value is not valid UTF-8");
  }
  h.append((8 - h.size() % 8) % 8, ' ');
  write_file_atomically(path, [&](std::ostream& o) {
    const std::uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) o.put(static_cast<char>((n >> (8 * i)) & 0xff));
    o.write(h.data(), static_cast<std::streamsize>(h.size()));
    for (const auto& [name, t] : tensors) o.write(t.bytes.data(), static_cast<std::streamsize>(t.bytes.size()));
  });
}

}  // namespace ecgbench::hf
