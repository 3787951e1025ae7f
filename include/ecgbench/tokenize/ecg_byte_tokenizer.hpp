// The ECG-Byte tokenizer: ids 0..255 are bytes, merge i creates id 256 + i. Two encoders:
//   bpe           - merges applied in training order (canonical BPE), via a rank heap per ECG;
//   longest-match - greedy longest prefix over all tokens, what upstream's encode_symbol does and
//                   what its shipped models were trained on; a flat transition table (state x
//                   symbol) replaces upstream's per-call hash-map trie.
// Files: `{"format": "ecgbench.ecg-byte", "version": 1, "alphabet": "...", "merges": [[l, r], ...]}`;
// upstream's pickled (vocab, merges) imports through the safe pickle reader.
#pragma once

#include <algorithm>
#include <array>
#include <filesystem>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/tokenize/bpe_trainer.hpp"
#include "ecgbench/tokenize/ecg_symbols.hpp"
#include "ecgbench/tokenize/pickle_reader.hpp"

namespace ecgbench::tokenize {

enum class EncodeMode { bpe, longest_match };

inline EncodeMode parse_encode_mode(const std::string& s) {
  if (s == "bpe") return EncodeMode::bpe;
  if (s == "longest-match" || s == "longest_match") return EncodeMode::longest_match;
  throw Error("unknown encode mode '" + s + "' (expected bpe or longest-match)");
}

class EcgByteTokenizer {
 public:
  EcgByteTokenizer() : EcgByteTokenizer(std::string(ecg_alphabet), {}) {}

  EcgByteTokenizer(std::string alphabet, std::vector<MergePair> merges, const std::string& source = "tokenizer")
      : alphabet_(std::move(alphabet)), merges_(std::move(merges)) {
    if (alphabet_.empty()) throw Error({source, {}, {}, "alphabet"}, "empty alphabet");
    symbol_of_.fill(-1);
    for (std::size_t i = 0; i < alphabet_.size(); ++i) {
      const auto c = static_cast<unsigned char>(alphabet_[i]);
      if (symbol_of_[c] >= 0) throw Error({source, {}, {}, "alphabet"}, "alphabet repeats '" + std::string(1, alphabet_[i]) + "'");
      symbol_of_[c] = static_cast<int>(i);
    }
    tokens_.resize(256 + merges_.size());
    for (int b = 0; b < 256; ++b) tokens_[b] = std::string(1, static_cast<char>(b));
    for (std::size_t i = 0; i < merges_.size(); ++i) {
      const auto [l, r] = merges_[i];
      if (l >= 256 + i || r >= 256 + i)
        throw Error({source, {}, {}, "merge " + std::to_string(i)}, "merge refers to id " + std::to_string(std::max(l, r)) +
                                                                       " that does not exist yet (ids < " + std::to_string(256 + i) + ")");
      tokens_[256 + i] = tokens_[l] + tokens_[r];
      bool inserted = false;
      rank_index_.find_or_insert(detail::pair_key(l, r), inserted);
      if (inserted) rank_of_.push_back(static_cast<TokenId>(i));  // a repeated pair keeps its first rank
    }
    build_trie();
  }

  [[nodiscard]] std::size_t vocab_size() const { return tokens_.size(); }
  [[nodiscard]] const std::vector<MergePair>& merges() const { return merges_; }
  /// States of the longest-match trie, and the slots of the double array that holds it (8 bytes each).
  [[nodiscard]] std::size_t trie_states() const { return states_; }
  [[nodiscard]] std::size_t trie_slots() const { return slots_.size(); }
  [[nodiscard]] const std::string& alphabet() const { return alphabet_; }
  [[nodiscard]] const std::string& token(TokenId id) const {
    if (id >= tokens_.size()) throw Error("token id " + std::to_string(id) + " out of range (vocabulary " + std::to_string(tokens_.size()) + ")");
    return tokens_[id];
  }

  /// Checks that every symbol is in the alphabet (Error naming the first bad one and its position).
  void check_symbols(std::string_view s, const std::string& where = "input") const {
    for (std::size_t i = 0; i < s.size(); ++i)
      if (symbol_of_[static_cast<unsigned char>(s[i])] < 0)
        throw Error({where, {}, {}, {}}, "symbol '" + printable(s[i]) + "' at position " + std::to_string(i) + " is not in the alphabet \"" + alphabet_ + "\"");
  }

