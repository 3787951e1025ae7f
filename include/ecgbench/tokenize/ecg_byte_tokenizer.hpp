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
  /// States of the longest-match automaton (its table holds states x (|alphabet| + 1) ints).
  [[nodiscard]] std::size_t trie_states() const { return table_.size() / (alphabet_.size() + 1); }
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

  // Trie over the alphabet: next_[state * |A| + symbol] (-1 = none), id_[state] (-1 = not a token).
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
        state = next_[static_cast<std::size_t>(state) * A + static_cast<std::size_t>(symbol_of_[static_cast<unsigned char>(c)])];
      }
      id_[static_cast<std::size_t>(state)] = static_cast<std::int32_t>(t);  // later ids overwrite
    }
    // Renumber the states in depth-first preorder: a token's path then lies mostly in consecutive
    // rows, so the dependent loads of a long match stream through memory instead of jumping.
    const std::size_t S = id_.size();
    std::vector<std::int32_t> order, new_of(S, -1), stack{0};
    order.reserve(S);
    while (!stack.empty()) {
      const auto st = stack.back();
      stack.pop_back();
      new_of[static_cast<std::size_t>(st)] = static_cast<std::int32_t>(order.size());
      order.push_back(st);
      for (std::size_t c = A; c-- > 0;) {
        const auto nx = next_[static_cast<std::size_t>(st) * A + c];
        if (nx >= 0) stack.push_back(nx);
      }
    }
    std::vector<std::int32_t> next2(S * A, -1), id2(S, -1);
    for (std::size_t k = 0; k < S; ++k) {
      const auto old = static_cast<std::size_t>(order[k]);
      id2[k] = id_[old];
      for (std::size_t c = 0; c < A; ++c) {
        const auto nx = next_[old * A + c];
        next2[k * A + c] = nx < 0 ? -1 : new_of[static_cast<std::size_t>(nx)];
      }
    }
    // Final layout: one row of A + 1 ints per state, [transition per symbol..., token id]. A
    // transition holds the next row's offset, with bit 30 set when that state is a token, so a step
    // of the match is one load and one add; the id is read once per emitted token.
    const std::size_t W = A + 1;
    if (S * W >= (std::size_t{1} << 30)) throw Error("tokenizer automaton too large");
    table_.assign(S * W, -1);
    for (std::size_t k = 0; k < S; ++k) {
      for (std::size_t c = 0; c < A; ++c) {
        const auto nx = next2[k * A + c];
        if (nx < 0) continue;
        const auto offset = static_cast<std::int32_t>(static_cast<std::size_t>(nx) * W);
        table_[k * W + c] = offset | (id2[static_cast<std::size_t>(nx)] >= 0 ? token_flag : 0);
      }
      table_[k * W + A] = id2[k];
    }
    next_.clear();
    id_.clear();
  }

  [[nodiscard]] std::vector<TokenId> encode_longest_match(std::string_view s) const {
    const std::size_t A = alphabet_.size();
    const std::int32_t* table = table_.data();
    thread_local std::vector<std::uint8_t> sym;
    sym.resize(s.size());
    int bad = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const int v = symbol_of_[static_cast<unsigned char>(s[i])];
      bad |= v;  // negative iff some symbol is outside the alphabet
      sym[i] = static_cast<std::uint8_t>(v);
    }
    if (bad < 0) check_symbols(s);  // throws, naming the first bad symbol
    std::vector<TokenId> out;
    out.reserve(s.size() / 4 + 1);
    std::size_t i = 0;
    while (i < s.size()) {
      std::int32_t row = 0, best_row = 0;
      std::size_t best_len = 0, k = i;
      while (k < s.size()) {
        const std::int32_t nx = table[static_cast<std::size_t>(row) + sym[k]];
        if (nx < 0) break;
        row = nx & ~token_flag;
        ++k;
        // Branch-free: whether a prefix is a token is unpredictable.
        const bool is_token = (nx & token_flag) != 0;
        best_row = is_token ? row : best_row;
        best_len = is_token ? k - i : best_len;
      }
      out.push_back(static_cast<TokenId>(table[static_cast<std::size_t>(best_row) + A]));  // single symbols are tokens
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
  detail::PairIndex rank_index_;  // pair -> dense index into rank_of_
  std::vector<TokenId> rank_of_;
  std::vector<std::int32_t> next_, id_;  // construction only
  std::vector<std::int32_t> table_;      // [state][symbol..., id], see build_trie
  static constexpr std::int32_t token_flag = 1 << 30;
};

}  // namespace ecgbench::tokenize
