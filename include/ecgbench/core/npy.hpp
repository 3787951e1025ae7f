// NumPy `.npy` files (format versions 1.0-3.0): the interchange format for segments, golden
// outputs and app results. Reading memory-maps the file and validates the header against the file
// size; writing is atomic. Only C-order little-endian arrays of the dtypes below are supported;
// anything else is a clear error, never a misread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"
#include "ecgbench/core/mapped_file.hpp"

namespace ecgbench::npy {

enum class DType { f32, f64, i16, i32, i64, u8 };

inline std::string_view descr(DType t) {
  switch (t) {
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
    case DType::i16: return "<i2";
    case DType::i32: return "<i4";
    case DType::i64: return "<i8";
    case DType::u8: return "|u1";
  }
  return "?";
}
inline std::size_t item_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f64: return 8;
    case DType::i16: return 2;
    case DType::i32: return 4;
    case DType::i64: return 8;
    case DType::u8: return 1;
  }
  return 0;
}

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::f32;
  else if constexpr (std::is_same_v<T, double>) return DType::f64;
  else if constexpr (std::is_same_v<T, std::int16_t>) return DType::i16;
  else if constexpr (std::is_same_v<T, std::int32_t>) return DType::i32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return DType::i64;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return DType::u8;
  else static_assert(!sizeof(T), "npy: unsupported element type (use float, double, int16/32/64 or uint8)");
}

struct Header {
  DType dtype{};
  std::vector<std::size_t> shape;
  std::size_t data_offset = 0;  ///< byte offset of the first element
  [[nodiscard]] std::size_t count() const {
    return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
  }
};

namespace detail {

inline DType parse_descr(std::string_view d, const std::string& file) {
  if (d == "<f4" || d == "=f4") return DType::f32;
  if (d == "<f8" || d == "=f8") return DType::f64;
  if (d == "<i2" || d == "=i2") return DType::i16;
  if (d == "<i4" || d == "=i4") return DType::i32;
  if (d == "<i8" || d == "=i8") return DType::i64;
  if (d == "|u1" || d == "<u1" || d == "=u1" || d == "|b1") return DType::u8;
  throw Error({file, {}, {}, {}}, "unsupported .npy dtype '" + std::string(d) +
                                      "' (supported: <f4 <f8 <i2 <i4 <i8 |u1; big-endian and object arrays are not)");
}

// Value of `'key': ` in the header dict, up to the next top-level comma or closing brace.
inline std::string_view dict_value(std::string_view dict, std::string_view key, const std::string& file) {
  const std::string k1 = "'" + std::string(key) + "'";
  auto pos = dict.find(k1);
  if (pos == std::string_view::npos) throw Error({file, {}, {}, {}}, "malformed .npy header: no '" + std::string(key) + "'");
  pos = dict.find(':', pos + k1.size());
  if (pos == std::string_view::npos) throw Error({file, {}, {}, {}}, "malformed .npy header near '" + std::string(key) + "'");
  ++pos;
  while (pos < dict.size() && dict[pos] == ' ') ++pos;
  std::size_t end = pos;
  int depth = 0;
  while (end < dict.size()) {
    const char c = dict[end];
    if (c == '(') ++depth;
    else if (c == ')') --depth;
    else if ((c == ',' || c == '}') && depth == 0) break;
    ++end;
  }
  return dict.substr(pos, end - pos);
}

}  // namespace detail

/// Parses the header at the start of `bytes`; validates magic, version, dtype, order and that the
/// data fits in the file.
inline Header parse_header(std::span<const unsigned char> bytes, const std::string& file) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    throw Error({file, {}, 0, {}}, "not a .npy file (bad magic)");
  const unsigned major = bytes[6];
  std::size_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = bytes[8] | (bytes[9] << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw Error({file, {}, 0, {}}, "truncated .npy header");
    header_len = std::size_t(bytes[8]) | (std::size_t(bytes[9]) << 8) | (std::size_t(bytes[10]) << 16) | (std::size_t(bytes[11]) << 24);
    prefix = 12;
  } else {
    throw Error({file, {}, 6, {}}, "unsupported .npy format version " + std::to_string(major));
  }
  if (prefix + header_len > bytes.size()) throw Error({file, {}, prefix, {}}, "truncated .npy header");
  const std::string_view dict(reinterpret_cast<const char*>(bytes.data()) + prefix, header_len);

  Header h;
  auto d = detail::dict_value(dict, "descr", file);
  if (d.size() < 2 || (d.front() != '\'' && d.front() != '"')) throw Error({file, {}, prefix, {}}, "malformed .npy descr");
  h.dtype = detail::parse_descr(d.substr(1, d.size() - 2), file);
  const auto fo = detail::dict_value(dict, "fortran_order", file);
  if (fo.starts_with("True")) throw Error({file, {}, prefix, {}}, "Fortran-order .npy arrays are not supported; save with C order");
  if (!fo.starts_with("False")) throw Error({file, {}, prefix, {}}, "malformed .npy fortran_order");
  auto sh = detail::dict_value(dict, "shape", file);
  if (sh.size() < 2 || sh.front() != '(' || sh.back() != ')') throw Error({file, {}, prefix, {}}, "malformed .npy shape");
  sh = sh.substr(1, sh.size() - 2);
  std::size_t i = 0;
  while (i < sh.size()) {
    while (i < sh.size() && (sh[i] == ' ' || sh[i] == ',')) ++i;
    if (i >= sh.size()) break;
    std::size_t v = 0;
    std::size_t digits = 0;
    while (i < sh.size() && sh[i] >= '0' && sh[i] <= '9') {
      if (v > (std::size_t(1) << 48)) throw Error({file, {}, prefix, {}}, "implausible .npy dimension");
      v = v * 10 + static_cast<std::size_t>(sh[i++] - '0');
      ++digits;
    }
    if (digits == 0) throw Error({file, {}, prefix, {}}, "malformed .npy shape '" + std::string(sh) + "'");
    h.shape.push_back(v);
  }
  h.data_offset = prefix + header_len;
  // Overflow-safe: check each factor against the bytes available.
  std::size_t avail = bytes.size() - h.data_offset;
  std::size_t need = item_size(h.dtype);
  if (std::find(h.shape.begin(), h.shape.end(), std::size_t{0}) != h.shape.end()) need = 0;  // empty, e.g. (12, 0)
  for (auto dim : need ? h.shape : std::vector<std::size_t>{}) {
    if (dim != 0 && need > avail / dim) {
      need = SIZE_MAX;
      break;
    }
    need *= dim;
  }
  if (need > avail)
    throw Error({file, {}, h.data_offset, {}}, "truncated .npy data: header promises " +
                                                    (need == SIZE_MAX ? std::string("more") : std::to_string(need)) +
                                                    " bytes, file has " + std::to_string(avail));
  return h;
}