  [[nodiscard]] std::vector<TokenId> encode(std::string_view s, EncodeMode mode) const {
    if (mode == EncodeMode::bpe) {
      check_symbols(s);
      return encode_bpe(s);
    }
    return encode_longest_match(s);  // validates while mapping symbols
  }

  [[nodiscard]] std::string decode(const std::vector<TokenId>& ids) const {
    std::string out;
    for (auto id : ids) out += token(id);
    return out;
  }

  [[nodiscard]] Json to_json() const {
    Json m = Json::array();
    for (auto [l, r] : merges_) m.push_back({l, r});
    return Json{{"format", "ecgbench.ecg-byte"}, {"version", 1}, {"alphabet", alphabet_}, {"merges", m}};
  }

  void save(const std::filesystem::path& p) const { write_json(p, to_json(), -1); }

  static EcgByteTokenizer from_json(const Json& j, const std::string& source) {
    return with_json_errors(source, [&] { return from_json_unchecked(j, source); });
  }

  static EcgByteTokenizer load(const std::filesystem::path& p) { return from_json(read_json(p), p.string()); }

 private:
  static EcgByteTokenizer from_json_unchecked(const Json& j, const std::string& source) {
    if (!j.is_object()) throw Error({source, {}, {}, {}}, "tokenizer file is not a JSON object");
    if (json_get<std::string>(j, "format", source, "header") != "ecgbench.ecg-byte")
      throw Error({source, {}, {}, "format"}, "not an ECG-Byte tokenizer (format is '" + j["format"].get<std::string>() + "')");
    if (json_get<int>(j, "version", source, "header") != 1) throw Error({source, {}, {}, "version"}, "unsupported version");
    std::vector<MergePair> merges;
    if (!j.contains("merges")) throw Error({source, {}, {}, "merges"}, "missing key 'merges'");
    const auto& m = j.at("merges");
    if (!m.is_array()) throw Error({source, {}, {}, "merges"}, "'merges' is not a list");
    for (std::size_t i = 0; i < m.size(); ++i) {
      const auto& e = m[i];
      if (!e.is_array() || e.size() != 2 || !e[0].is_number_unsigned() || !e[1].is_number_unsigned())
        throw Error({source, {}, {}, "merge " + std::to_string(i)}, "merge must be a pair of non-negative integers");
      merges.emplace_back(e[0].get<TokenId>(), e[1].get<TokenId>());
    }
    return EcgByteTokenizer(json_get<std::string>(j, "alphabet", source, "header"), std::move(merges), source);
  }

 public:

