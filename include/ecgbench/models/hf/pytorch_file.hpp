// PyTorch checkpoints as `torch.save` writes them (PyTorch >= 1.6: a zip archive holding
// `<name>/data.pkl` and one raw little-endian file per storage, `<name>/data/<key>`), torch-free
// and without running any code: the pickle is read by the whitelist reader (tokenize/pickle_reader)
// that accepts only `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` /
// `_rebuild_parameter` and the typed storage classes. State dicts may be wrapped
// (`{"model": state_dict, "epoch": 3}`, `model_state_dict`, `state_dict`); nested dicts of tensors
// are flattened with dots. Tensors become `TensorView`s: contiguous ones point into the mapped
// file, strided or offset views are copied once.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/mapped_file.hpp"
#include "ecgbench/models/hf/safetensors.hpp"
#include "ecgbench/tokenize/pickle_reader.hpp"

namespace ecgbench::hf {

/// The entries of a zip archive with stored (uncompressed) members, as torch.save writes them.
class ZipDirectory {
 public:
  struct Entry {
    std::uint64_t offset = 0, size = 0;  ///< of the member's data within the archive
    std::uint16_t method = 0;
  };

  ZipDirectory(std::span<const unsigned char> bytes, std::string name) : b_(bytes), name_(std::move(name)) {
    if (b_.size() < 22) fail(0, "not a zip archive: too short");
    // End of central directory: the last signature within the final 64 KiB + 22 bytes.
    std::uint64_t eocd = b_.size() - 22;
    const std::uint64_t stop = b_.size() > 65557 ? b_.size() - 65557 : 0;
    while (u32(eocd) != 0x06054b50) {
      if (eocd == stop) fail(0, "not a zip archive: no end-of-central-directory record");
      --eocd;
    }
    std::uint64_t count = u16(eocd + 10), dir_size = u32(eocd + 12), dir_offset = u32(eocd + 16);
    if (count == 0xffff || dir_size == 0xffffffff || dir_offset == 0xffffffff) {  // zip64
      if (eocd < 20 || u32(eocd - 20) != 0x07064b50) fail(eocd, "zip64 archive without its locator");
      const std::uint64_t rec = u64(eocd - 20 + 8);
      if (u32(rec) != 0x06064b50) fail(rec, "bad zip64 end-of-central-directory record");
      count = u64(rec + 32), dir_size = u64(rec + 40), dir_offset = u64(rec + 48);
    }
    if (dir_offset > b_.size() || dir_size > b_.size() - dir_offset) fail(eocd, "central directory lies outside the file");
    if (count > dir_size / 46) fail(eocd, "central directory entry count does not fit its size");
    std::uint64_t p = dir_offset;
    for (std::uint64_t i = 0; i < count; ++i) {
      if (u32(p) != 0x02014b50) fail(p, "bad central directory entry");
      Entry e;
      e.method = u16(p + 10);
      std::uint64_t csize = u32(p + 20), usize = u32(p + 24), local = u32(p + 42);
      const std::uint64_t name_len = u16(p + 28), extra_len = u16(p + 30), comment_len = u16(p + 32);
      const std::string entry_name(reinterpret_cast<const char*>(at(p + 46, name_len)), name_len);
      // zip64 extra field: the 64-bit values replace the saturated ones, in this order.
      std::uint64_t x = p + 46 + name_len;
      const std::uint64_t x_end = x + extra_len;
      (void)at(x, extra_len);
      while (x + 4 <= x_end) {
        const std::uint16_t id = u16(x), len = u16(x + 2);
        if (x + 4 + len > x_end) fail(x, "zip extra field runs past its entry");
        if (id == 0x0001) {
          std::uint64_t q = x + 4;
          auto take = [&](std::uint64_t& v) {
            if (v != 0xffffffff) return;
            if (q + 8 > x + 4 + len) fail(x, "short zip64 extra field");
            v = u64(q);
            q += 8;
          };
          take(usize), take(csize), take(local);
        }
        x += 4 + len;
      }
      if (u32(local) != 0x04034b50) fail(local, "bad local header of '" + entry_name + "'");
      const std::uint64_t data = local + 30 + u16(local + 26) + u16(local + 28);
      if (data > b_.size() || csize > b_.size() - data) fail(local, "member '" + entry_name + "' runs past the end of the archive");
      e.offset = data;
      e.size = csize;
      if (e.method == 0 && csize != usize) fail(local, "stored member '" + entry_name + "' has differing sizes");
      entries_[entry_name] = e;
      p += 46 + name_len + extra_len + comment_len;
    }
  }

