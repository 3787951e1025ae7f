// Byte-pair-encoding training for ECG-Byte with incremental pair counts: adjacent-pair counts in a
// flat hash table, a lazy max-heap over (count, pair), and for every pair the positions where it
// occurs in a doubly linked token list. A merge touches only the occurrences of the merged pair, so
// training costs O(total occurrences) instead of a full recount per merge (upstream's Rust code).
//
// Semantics (same as the naive reference `train_bpe_naive` kept for tests): every adjacent pair is
// counted, overlapping ones included ("aaa" holds (a, a) twice); the most frequent pair wins, ties
// by the smallest left id, then the smallest right id; occurrences are replaced left to right
// without overlap; merge i creates id 256 + i. Each sequence (ECG) is separate: no pair crosses
// sequences (concatenate the input yourself to reproduce upstream's single string).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <queue>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/core/progress.hpp"

namespace ecgbench::tokenize {

using TokenId = std::uint32_t;
using MergePair = std::pair<TokenId, TokenId>;

namespace detail {

inline std::uint64_t pair_key(TokenId a, TokenId b) { return (static_cast<std::uint64_t>(a) << 32) | b; }

// Open-addressing hash table from pair key to a dense pair index.
class PairIndex {
 public:
  PairIndex() { resize(1 << 12); }
  /// Dense index of `key`, or 0xffffffff when absent.
  [[nodiscard]] std::uint32_t find(std::uint64_t key) const {
    std::size_t h = hash(key) & (slots_.size() - 1);
    while (true) {
      const auto& s = slots_[h];
      if (s.index == empty || s.key == key) return s.index;
      h = (h + 1) & (slots_.size() - 1);
    }
  }
  std::uint32_t find_or_insert(std::uint64_t key, bool& inserted) {
    if ((size_ + 1) * 2 > slots_.size()) resize(slots_.size() * 2);
    std::size_t h = hash(key) & (slots_.size() - 1);
    while (true) {
      auto& s = slots_[h];
      if (s.index == empty) {
        s.key = key;
        s.index = static_cast<std::uint32_t>(size_++);
        inserted = true;
        return s.index;
      }
      if (s.key == key) {
        inserted = false;
        return s.index;
      }
      h = (h + 1) & (slots_.size() - 1);
    }
  }

