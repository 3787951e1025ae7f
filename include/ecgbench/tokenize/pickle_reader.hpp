// A small, safe reader for the Python pickles upstream ECG-Bench ships its ECG-Byte tokenizers in:
// it interprets only the opcodes that build None/bool/int/float/str/bytes/list/tuple/dict values
// (protocols 2-5) and rejects everything else (GLOBAL, REDUCE, BUILD, INST, ...) with a clear
// error, so a malicious pickle can never run code or allocate without bound.
// A caller may name a whitelist of globals (torch.save's `torch._utils._rebuild_tensor_v2`,
// `collections.OrderedDict`, ...): then GLOBAL / STACK_GLOBAL of those names, REDUCE on them,
// BUILD on dicts and BINPERSID are read as inert records (`global`, `object`, `persistent`) that
// the caller interprets. Nothing is ever called.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "ecgbench/core/error.hpp"

namespace ecgbench::tokenize {

struct PyValue {
  // global: s = "module.name"; object: a REDUCE record, s = the callable's name, items = its
  // arguments; persistent: a BINPERSID record, items = the persistent id's tuple.
  enum class Kind { none, boolean, integer, real, string, bytes, list, tuple, dict, mark, global, object, persistent };
  Kind kind = Kind::none;
  std::int64_t i = 0;
  double f = 0;
  std::string s;                               ///< str (UTF-8) or bytes
  std::shared_ptr<std::vector<PyValue>> items;  ///< list / tuple
  std::shared_ptr<std::vector<std::pair<PyValue, PyValue>>> entries;  ///< dict, insertion order

  [[nodiscard]] bool is(Kind k) const { return kind == k; }
};

namespace detail {

class PickleMachine {
 public:
  PickleMachine(std::string_view data, std::string name, const std::set<std::string>* globals = nullptr)
      : d_(data), name_(std::move(name)), globals_(globals) {}