  /// Upstream's pickle: (vocab dict int -> str, merges [(byte list, id), ...]). Merges store the full
  /// byte sequence of each new token; the pair is recovered as the split whose left part is the
  /// longest earlier token (longest-match encoding, upstream's own, depends only on the token
  /// strings and is exact; bpe-mode encoding of an imported tokenizer uses this reconstruction).
  static EcgByteTokenizer import_pickle(const std::filesystem::path& p) {
    const std::string name = p.string();
    const auto v = read_pickle(read_file(p), name);
    if (!v.is(PyValue::Kind::tuple) || v.items->size() != 2) throw Error({name, {}, {}, {}}, "expected a pickled (vocab, merges) tuple");
    const auto& vocab = (*v.items)[0];
    const auto& merges = (*v.items)[1];
    if (!vocab.is(PyValue::Kind::dict) || !merges.is(PyValue::Kind::list)) throw Error({name, {}, {}, {}}, "expected (dict, list)");
    std::unordered_map<std::string, TokenId> id_of;
    for (int b = 0; b < 256; ++b) id_of.emplace(std::string(1, static_cast<char>(b)), static_cast<TokenId>(b));
    std::vector<std::string> strings(256);
    for (int b = 0; b < 256; ++b) strings[b] = std::string(1, static_cast<char>(b));
    std::vector<MergePair> pairs;
    std::string alphabet_seen;
    for (std::size_t i = 0; i < merges.items->size(); ++i) {
      const auto& m = (*merges.items)[i];
      const std::string where = "merge " + std::to_string(i);
      if (!m.is(PyValue::Kind::tuple) || m.items->size() != 2 || !(*m.items)[0].is(PyValue::Kind::list) || !(*m.items)[1].is(PyValue::Kind::integer))
        throw Error({name, {}, {}, where}, "merge must be (list of bytes, id)");
      if ((*m.items)[1].i != static_cast<std::int64_t>(256 + i))
        throw Error({name, {}, {}, where}, "merge ids must be 256, 257, ... in order (found " + std::to_string((*m.items)[1].i) + ")");
      std::string bytes;
      for (const auto& b : *(*m.items)[0].items) {
        if (!b.is(PyValue::Kind::integer) || b.i < 0 || b.i > 255) throw Error({name, {}, {}, where}, "byte out of range");
        bytes += static_cast<char>(b.i);
      }
      if (bytes.size() < 2) throw Error({name, {}, {}, where}, "a merged token has at least two bytes");
      bool found = false;
      for (std::size_t cut = bytes.size() - 1; cut >= 1 && !found; --cut) {
        auto l = id_of.find(bytes.substr(0, cut));
        auto r = id_of.find(bytes.substr(cut));
        if (l != id_of.end() && r != id_of.end()) {
          pairs.emplace_back(l->second, r->second);
          found = true;
        }
      }
      if (!found) throw Error({name, {}, {}, where}, "token '" + bytes.substr(0, 40) + "' is not the concatenation of two earlier tokens");
      id_of[bytes] = static_cast<TokenId>(256 + i);  // a later identical token overwrites, as upstream's trie
      for (char c : bytes)
        if (alphabet_seen.find(c) == std::string::npos) alphabet_seen += c;
    }
    // The vocabulary must agree with the merges.
    for (const auto& [k, val] : *vocab.entries) {
      if (!k.is(PyValue::Kind::integer) || !val.is(PyValue::Kind::string)) throw Error({name, {}, {}, "vocab"}, "vocab must map int -> str");
      if (k.i >= 256) {
        const auto idx = static_cast<std::size_t>(k.i - 256);
        if (idx >= pairs.size()) throw Error({name, {}, {}, "vocab"}, "vocab id " + std::to_string(k.i) + " has no merge");
      }
    }
    if (vocab.entries->size() != 256 + pairs.size())
      throw Error({name, {}, {}, "vocab"}, "vocab has " + std::to_string(vocab.entries->size()) + " entries, merges imply " + std::to_string(256 + pairs.size()));
    std::string alphabet(ecg_alphabet);
    for (char c : alphabet_seen)
      if (alphabet.find(c) == std::string::npos) alphabet += c;
    EcgByteTokenizer t(alphabet, std::move(pairs), name);
    for (const auto& [k, val] : *vocab.entries)
      if (k.i >= 256 && t.token(static_cast<TokenId>(k.i)) != val.s)
        throw Error({name, {}, {}, "vocab"}, "vocab entry " + std::to_string(k.i) + " disagrees with its merge");
    return t;
  }