  [[nodiscard]] const std::map<std::string, Entry>& entries() const { return entries_; }
  /// The bytes of a stored member; compressed members are refused (torch.save never compresses).
  [[nodiscard]] std::span<const unsigned char> data(const std::string& member) const {
    auto it = entries_.find(member);
    if (it == entries_.end()) throw Error({name_, {}, {}, member}, "the archive has no member '" + member + "'");
    if (it->second.method != 0) throw Error({name_, {}, {}, member}, "compressed zip member (torch.save stores members uncompressed)");
    return b_.subspan(it->second.offset, it->second.size);
  }

 private:
  [[noreturn]] void fail(std::uint64_t off, const std::string& what) const { throw Error({name_, {}, off, {}}, what); }
  const unsigned char* at(std::uint64_t off, std::uint64_t n) const {
    if (off > b_.size() || n > b_.size() - off) fail(off, "truncated zip archive");
    return b_.data() + off;
  }
  std::uint64_t le(std::uint64_t off, int n) const {
    const unsigned char* p = at(off, static_cast<std::uint64_t>(n));
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }
  std::uint16_t u16(std::uint64_t off) const { return static_cast<std::uint16_t>(le(off, 2)); }
  std::uint32_t u32(std::uint64_t off) const { return static_cast<std::uint32_t>(le(off, 4)); }
  std::uint64_t u64(std::uint64_t off) const { return le(off, 8); }

  std::span<const unsigned char> b_;
  std::string name_;
  std::map<std::string, Entry> entries_;
};

/// A `torch.save` checkpoint: its tensors by (flattened) name, and the plain values beside them
/// (`epoch`, ...) as their pickle values.
class PytorchFile {
 public:
  explicit PytorchFile(const std::filesystem::path& path) : map_(std::make_shared<MappedFile>(path)) { parse(map_->bytes(), map_->path()); }
  /// Reads a checkpoint held in memory; `bytes` must outlive the object.
  PytorchFile(std::span<const unsigned char> bytes, std::string name) { parse(bytes, std::move(name)); }

  [[nodiscard]] const std::string& path() const { return name_; }
  [[nodiscard]] const std::map<std::string, TensorView>& tensors() const noexcept { return tensors_; }
  [[nodiscard]] const TensorView* find(const std::string& name) const {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
  }
  /// Plain top-level values of a wrapped checkpoint (`epoch`, `step`), by key.
  [[nodiscard]] const std::map<std::string, tokenize::PyValue>& extras() const noexcept { return extras_; }

  static const std::set<std::string>& allowed_globals() {
    static const std::set<std::string> g = [] {
      std::set<std::string> s{"collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter"};
      for (const auto& [storage, dtype] : storage_types()) s.insert("torch." + storage);
      return s;
    }();
    return g;
  }

 private:
  static const std::map<std::string, StDType>& storage_types() {
    static const std::map<std::string, StDType> m{
        {"FloatStorage", StDType::f32}, {"DoubleStorage", StDType::f64}, {"HalfStorage", StDType::f16}, {"BFloat16Storage", StDType::bf16},
        {"LongStorage", StDType::i64},  {"IntStorage", StDType::i32},    {"ShortStorage", StDType::i16}, {"CharStorage", StDType::i8},
        {"ByteStorage", StDType::u8},   {"BoolStorage", StDType::boolean}};
    return m;
  }

  struct Storage {
    StDType dtype;
    std::span<const unsigned char> bytes;
  };