  PyValue run() {
    while (true) {
      if (pos_ >= d_.size()) fail("truncated pickle: no STOP opcode");
      const auto op = static_cast<unsigned char>(d_[pos_++]);
      switch (op) {
        case 0x80: u8(); break;                 // PROTO
        case 0x95: bytes(8); break;             // FRAME (length ignored: we read the whole buffer)
        case '.': {                             // STOP
          if (stack_.size() != 1) fail("malformed pickle: stack holds " + std::to_string(stack_.size()) + " values at STOP");
          return stack_.back();
        }
        case 'N': push({}); break;
        case 0x88: push(make_bool(true)); break;
        case 0x89: push(make_bool(false)); break;
        case 'J': push(make_int(static_cast<std::int32_t>(le(4)))); break;   // BININT
        case 'K': push(make_int(static_cast<std::int64_t>(le(1)))); break;   // BININT1
        case 'M': push(make_int(static_cast<std::int64_t>(le(2)))); break;   // BININT2
        case 0x8a: {                                                          // LONG1
          const auto n = u8();
          if (n > 8) fail("integer too large (" + std::to_string(n) + " bytes)");
          std::uint64_t v = 0;
          const auto b = bytes(n);
          for (std::size_t k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b[k])) << (8 * k);
          if (n > 0 && n < 8 && (static_cast<unsigned char>(b[n - 1]) & 0x80)) v |= ~std::uint64_t{0} << (8 * n);  // sign-extend
          push(make_int(static_cast<std::int64_t>(v)));
          break;
        }
        case 'G': {  // BINFLOAT, big-endian double
          const auto b = bytes(8);
          std::uint64_t v = 0;
          for (int k = 0; k < 8; ++k) v = (v << 8) | static_cast<unsigned char>(b[k]);
          PyValue x;
          x.kind = PyValue::Kind::real;
          std::memcpy(&x.f, &v, 8);
          push(std::move(x));
          break;
        }
        case 0x8c: push(make_str(bytes(u8()))); break;                  // SHORT_BINUNICODE
        case 'X': push(make_str(bytes(le(4)))); break;                   // BINUNICODE
        case 0x8d: push(make_str(bytes(le(8)))); break;                  // BINUNICODE8
        case 'C': push(make_bytes(bytes(u8()))); break;                  // SHORT_BINBYTES
        case 'B': push(make_bytes(bytes(le(4)))); break;                 // BINBYTES
        case ']': push(make_seq(PyValue::Kind::list)); break;            // EMPTY_LIST
        case ')': push(make_seq(PyValue::Kind::tuple)); break;           // EMPTY_TUPLE
        case '}': push(make_dict()); break;                              // EMPTY_DICT
        case '(': {                                                      // MARK
          PyValue m;
          m.kind = PyValue::Kind::mark;
          push(std::move(m));
          break;
        }
        case 'a': {  // APPEND
          auto v = pop();
          append(top(PyValue::Kind::list), std::move(v));
          break;
        }
        case 'e': {  // APPENDS
          auto items = pop_to_mark();
          auto& l = top(PyValue::Kind::list);
          for (auto& v : items) append(l, std::move(v));
          break;
        }
        case 's': {  // SETITEM
          auto v = pop();
          auto k = pop();
          set_item(top(PyValue::Kind::dict), std::move(k), std::move(v));
          break;
        }
        case 'u': {  // SETITEMS
          auto items = pop_to_mark();
          if (items.size() % 2) fail("SETITEMS with an odd number of values");
          auto& dct = top(PyValue::Kind::dict);
          for (std::size_t k = 0; k < items.size(); k += 2) set_item(dct, std::move(items[k]), std::move(items[k + 1]));
          break;
        }
        case 't': {  // TUPLE
          auto items = pop_to_mark();
          push(make_tuple(std::move(items)));
          break;
        }
        case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
          const std::size_t n = op - 0x84;
          if (stack_.size() < n) fail("stack underflow in TUPLE" + std::to_string(n));
          std::vector<PyValue> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          for (auto& v : items)
            if (v.is(PyValue::Kind::mark)) fail("MARK inside TUPLE" + std::to_string(n));
          push(make_tuple(std::move(items)));
          break;
        }
        case 0x94: memo_.push_back(peek()); break;                               // MEMOIZE
        case 'q': memo_put(le(1)); break;                                        // BINPUT
        case 'r': memo_put(le(4)); break;                                        // LONG_BINPUT
        case 'h': push(memo_get(le(1))); break;                                  // BINGET
        case 'j': push(memo_get(le(4))); break;                                  // LONG_BINGET
        case '0': pop(); break;                                                  // POP
        case 'c': {                                                              // GLOBAL "module\nname\n"
          if (!globals_) refuse(op);
          const std::string module = line(), qual = line();
          push(make_global(module, qual));
          break;
        }
        case 0x93: {                                                             // STACK_GLOBAL
          if (!globals_) refuse(op);
          auto qual = pop(), module = pop();
          if (!module.is(PyValue::Kind::string) || !qual.is(PyValue::Kind::string)) fail("STACK_GLOBAL needs two strings");
          push(make_global(module.s, qual.s));
          break;
        }
        case 'R': {                                                              // REDUCE callable(*args)
          if (!globals_) refuse(op);
          auto args = pop();
          auto callable = pop();
          if (!callable.is(PyValue::Kind::global)) fail("REDUCE on a value that is not a whitelisted global");
          if (!args.is(PyValue::Kind::tuple)) fail("REDUCE arguments are not a tuple");
          if (callable.s == "collections.OrderedDict") {
            if (!args.items->empty()) fail("OrderedDict called with arguments");
            push(make_dict());
          } else {
            PyValue o;
            o.kind = PyValue::Kind::object;
            o.s = callable.s;
            o.items = args.items;
            push(std::move(o));
          }
          break;
        }
        case 'b': {                                                              // BUILD obj.__setstate__(state)
          if (!globals_) refuse(op);
          (void)pop();  // the state of an OrderedDict (`_metadata` of a state_dict) is not needed
          if (stack_.empty() || !stack_.back().is(PyValue::Kind::dict)) fail("BUILD is only accepted on dicts");
          break;
        }
        case 'Q': {                                                              // BINPERSID
          if (!globals_) refuse(op);
          auto pid = pop();
          if (!pid.is(PyValue::Kind::tuple)) fail("persistent id is not a tuple");
          PyValue p;
          p.kind = PyValue::Kind::persistent;
          p.items = pid.items;
          push(std::move(p));
          break;
        }
        default: refuse(op);
      }
      if (stack_.size() > 10'000'000) fail("pickle stack too deep");
    }
  }

