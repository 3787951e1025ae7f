// Byte-level BPE, the model behind GPT-2, Llama 3 and Qwen 2.5 tokenizers. Tokens are kept as raw
// bytes internally (the GPT-2 byte-to-unicode alphabet is only the file format), so encoding starts
// from the input bytes directly; merge ranks live in one flat open-addressing table.
#pragma once

#include <algorithm>
#include <array>
#include <optional>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/tokenize/utf8.hpp"

namespace ecgbench::tokenize {

/// GPT-2's reversible map from bytes to printable code points (`bytes_to_unicode` in encoder.py).
inline const std::array<std::uint32_t, 256>& byte_to_code_point() {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    std::uint32_t extra = 0;
    for (std::uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = printable ? b : 256 + extra++;
    }
    return t;
  }();
  return table;
}

/// The byte-level spelling of raw bytes ("Ġ" for a space), as written in vocab files.
inline std::string bytes_to_byte_level(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char b : raw) append_utf8(out, byte_to_code_point()[b]);
  return out;
}

/// Raw bytes of a byte-level spelled token; nullopt when a character is outside the alphabet.
inline std::optional<std::string> byte_level_to_bytes(std::string_view token) {
  static const std::unordered_map<std::uint32_t, unsigned char> inverse = [] {
    std::unordered_map<std::uint32_t, unsigned char> m;
    for (int b = 0; b < 256; ++b) m.emplace(byte_to_code_point()[b], static_cast<unsigned char>(b));
    return m;
  }();
  if (find_invalid_utf8(token)) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < token.size();) {
    auto it = inverse.find(next_code_point(token, i));
    if (it == inverse.end()) return std::nullopt;
    out.push_back(static_cast<char>(it->second));
  }
  return out;
}

/// Replaces invalid UTF-8 sequences by U+FFFD, as Hugging Face decoders do (from_utf8_lossy).
inline std::string utf8_lossy(std::string_view s) {
  if (!find_invalid_utf8(s)) return std::string(s);
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using TokenIndex = std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>;

/// Flat open-addressing map (left id, right id) -> (rank, merged id).
class MergeTable {
 public:
  struct Entry {
    std::uint64_t key = empty_key;
    std::int32_t rank = 0;
    std::int32_t id = 0;
  };
  static constexpr std::uint64_t empty_key = std::numeric_limits<std::uint64_t>::max();

  void reserve(std::size_t n) {
    std::size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    slots_.assign(cap, Entry{});
    mask_ = cap - 1;
    size_ = 0;
  }
  /// Inserts; returns false when the pair is already present (the first rank wins, as in HF).
  bool insert(std::int32_t left, std::int32_t right, std::int32_t rank, std::int32_t id) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    const std::uint64_t k = key(left, right);
    for (std::size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == k) return false;
      if (slots_[i].key == empty_key) {
        slots_[i] = {k, rank, id};
        ++size_;
        return true;
      }
    }
  }
  [[nodiscard]] const Entry* find(std::int32_t left, std::int32_t right) const noexcept {
    if (slots_.empty()) return nullptr;
    const std::uint64_t k = key(left, right);
    for (std::size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.key == k) return &e;
      if (e.key == empty_key) return nullptr;
    }
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  static std::uint64_t key(std::int32_t l, std::int32_t r) noexcept {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(l)) << 32) | static_cast<std::uint32_t>(r);
  }
  static std::size_t hash(std::uint64_t k) noexcept {  // splitmix64 finaliser
    k ^= k >> 30; k *= 0xbf58476d1ce4e5b9ULL; k ^= k >> 27; k *= 0x94d049bb133111ebULL; k ^= k >> 31;
    return static_cast<std::size_t>(k);
  }
  void grow() {
    std::vector<Entry> old = std::move(slots_);
    reserve(std::max<std::size_t>(16, old.size()));
    for (const Entry& e : old)
      if (e.key != empty_key) insert(static_cast<std::int32_t>(e.key >> 32), static_cast<std::int32_t>(e.key & 0xffffffffu), e.rank, e.id);
  }
  std::vector<Entry> slots_;
  std::size_t mask_ = 0, size_ = 0;
};

/// A byte-level BPE model: vocabulary, ranked merges, and the word encoder.
class ByteLevelBpe {
 public:
  ByteLevelBpe() = default;