 private:
  static std::string printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 32 && u < 127) return std::string(1, c);
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", u);
    return buf;
  }

  // Trie over the alphabet, built as pointer rows next_[state * |A| + symbol] (-1 = none) and
  // id_[state] (-1 = not a token), then packed into a double array (Aoe 1989): state s sits in slot
  // slot(s); its child on symbol c sits in slot base[slot(s)] + c, whose check names its parent slot.
  // The array is as small as the trie (ECG tokens branch little: 3 000 merges -> ~7 000 slots,
  // 55 KB, mostly L1-resident) and a step is one load and one add on the dependent chain.
  void build_trie() {
    const std::size_t A = alphabet_.size();
    next_.assign(A, -1);
    id_.assign(1, -1);
    for (std::size_t t = 0; t < tokens_.size(); ++t) {
      const auto& s = tokens_[t];
      bool in_alphabet = true;
      for (char c : s) in_alphabet &= symbol_of_[static_cast<unsigned char>(c)] >= 0;
      if (!in_alphabet) continue;  // bytes outside the alphabet never occur in valid input
      std::int32_t state = 0;
      for (char c : s) {
        const auto k = static_cast<std::size_t>(state) * A + static_cast<std::size_t>(symbol_of_[static_cast<unsigned char>(c)]);
        if (next_[k] < 0) {
          next_[k] = static_cast<std::int32_t>(id_.size());
          id_.push_back(-1);
          next_.resize(next_.size() + A, -1);
        }
        state = next_[k];
      }
      id_[static_cast<std::size_t>(state)] = static_cast<std::int32_t>(t);  // later ids overwrite
    }
    states_ = id_.size();
    // Place states in depth-first preorder, each at the first base where all its children fit: a
    // token's path then lies in nearby slots. The search for a base tries at most `max_tries` free
    // slots before appending, which bounds construction on large vocabularies.
    constexpr int max_tries = 64;
    std::vector<std::int32_t> slot_of(states_, -1), stack{0}, children;
    slots_.assign(1, Slot{0, -2});  // the root: used, and nobody's child
    slot_token_.assign(1, id_[0]);
    slot_of[0] = 0;
    std::size_t first_free = 1;
    auto ensure = [&](std::size_t n) {
      if (n > slots_.size()) {
        slots_.resize(n, Slot{0, -1});
        slot_token_.resize(n, -1);
      }
    };
    while (!stack.empty()) {
      const auto st = static_cast<std::size_t>(stack.back());
      stack.pop_back();
      children.clear();
      for (std::size_t c = 0; c < A; ++c)
        if (next_[st * A + c] >= 0) children.push_back(static_cast<std::int32_t>(c));
      const auto here = static_cast<std::size_t>(slot_of[st]);
      if (children.empty()) continue;  // base 0: every probe lands on a slot whose parent is not here
      while (first_free < slots_.size() && slots_[first_free].check != -1) ++first_free;
      auto fits = [&](std::size_t base) {
        for (auto c : children)
          if (base + static_cast<std::size_t>(c) < slots_.size() && slots_[base + static_cast<std::size_t>(c)].check != -1) return false;
        return true;
      };
      std::size_t base = std::max(first_free, static_cast<std::size_t>(children.front())) - static_cast<std::size_t>(children.front());
      int tries = 0;
      while (!fits(base)) {
        if (++tries > max_tries) {
          base = slots_.size();
          break;
        }
        std::size_t f = base + static_cast<std::size_t>(children.front()) + 1;
        while (f < slots_.size() && slots_[f].check != -1) ++f;
        base = f - static_cast<std::size_t>(children.front());
      }
      if (base + A >= (std::size_t{1} << 30)) throw Error("tokenizer automaton too large");
      ensure(base + static_cast<std::size_t>(children.back()) + 1);
      slots_[here].base = static_cast<std::int32_t>(base);
      for (auto it = children.rbegin(); it != children.rend(); ++it) {
        const auto child = static_cast<std::size_t>(next_[st * A + static_cast<std::size_t>(*it)]);
        const auto slot = base + static_cast<std::size_t>(*it);
        slot_of[child] = static_cast<std::int32_t>(slot);
        slots_[slot].check = static_cast<std::int32_t>(here) | (id_[child] >= 0 ? token_flag : 0);
        slot_token_[slot] = id_[child];
        stack.push_back(static_cast<std::int32_t>(child));
      }
    }
    ensure(slots_.size() + A + 1);  // a probe base + symbol (or |A|, a byte outside the alphabet) stays inside
    probe_symbol_.fill(static_cast<std::uint16_t>(A));  // no state's child: stops every walk
    for (std::size_t c = 0; c < 256; ++c)
      if (symbol_of_[c] >= 0) probe_symbol_[c] = static_cast<std::uint16_t>(symbol_of_[c]);
    next_.clear();
    id_.clear();
  }

  [[nodiscard]] std::vector<TokenId> encode_longest_match(std::string_view s) const {
    const Slot* slots = slots_.data();
    const auto* bytes = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::vector<TokenId> out;
    out.reserve(n / 4 + 1);
    std::size_t i = 0;
    while (i < n) {
      std::int32_t slot = 0, best_slot = 0;
      std::size_t best_len = 0, k = i;
      while (k < n) {
        // The byte -> symbol lookup is off the dependent chain (slot -> base -> next slot); the check
        // only feeds the branch.
        const std::int32_t probe = slots[slot].base + probe_symbol_[bytes[k]];
        const std::int32_t check = slots[probe].check;
        if ((check & ~token_flag) != slot) break;  // no child on this symbol
        slot = probe;
        ++k;
        // Branch-free: whether a prefix is a token is unpredictable.
        const bool is_token = (check & token_flag) != 0;
        best_slot = is_token ? slot : best_slot;
        best_len = is_token ? k - i : best_len;
      }
      // Every symbol of the alphabet is a token, so only a byte outside it stops a walk at the root.
      if (best_len == 0) check_symbols(s);  // throws, naming the first bad symbol
      out.push_back(static_cast<TokenId>(slot_token_[static_cast<std::size_t>(best_slot)]));
      i += best_len;
    }
    return out;
  }

  [[nodiscard]] std::vector<TokenId> encode_bpe(std::string_view s) const {
    const std::size_t n = s.size();
    constexpr std::uint32_t none = 0xffffffffu;
    std::vector<TokenId> tok(n);
    std::vector<std::uint32_t> prev(n), next(n);
    for (std::size_t i = 0; i < n; ++i) {
      tok[i] = static_cast<unsigned char>(s[i]);
      prev[i] = i == 0 ? none : static_cast<std::uint32_t>(i - 1);
      next[i] = i + 1 == n ? none : static_cast<std::uint32_t>(i + 1);
    }
    // Positions bucketed by the rank of the pair they start: ranks are processed in increasing
    // order, leftmost first within a rank. A merge only creates pairs of higher rank, so this
    // equals applying the merges in order, and each bucket is touched once (no heap).
    thread_local std::vector<std::vector<std::uint32_t>> buckets;
    if (buckets.size() < merges_.size()) buckets.resize(merges_.size());
    std::size_t lowest = merges_.size();
    auto consider = [&](std::uint32_t i) {
      if (i == none || next[i] == none) return;
      const auto idx = rank_index_.find(detail::pair_key(tok[i], tok[next[i]]));
      if (idx == 0xffffffffu) return;
      const auto r = rank_of_[idx];
      buckets[r].push_back(i);
      lowest = std::min<std::size_t>(lowest, r);
    };
    for (std::uint32_t i = 0; i + 1 < n; ++i) consider(i);
    for (std::size_t r = lowest; r < merges_.size(); ++r) {
      auto& b = buckets[r];
      if (b.empty()) continue;
      std::sort(b.begin(), b.end());
      const auto [a, bb] = merges_[r];
      for (std::size_t q = 0; q < b.size(); ++q) {
        const auto i = b[q];
        const auto j = next[i];
        if (tok[i] != a || j == none || tok[j] != bb) continue;  // stale
        tok[i] = static_cast<TokenId>(256 + r);
        tok[j] = none;
        next[i] = next[j];
        if (next[j] != none) prev[next[j]] = i;
        consider(prev[i]);
        consider(i);
      }
      b.clear();
    }
    std::vector<TokenId> out;
    for (std::uint32_t i = 0; i != none && n > 0; i = next[i]) out.push_back(tok[i]);
    return out;
  }

  std::string alphabet_;
  std::vector<MergePair> merges_;
  std::vector<std::string> tokens_;
  std::array<int, 256> symbol_of_{};
  std::array<std::uint16_t, 256> probe_symbol_{};  // symbol_of_ with |A| for bytes outside the alphabet
  detail::PairIndex rank_index_;  // pair -> dense index into rank_of_
  std::vector<TokenId> rank_of_;
  struct Slot {
    std::int32_t base;   // children of the state in this slot start at slots_[base + symbol]
    std::int32_t check;  // parent slot (| token_flag when this state is a token), -1 = free, -2 = root
  };
  std::vector<std::int32_t> next_, id_;  // construction only
  std::size_t states_ = 0;
  std::vector<Slot> slots_;              // double-array trie, see build_trie
  std::vector<std::int32_t> slot_token_;  // token id of the state in each slot (-1: none)
  static constexpr std::int32_t token_flag = 1 << 30;
};

}  // namespace ecgbench::tokenize