 private:
  static constexpr std::uint32_t empty = 0xffffffffu;
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t index = empty;
  };
  static std::size_t hash(std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return static_cast<std::size_t>(k);
  }
  void resize(std::size_t n) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(n, Slot{});
    for (const auto& s : old)
      if (s.index != empty) {
        std::size_t h = hash(s.key) & (n - 1);
        while (slots_[h].index != empty) h = (h + 1) & (n - 1);
        slots_[h] = s;
      }
  }
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace detail

struct BpeTrainOptions {
  std::size_t merges = 3500;
  ProgressStyle progress = ProgressStyle::quiet;
};

/// Trains on `sequences` (each a string of bytes); returns the merges, in order (id 256 + i).
inline std::vector<MergePair> train_bpe(const std::vector<std::string_view>& sequences, const BpeTrainOptions& opt = {}) {
  constexpr std::uint32_t none = 0xffffffffu;
  std::size_t total = 0;
  for (auto s : sequences) total += s.size();
  if (total >= none) throw Error("BPE training: corpus too large (" + std::to_string(total) + " symbols; at most 4e9)");
  std::vector<TokenId> tok(total);
  std::vector<std::uint32_t> prev(total), next(total);
  {
    std::size_t i = 0;
    for (auto s : sequences) {
      for (std::size_t k = 0; k < s.size(); ++k, ++i) {
        tok[i] = static_cast<unsigned char>(s[k]);
        prev[i] = k == 0 ? none : static_cast<std::uint32_t>(i - 1);
        next[i] = k + 1 == s.size() ? none : static_cast<std::uint32_t>(i + 1);
      }
    }
  }
  struct PairState {
    MergePair pair;
    std::int64_t count = 0;
    std::vector<std::uint32_t> positions;  // left positions, possibly stale, unsorted after updates
    bool sorted = true;
  };
  detail::PairIndex index;
  std::vector<PairState> pairs;
  // Max-heap on (count, smaller left, smaller right); stale entries are skipped when popped.
  struct HeapEntry {
    std::int64_t count;
    TokenId a, b;
    std::uint32_t idx;
    bool operator<(const HeapEntry& o) const {
      if (count != o.count) return count < o.count;
      if (a != o.a) return a > o.a;
      return b > o.b;
    }
  };
  std::priority_queue<HeapEntry> heap;
  auto state_of = [&](TokenId a, TokenId b) -> std::uint32_t {
    bool inserted = false;
    const auto idx = index.find_or_insert(detail::pair_key(a, b), inserted);
    if (inserted) pairs.push_back(PairState{{a, b}, 0, {}, true});
    return idx;
  };
  auto add = [&](std::uint32_t pos, TokenId a, TokenId b, std::int64_t delta, bool record) {
    const auto idx = state_of(a, b);
    auto& p = pairs[idx];
    p.count += delta;
    if (record) {
      if (!p.positions.empty() && p.positions.back() > pos) p.sorted = false;
      p.positions.push_back(pos);
    }
    return idx;
  };
  // Initial counts: input symbols are bytes, so count in a flat 256 x 256 table, then give every pair
  // its exact position list in ascending order (no reallocation, no hashing per symbol).
  {
    std::vector<std::uint32_t> count(1u << 16, 0);
    for (std::uint32_t i = 0; i < total; ++i)
      if (next[i] != none) ++count[(tok[i] << 8) | tok[i + 1]];
    std::vector<std::uint32_t> slot(1u << 16, none);
    for (std::uint32_t k = 0; k < count.size(); ++k) {
      if (count[k] == 0) continue;
      slot[k] = state_of(k >> 8, k & 0xffu);
      pairs[slot[k]].count = count[k];
      pairs[slot[k]].positions.reserve(count[k]);
    }
    for (std::uint32_t i = 0; i < total; ++i)
      if (next[i] != none) pairs[slot[(tok[i] << 8) | tok[i + 1]]].positions.push_back(i);
  }
  for (std::uint32_t k = 0; k < pairs.size(); ++k) heap.push({pairs[k].count, pairs[k].pair.first, pairs[k].pair.second, k});

  std::vector<MergePair> merges;
  merges.reserve(opt.merges);
  Progress progress("train ECG-Byte BPE", opt.merges, "merges", opt.progress);
  std::vector<std::uint32_t> touched, stamp;
  while (merges.size() < opt.merges && !heap.empty()) {
    const auto top = heap.top();
    heap.pop();
    auto& best = pairs[top.idx];
    if (best.count != top.count || best.count <= 0) continue;  // stale
    const TokenId A = best.pair.first, B = best.pair.second;
    const TokenId Z = static_cast<TokenId>(256 + merges.size());
    merges.push_back(best.pair);
    auto positions = std::move(best.positions);
    best.positions.clear();
    // Order matters only where occurrences can overlap ((a, a) in "aaa": left to right). Distinct
    // tokens never overlap, and a position never holds the same pair twice (ids only grow), so the
    // other lists are processed as recorded: same merges, same counts, without a sort per merge.
    if (A == B && !best.sorted) std::sort(positions.begin(), positions.end());
    best.sorted = true;
    touched.clear();
    for (const auto i : positions) {
      if (tok[i] != A) continue;  // stale: token changed or merged away
      const auto j = next[i];
      if (j == none || tok[j] != B) continue;
      const auto p = prev[i], n = next[j];
      if (p != none) touched.push_back(add(p, tok[p], A, -1, false));
      touched.push_back(add(i, A, B, -1, false));
      if (n != none) touched.push_back(add(j, B, tok[n], -1, false));
      tok[i] = Z;
      tok[j] = none;  // dead
      next[i] = n;
      if (n != none) prev[n] = i;
      if (p != none) touched.push_back(add(p, tok[p], Z, 1, true));
      if (n != none) touched.push_back(add(i, Z, tok[n], 1, true));
    }
    // One heap entry per changed pair: a stamp per pair instead of sorting the touched list.
    stamp.resize(pairs.size(), none);
    const auto round = static_cast<std::uint32_t>(merges.size());
    for (auto idx : touched) {
      if (stamp[idx] == round) continue;
      stamp[idx] = round;
      if (pairs[idx].count > 0) heap.push({pairs[idx].count, pairs[idx].pair.first, pairs[idx].pair.second, idx});
    }
    progress.tick();
  }
  progress.finish();
  return merges;
}

/// The reference trainer: recounts every pair before every merge (upstream's algorithm, with the
/// documented tie order). Quadratic; for tests on small corpora.
inline std::vector<MergePair> train_bpe_naive(const std::vector<std::string_view>& sequences, std::size_t n_merges) {
  std::vector<std::vector<TokenId>> seqs;
  for (auto s : sequences) {
    std::vector<TokenId> v;
    for (unsigned char c : s) v.push_back(c);
    seqs.push_back(std::move(v));
  }
  std::vector<MergePair> merges;
  while (merges.size() < n_merges) {
    std::map<MergePair, std::int64_t> counts;
    for (const auto& s : seqs)
      for (std::size_t i = 0; i + 1 < s.size(); ++i) ++counts[{s[i], s[i + 1]}];
    if (counts.empty()) break;
    MergePair best{};
    std::int64_t best_count = 0;
    for (const auto& [pair, c] : counts)  // ascending pair order: the first maximum wins ties
      if (c > best_count) {
        best = pair;
        best_count = c;
      }
    const TokenId z = static_cast<TokenId>(256 + merges.size());
    merges.push_back(best);
    for (auto& s : seqs) {
      std::vector<TokenId> out;
      for (std::size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && s[i] == best.first && s[i + 1] == best.second) {
          out.push_back(z);
          i += 2;
        } else {
          out.push_back(s[i++]);
        }
      }
      s = std::move(out);
    }
  }
  return merges;
}

}  // namespace ecgbench::tokenize