  /// `vocab`: byte-level spelled token -> id; `merges`: pairs of spelled tokens in rank order.
  /// `ignore_merges`: a whole pre-token found in the vocabulary is taken as is (Llama 3).
  ByteLevelBpe(const std::vector<std::pair<std::string, std::int32_t>>& vocab,
               const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges,
               const std::string& source) : ignore_merges_(ignore_merges) {
    std::int32_t max_id = -1;
    for (const auto& [tok, id] : vocab) {
      if (id < 0) throw Error({source, {}, {}, "token '" + tok + "'"}, "negative token id " + std::to_string(id));
      max_id = std::max(max_id, id);
    }
    tokens_.assign(static_cast<std::size_t>(max_id + 1), std::string{});
    std::vector<bool> seen(tokens_.size(), false);
    raw_index_.reserve(vocab.size());
    for (const auto& [tok, id] : vocab) {
      auto raw = byte_level_to_bytes(tok);
      if (!raw) throw Error({source, {}, {}, "token '" + tok + "' (id " + std::to_string(id) + ")"},
                            "vocabulary entry is not in the byte-level alphabet");
      if (seen[static_cast<std::size_t>(id)])
        throw Error({source, {}, {}, "id " + std::to_string(id)}, "two vocabulary entries share one id");
      seen[static_cast<std::size_t>(id)] = true;
      tokens_[static_cast<std::size_t>(id)] = *raw;
      raw_index_.emplace(std::move(*raw), id);
    }
    // Bytes without a token (toy vocabularies) become the unknown token, or are dropped when there
    // is none, as Hugging Face tokenizers does.
    for (int b = 0; b < 256; ++b) {
      auto it = raw_index_.find(std::string(1, static_cast<char>(b)));
      byte_ids_[static_cast<std::size_t>(b)] = it == raw_index_.end() ? -1 : it->second;
    }
    merges_.reserve(merges.size());
    for (std::size_t r = 0; r < merges.size(); ++r) {
      const auto& [l, rt] = merges[r];
      const std::string where = "merge " + std::to_string(r) + " '" + l + " " + rt + "'";
      auto lr = byte_level_to_bytes(l), rr = byte_level_to_bytes(rt);
      if (!lr || !rr) throw Error({source, {}, {}, where}, "merge is not in the byte-level alphabet");
      auto li = raw_index_.find(*lr), ri = raw_index_.find(*rr), mi = raw_index_.find(*lr + *rr);
      if (li == raw_index_.end() || ri == raw_index_.end())
        throw Error({source, {}, {}, where}, "merge names a token missing from the vocabulary");
      if (mi == raw_index_.end())
        throw Error({source, {}, {}, where}, "merged token is missing from the vocabulary");
      merges_.insert(li->second, ri->second, static_cast<std::int32_t>(r), mi->second);
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return tokens_.size(); }
  [[nodiscard]] std::size_t merge_count() const noexcept { return merges_.size(); }
  /// Raw bytes of token `id` (empty for ids not in the model).
  [[nodiscard]] const std::string& token_bytes(std::int32_t id) const { return tokens_.at(static_cast<std::size_t>(id)); }
  [[nodiscard]] std::optional<std::int32_t> find_bytes(std::string_view raw) const {
    auto it = raw_index_.find(raw);
    return it == raw_index_.end() ? std::nullopt : std::optional<std::int32_t>(it->second);
  }

  /// Appends the ids of one pre-token (raw bytes) to `out`; bytes outside the vocabulary become
  /// `unk` (or are dropped when it is negative).
  void encode_word(std::string_view word, std::vector<std::int32_t>& out, std::int32_t unk = -1) const {
    if (word.empty()) return;
    if (ignore_merges_ || word.size() == 1) {
      if (auto it = raw_index_.find(word); it != raw_index_.end()) {
        out.push_back(it->second);
        return;
      }
    }
    // The lowest-ranked adjacent pair is merged, all its non-overlapping occurrences left to right
    // (identical to a heap of (rank, position) as Hugging Face keeps it).
    thread_local std::vector<std::int32_t> sym;
    sym.resize(word.size());
    for (std::size_t i = 0; i < word.size(); ++i) sym[i] = byte_ids_[static_cast<unsigned char>(word[i])];
    std::size_t n = sym.size();
    while (n > 1) {
      std::int32_t best_rank = std::numeric_limits<std::int32_t>::max(), best_left = 0, best_right = 0, best_id = 0;
      for (std::size_t i = 0; i + 1 < n; ++i) {
        const MergeTable::Entry* e = merges_.find(sym[i], sym[i + 1]);
        if (e && e->rank < best_rank) { best_rank = e->rank; best_left = sym[i]; best_right = sym[i + 1]; best_id = e->id; }
      }
      if (best_rank == std::numeric_limits<std::int32_t>::max()) break;
      std::size_t w = 0;
      for (std::size_t i = 0; i < n;) {
        if (i + 1 < n && sym[i] == best_left && sym[i + 1] == best_right) {
          sym[w++] = best_id;
          i += 2;
        } else {
          sym[w++] = sym[i++];
        }
      }
      n = w;
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (sym[i] >= 0) out.push_back(sym[i]);
      else if (unk >= 0) out.push_back(unk);
    }
  }

 private:
  std::vector<std::string> tokens_;  ///< id -> raw bytes
  TokenIndex raw_index_;             ///< raw bytes -> id
  std::array<std::int32_t, 256> byte_ids_{};
  MergeTable merges_;
  bool ignore_merges_ = false;
};

}  // namespace ecgbench::tokenize