  void parse(std::span<const unsigned char> bytes, std::string name) {
    name_ = std::move(name);
    if (bytes.size() >= 2 && bytes[0] == 0x80 && bytes[1] <= 5)
      throw Error({name_, {}, 0, {}}, "legacy torch.save format (PyTorch < 1.6) is not supported: re-save it with a current PyTorch");
    if (bytes.size() < 4 || std::memcmp(bytes.data(), "PK\x03\x04", 4) != 0)
      throw Error({name_, {}, 0, {}}, "not a PyTorch checkpoint: expected a zip archive as torch.save writes it");
    const ZipDirectory zip(bytes, name_);
    // The pickle sits at `<archive name>/data.pkl` (torch >= 1.6) or at the top level.
    std::string prefix;
    int found = 0;
    for (const auto& [member, e] : zip.entries()) {
      const auto slash = member.find('/');
      const bool top = member == "data.pkl" || (slash != std::string::npos && slash == member.rfind('/') && member.substr(slash + 1) == "data.pkl");
      if (!top) continue;
      if (++found > 1) throw Error({name_, {}, {}, member}, "archive holds more than one data.pkl");
      prefix = member.substr(0, member.size() - 8);
    }
    if (!found) throw Error({name_, {}, {}, {}}, "the archive holds no data.pkl: not a torch.save checkpoint");
    if (zip.entries().count(prefix + "byteorder")) {
      const auto bo = zip.data(prefix + "byteorder");
      if (std::string_view(reinterpret_cast<const char*>(bo.data()), bo.size()) != "little")
        throw Error({name_, {}, {}, prefix + "byteorder"}, "big-endian checkpoints are not supported");
    }
    const auto pkl = zip.data(prefix + "data.pkl");
    const tokenize::PyValue root =
        tokenize::read_pickle(std::string_view(reinterpret_cast<const char*>(pkl.data()), pkl.size()), name_ + ":" + prefix + "data.pkl", allowed_globals());
    if (!root.is(tokenize::PyValue::Kind::dict)) throw Error({name_, {}, {}, {}}, "the checkpoint's pickle is not a dict (state_dict expected)");
    // A wrapper holds the state dict under one of these keys; its other values are extras.
    const tokenize::PyValue* sd = &root;
    for (const auto& [k, v] : *root.entries) {
      if (!k.is(tokenize::PyValue::Kind::string)) continue;
      if ((k.s == "model" || k.s == "state_dict" || k.s == "model_state_dict") && v.is(tokenize::PyValue::Kind::dict)) sd = &v;
    }
    if (sd != &root)
      for (const auto& [k, v] : *root.entries)
        if (k.is(tokenize::PyValue::Kind::string) && &v != sd && !v.is(tokenize::PyValue::Kind::dict) && !v.is(tokenize::PyValue::Kind::object)) extras_[k.s] = v;
    flatten(*sd, "", zip, prefix, 0);
    if (tensors_.empty()) throw Error({name_, {}, {}, {}}, "the checkpoint holds no tensors");
  }

  void flatten(const tokenize::PyValue& d, const std::string& scope, const ZipDirectory& zip, const std::string& prefix, int depth) {
    if (depth > 8) throw Error({name_, {}, {}, scope}, "state dict nested too deeply");
    for (const auto& [k, v] : *d.entries) {
      if (!k.is(tokenize::PyValue::Kind::string)) throw Error({name_, {}, {}, scope}, "a state dict key is not a string");
      const std::string name = scope.empty() ? k.s : scope + "." + k.s;
      if (v.is(tokenize::PyValue::Kind::object)) add_tensor(name, v, zip, prefix);
      else if (v.is(tokenize::PyValue::Kind::dict)) flatten(v, name, zip, prefix, depth + 1);
      // other values (ints, strings, None) are not tensors: skipped
    }
  }

  static std::int64_t as_int(const tokenize::PyValue& v, const std::string& what, const std::string& file) {
    if (!v.is(tokenize::PyValue::Kind::integer)) throw Error({file, {}, {}, what}, "expected an integer");
    return v.i;
  }
  static std::vector<std::int64_t> as_ints(const tokenize::PyValue& v, const std::string& what, const std::string& file) {
    if (!v.is(tokenize::PyValue::Kind::tuple) && !v.is(tokenize::PyValue::Kind::list)) throw Error({file, {}, {}, what}, "expected a tuple of integers");
    std::vector<std::int64_t> out;
    for (const auto& x : *v.items) out.push_back(as_int(x, what, file));
    return out;
  }