 private:
  [[noreturn]] void refuse(unsigned char op) const {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", op);
    fail(std::string("unsupported pickle opcode ") + buf +
         (globals_ ? " (only plain data and whitelisted torch records are accepted)"
                   : " (only plain data is accepted: objects, globals and reduce calls are refused)"));
  }
  std::string line() {
    const auto end = d_.find('\n', pos_);
    if (end == std::string_view::npos || end - pos_ > 256) fail("GLOBAL name is not a short newline-terminated line");
    std::string s(d_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  PyValue make_global(const std::string& module, const std::string& qual) {
    const std::string full = module + "." + qual;
    if (!globals_->count(full)) fail("global '" + full + "' is not on the whitelist (refused: a pickle may only name known torch records)");
    PyValue g;
    g.kind = PyValue::Kind::global;
    g.s = full;
    return g;
  }
  [[noreturn]] void fail(const std::string& what) const { throw Error({name_, {}, pos_, {}}, what); }
  std::uint8_t u8() { return static_cast<std::uint8_t>(le(1)); }
  std::uint64_t le(std::size_t n) {
    if (d_.size() - pos_ < n) fail("truncated pickle");
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(d_[pos_ + k])) << (8 * k);
    pos_ += n;
    return v;
  }
  std::string_view bytes(std::uint64_t n) {
    if (d_.size() - pos_ < n) fail("truncated pickle (a string runs past the end)");
    auto s = d_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  void push(PyValue v) { stack_.push_back(std::move(v)); }
  PyValue pop() {
    if (stack_.empty() || stack_.back().is(PyValue::Kind::mark)) fail("stack underflow");
    auto v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  const PyValue& peek() {
    if (stack_.empty()) fail("MEMOIZE on an empty stack");
    return stack_.back();
  }
  PyValue& top(PyValue::Kind k) {
    if (stack_.empty() || !stack_.back().is(k)) fail("opcode applied to the wrong kind of value");
    return stack_.back();
  }
  std::vector<PyValue> pop_to_mark() {
    std::size_t m = stack_.size();
    while (m > 0 && !stack_[m - 1].is(PyValue::Kind::mark)) --m;
    if (m == 0) fail("no MARK on the stack");
    std::vector<PyValue> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(m)), std::make_move_iterator(stack_.end()));
    stack_.resize(m - 1);
    return items;
  }
  void memo_put(std::uint64_t idx) {
    if (idx > 10'000'000) fail("memo index too large");
    if (memo_.size() <= idx) memo_.resize(idx + 1);
    memo_[idx] = peek();
  }
  PyValue memo_get(std::uint64_t idx) {
    if (idx >= memo_.size()) fail("memo index " + std::to_string(idx) + " not set");
    return memo_[idx];
  }
  static PyValue make_bool(bool b) {
    PyValue v;
    v.kind = PyValue::Kind::boolean;
    v.i = b;
    return v;
  }
  static PyValue make_int(std::int64_t i) {
    PyValue v;
    v.kind = PyValue::Kind::integer;
    v.i = i;
    return v;
  }
  static PyValue make_str(std::string_view s) {
    PyValue v;
    v.kind = PyValue::Kind::string;
    v.s = std::string(s);
    return v;
  }
  static PyValue make_bytes(std::string_view s) {
    PyValue v = make_str(s);
    v.kind = PyValue::Kind::bytes;
    return v;
  }
  static PyValue make_seq(PyValue::Kind k) {
    PyValue v;
    v.kind = k;
    v.items = std::make_shared<std::vector<PyValue>>();
    return v;
  }
  PyValue make_tuple(std::vector<PyValue> items) {
    PyValue v = make_seq(PyValue::Kind::tuple);
    for (const auto& item : items) add_child(item, v.items);
    *v.items = std::move(items);
    return v;
  }
  // Containers nest at most max_nesting deep and never contain themselves (memo references could
  // build cycles): deeper values would overflow the stack when destroyed or walked. Each container
  // keeps its height (levels of values below it); one placed inside another is sealed, since pickles
  // of plain data fill a container before nesting it. Sealing keeps the heights exact and rules out
  // cycles at O(1) per insertion: walking the child at each insertion is exponential when memo
  // references share sub-structures ([x, x] repeated: 250 bytes took seconds).
  static constexpr int max_nesting = 100;
  struct Nesting {
    std::shared_ptr<const void> keep;  // holds the storage, so its address is not reused while parsing
    int height = 0;
    bool sealed = false;
  };
  static std::shared_ptr<const void> storage_of(const PyValue& v) {
    if (v.items) return v.items;
    if (v.entries) return v.entries;
    return nullptr;
  }
  Nesting& nesting_of(std::shared_ptr<const void> storage) {
    Nesting& n = nesting_[storage.get()];  // references into an unordered_map survive rehashing
    if (!n.keep) n.keep = std::move(storage);
    return n;
  }
  void add_child(const PyValue& child, const std::shared_ptr<const void>& container) {
    Nesting& parent = nesting_of(container);
    if (parent.sealed) fail("a container changed after being placed in another (recursive structures are not supported)");
    int below = 1;
    if (auto storage = storage_of(child)) {
      if (storage == container) fail("a container inside itself");
      Nesting& c = nesting_of(std::move(storage));
      c.sealed = true;
      below = c.height + 1;
    }
    parent.height = std::max(parent.height, below);
    if (parent.height > max_nesting) fail("containers nested deeper than " + std::to_string(max_nesting));
  }
  static PyValue make_dict() {
    PyValue v;
    v.kind = PyValue::Kind::dict;
    v.entries = std::make_shared<std::vector<std::pair<PyValue, PyValue>>>();
    return v;
  }
  void append(PyValue& list, PyValue v) {
    if (v.is(PyValue::Kind::mark)) fail("MARK appended to a list");
    add_child(v, list.items);
    list.items->push_back(std::move(v));
  }
  void set_item(PyValue& dct, PyValue k, PyValue v) {
    if (k.is(PyValue::Kind::mark) || v.is(PyValue::Kind::mark)) fail("MARK stored in a dict");
    add_child(k, dct.entries);
    add_child(v, dct.entries);
    dct.entries->emplace_back(std::move(k), std::move(v));
  }

  std::string_view d_;
  std::string name_;
  const std::set<std::string>* globals_ = nullptr;
  std::size_t pos_ = 0;
  std::vector<PyValue> stack_;
  std::vector<PyValue> memo_;
  std::unordered_map<const void*, Nesting> nesting_;
};

}  // namespace detail

/// Parses a pickle of plain data. `name` labels errors (usually the file path).
inline PyValue read_pickle(std::string_view data, const std::string& name) { return detail::PickleMachine(data, name).run(); }

/// Parses a pickle that may name the `globals` given ("module.name"); see the header comment.
inline PyValue read_pickle(std::string_view data, const std::string& name, const std::set<std::string>& globals) {
  return detail::PickleMachine(data, name, &globals).run();
}

}  // namespace ecgbench::tokenize
