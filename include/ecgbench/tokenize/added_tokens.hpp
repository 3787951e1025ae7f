// Added tokens (special tokens such as <|eot_id|>, and tokens added at run time such as upstream's
// `signal_<id>`): found in the text before pre-tokenisation, leftmost-longest as Hugging Face does.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ecgbench::tokenize {

struct AddedToken {
  std::string content;
  std::int32_t id = 0;
  bool special = false;      ///< skipped by decode(skip_special_tokens); not matched when specials are split
  bool lstrip = false;       ///< swallows whitespace on its left
  bool rstrip = false;       ///< swallows whitespace on its right
  bool single_word = false;  ///< matches only between word boundaries
};

/// One piece of input after splitting on added tokens: plain text or one added token.
struct TextPiece {
  std::string_view text;
  const AddedToken* token = nullptr;
};

/// The set of added tokens with a byte trie for matching.
class AddedTokenSet {
 public:
  /// Adds or replaces the token with this content. Returns false when content is empty.
  bool add(AddedToken t) {
    if (t.content.empty()) return false;
    if (auto it = by_content_.find(t.content); it != by_content_.end()) {
      tokens_[it->second] = std::move(t);
    } else {
      by_content_.emplace(t.content, tokens_.size());
      tokens_.push_back(std::move(t));
    }
    rebuild_ = true;
    return true;
  }
  [[nodiscard]] const AddedToken* find(std::string_view content) const {
    auto it = by_content_.find(std::string(content));
    return it == by_content_.end() ? nullptr : &tokens_[it->second];
  }
  [[nodiscard]] const std::vector<AddedToken>& tokens() const noexcept { return tokens_; }
  [[nodiscard]] bool empty() const noexcept { return tokens_.empty(); }
  /// Builds the trie now (call after a batch of additions, before encoding from several threads).
  void prepare() const { if (rebuild_) build(); }

  /// Splits `s` into plain pieces and added tokens. With `match_special = false` special tokens are
  /// left in the text (Hugging Face's split_special_tokens).
  [[nodiscard]] std::vector<TextPiece> split(std::string_view s, bool match_special = true) const {
    if (rebuild_) build();
    std::vector<TextPiece> out;
    std::size_t plain_start = 0;
    for (std::size_t i = 0; i < s.size();) {
      const AddedToken* best = nullptr;
      std::size_t best_len = 0;
      if (first_byte_[static_cast<unsigned char>(s[i])]) {
        std::int32_t node = 0;
        for (std::size_t k = i; k < s.size(); ++k) {
          auto e = edges_.find(edge_key(node, static_cast<unsigned char>(s[k])));
          if (e == edges_.end()) break;
          node = e->second;
          const std::int32_t tok = node_token_[static_cast<std::size_t>(node)];
          if (tok >= 0) {
            const AddedToken& t = tokens_[static_cast<std::size_t>(tok)];
            if ((match_special || !t.special) && (!t.single_word || word_bounded(s, i, k + 1))) {
              best = &t;
              best_len = k + 1 - i;
            }
          }
        }
      }
      if (!best) { ++i; continue; }
      std::size_t b = i, e = i + best_len;
      if (best->lstrip) while (b > plain_start && is_space(s[b - 1])) --b;
      if (best->rstrip) while (e < s.size() && is_space(s[e])) ++e;
      if (b > plain_start) out.push_back({s.substr(plain_start, b - plain_start), nullptr});
      out.push_back({s.substr(b, e - b), best});
      i = plain_start = e;
    }
    if (plain_start < s.size()) out.push_back({s.substr(plain_start), nullptr});
    return out;
  }

 private:
  static std::uint64_t edge_key(std::int32_t node, unsigned char b) noexcept { return (static_cast<std::uint64_t>(node) << 8) | b; }
  static bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
  static bool is_word(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_';
  }
  static bool word_bounded(std::string_view s, std::size_t b, std::size_t e) noexcept {
    return (b == 0 || !is_word(s[b - 1])) && (e >= s.size() || !is_word(s[e]));
  }
  void build() const {
    edges_.clear();
    node_token_.assign(1, -1);
    first_byte_.fill(false);
    for (std::size_t t = 0; t < tokens_.size(); ++t) {
      std::int32_t node = 0;
      for (unsigned char b : tokens_[t].content) {
        auto [it, inserted] = edges_.emplace(edge_key(node, b), static_cast<std::int32_t>(node_token_.size()));
        if (inserted) node_token_.push_back(-1);
        node = it->second;
      }
      node_token_[static_cast<std::size_t>(node)] = static_cast<std::int32_t>(t);
      first_byte_[static_cast<unsigned char>(tokens_[t].content[0])] = true;
    }
    rebuild_ = false;
  }

  std::vector<AddedToken> tokens_;
  std::unordered_map<std::string, std::size_t> by_content_;
  // The trie is derived data, rebuilt lazily after additions (additions are not concurrent with encoding).
  mutable std::unordered_map<std::uint64_t, std::int32_t> edges_;
  mutable std::vector<std::int32_t> node_token_;
  mutable std::array<bool, 256> first_byte_{};
  mutable bool rebuild_ = true;
};

}  // namespace ecgbench::tokenize