  void add_tensor(const std::string& name, const tokenize::PyValue& obj, const ZipDirectory& zip, const std::string& prefix) {
    const std::string ctx = "tensor '" + name + "'";
    auto bad = [&](const std::string& why) { return Error({name_, {}, {}, ctx}, why); };
    const tokenize::PyValue* rebuild = &obj;
    if (obj.s == "torch._utils._rebuild_parameter") {  // Parameter(data, requires_grad, hooks)
      if (obj.items->empty() || !(*obj.items)[0].is(tokenize::PyValue::Kind::object)) throw bad("malformed _rebuild_parameter record");
      rebuild = &(*obj.items)[0];
    }
    if (rebuild->s != "torch._utils._rebuild_tensor_v2") throw bad("'" + rebuild->s + "' is not a tensor record");
    const auto& a = *rebuild->items;  // (storage, storage_offset, size, stride, requires_grad, hooks[, metadata])
    if (a.size() < 4 || !a[0].is(tokenize::PyValue::Kind::persistent)) throw bad("malformed _rebuild_tensor_v2 record");
    const auto& pid = *a[0].items;  // ('storage', storage_type, key, location, numel)
    if (pid.size() != 5 || !pid[0].is(tokenize::PyValue::Kind::string) || pid[0].s != "storage" || !pid[1].is(tokenize::PyValue::Kind::global) ||
        !pid[2].is(tokenize::PyValue::Kind::string))
      throw bad("malformed storage reference");
    const std::string storage_class = pid[1].s.substr(pid[1].s.rfind('.') + 1);
    const auto type_it = storage_types().find(storage_class);
    if (type_it == storage_types().end()) throw bad("unsupported storage type '" + pid[1].s + "'");
    const std::string key = pid[2].s;
    const std::int64_t numel_storage = as_int(pid[4], ctx, name_);
    auto st = storages_.find(key);
    if (st == storages_.end()) {
      const auto data = zip.data(prefix + "data/" + key);
      if (numel_storage < 0 || data.size() != static_cast<std::uint64_t>(numel_storage) * element_size(type_it->second))
        throw Error({name_, {}, {}, prefix + "data/" + key}, "storage holds " + std::to_string(data.size()) + " bytes, its record says " +
                                                                std::to_string(numel_storage) + " elements of " + std::string(dtype_name(type_it->second)));
      st = storages_.emplace(key, Storage{type_it->second, data}).first;
    } else if (st->second.dtype != type_it->second) {
      throw bad("storage '" + key + "' is referenced with two dtypes");
    }
    const std::int64_t offset = as_int(a[1], ctx, name_);
    const auto shape = as_ints(a[2], ctx, name_), stride = as_ints(a[3], ctx, name_);
    if (shape.size() != stride.size()) throw bad("size and stride differ in length");
    const std::size_t esize = element_size(st->second.dtype);
    const std::int64_t storage_numel = static_cast<std::int64_t>(st->second.bytes.size() / esize);
    // Bounds: the largest index the view touches must lie in the storage.
    std::int64_t numel = 1, last = offset;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] < 0 || stride[i] < 0) throw bad("negative size or stride");
      if (shape[i] != 0 && numel > (std::int64_t{1} << 40) / shape[i]) throw bad("implausibly large tensor");
      numel *= shape[i];
    }
    if (numel > 0)
      for (std::size_t i = 0; i < shape.size(); ++i) {
        if (stride[i] > (std::int64_t{1} << 40)) throw bad("implausible stride");
        last += (shape[i] - 1) * stride[i];
      }
    if (offset < 0 || (numel > 0 && last >= storage_numel)) throw bad("view lies outside its storage of " + std::to_string(storage_numel) + " elements");
    TensorView t;
    t.name = name;
    t.dtype = st->second.dtype;
    t.shape = shape;
    t.bytes = static_cast<std::size_t>(numel) * esize;
    bool contiguous = true;
    std::int64_t expect = 1;
    for (std::size_t i = shape.size(); i-- > 0;) {
      if (shape[i] != 1 && stride[i] != expect) contiguous = false;
      expect *= shape[i];
    }
    if (contiguous || numel == 0) {
      t.data = st->second.bytes.data() + static_cast<std::size_t>(offset) * esize;
    } else {
      auto& buf = owned_.emplace_back(std::make_unique<std::string>(t.bytes, '\0'));
      std::vector<std::int64_t> idx(shape.size(), 0);
      for (std::int64_t n = 0; n < numel; ++n) {
        std::int64_t src = offset;
        for (std::size_t i = 0; i < shape.size(); ++i) src += idx[i] * stride[i];
        std::memcpy(buf->data() + static_cast<std::size_t>(n) * esize, st->second.bytes.data() + static_cast<std::size_t>(src) * esize, esize);
        for (std::size_t i = shape.size(); i-- > 0;) {
          if (++idx[i] < shape[i]) break;
          idx[i] = 0;
        }
      }
      t.data = reinterpret_cast<const unsigned char*>(buf->data());
    }
    if (!tensors_.emplace(name, std::move(t)).second) throw bad("duplicate tensor name");
  }

  std::shared_ptr<MappedFile> map_;
  std::string name_;
  std::map<std::string, Storage> storages_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, tokenize::PyValue> extras_;
  std::vector<std::unique_ptr<std::string>> owned_;
};

/// True when `path` starts like a zip archive (torch.save's format) rather than safetensors.
inline bool looks_like_pytorch_file(const std::filesystem::path& path) {
  const auto ext = path.extension().string();
  return ext == ".pth" || ext == ".pt" || ext == ".bin" || ext == ".ckpt";
}

}  // namespace ecgbench::hf