/// A read-only array backed by a memory map. Copy the data out with `to_vector<T>()`, or view it
/// without copying with `view<T>()` when the dtype matches exactly.
class Array {
 public:
  Array() = default;
  Array(std::shared_ptr<MappedFile> map, Header h) : map_(std::move(map)), header_(std::move(h)) {}

  [[nodiscard]] DType dtype() const { return header_.dtype; }
  [[nodiscard]] const std::vector<std::size_t>& shape() const { return header_.shape; }
  [[nodiscard]] std::size_t size() const { return header_.count(); }
  [[nodiscard]] const std::string& path() const { return map_->path(); }
  [[nodiscard]] const unsigned char* raw() const { return map_->data() + header_.data_offset; }

  template <class T>
  [[nodiscard]] std::span<const T> view() const {
    if (dtype_of<T>() != header_.dtype)
      throw Error({path(), {}, {}, {}}, "dtype is " + std::string(descr(header_.dtype)) + ", not " + std::string(descr(dtype_of<T>())));
    if (reinterpret_cast<std::uintptr_t>(raw()) % alignof(T) != 0)
      throw Error({path(), {}, {}, {}}, "data not aligned for a zero-copy view; use to_vector");
    return {reinterpret_cast<const T*>(raw()), size()};
  }

  /// Converts any supported dtype to T element by element.
  template <class T>
  [[nodiscard]] std::vector<T> to_vector() const {
    std::vector<T> out(size());
    auto convert = [&]<class S>(S*) {
      for (std::size_t i = 0; i < out.size(); ++i) {
        S v;
        std::memcpy(&v, raw() + i * sizeof(S), sizeof(S));
        out[i] = static_cast<T>(v);
      }
    };
    switch (header_.dtype) {
      case DType::f32: convert(static_cast<float*>(nullptr)); break;
      case DType::f64: convert(static_cast<double*>(nullptr)); break;
      case DType::i16: convert(static_cast<std::int16_t*>(nullptr)); break;
      case DType::i32: convert(static_cast<std::int32_t*>(nullptr)); break;
      case DType::i64: convert(static_cast<std::int64_t*>(nullptr)); break;
      case DType::u8: convert(static_cast<std::uint8_t*>(nullptr)); break;
    }
    return out;
  }

 private:
  std::shared_ptr<MappedFile> map_;
  Header header_;
};

inline Array load(const std::filesystem::path& path) {
  auto map = std::make_shared<MappedFile>(path);
  Header h = parse_header(map->bytes(), map->path());
  return Array(std::move(map), std::move(h));
}

/// Serialises the format-1.0 header for `shape` (padded so data starts on a 64-byte boundary).
inline std::string make_header(DType dtype, std::span<const std::size_t> shape) {
  std::string dict = "{'descr': '" + std::string(descr(dtype)) + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) dict += ",";
    if (i + 1 < shape.size()) dict += " ";
  }
  dict += "), }";
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  return out + dict;
}

/// Writes a C-order array atomically. `data.size()` must equal the product of `shape`.
template <class T>
void save(const std::filesystem::path& path, std::span<const T> data, std::span<const std::size_t> shape) {
  const std::size_t n = std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
  if (n != data.size())
    throw Error({path.string(), {}, {}, {}}, "npy save: shape holds " + std::to_string(n) + " elements, data has " + std::to_string(data.size()));
  const std::string header = make_header(dtype_of<T>(), shape);
  write_file_atomically(path, [&](std::ostream& o) {
    o.write(header.data(), static_cast<std::streamsize>(header.size()));
    o.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * sizeof(T)));
  });
}

template <class T>
void save(const std::filesystem::path& path, const std::vector<T>& data, std::initializer_list<std::size_t> shape) {
  const std::vector<std::size_t> s(shape);
  save<T>(path, std::span<const T>(data), std::span<const std::size_t>(s));
}

}  // namespace ecgbench::npy
