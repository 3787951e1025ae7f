// SentencePiece BPE models (`tokenizer.model` of Llama 2 and Gemma) read and applied without
// libsentencepiece: Debian's library carries its own protobuf-lite that collides with LibTorch's
// libprotobuf in one process. The model file is parsed with a small protobuf wire-format reader;
// encoding follows SentencePiece's BPE (highest-scoring adjacent merge first, ties to the left,
// user-defined pieces kept whole, unknown characters as <0xXX> byte pieces when byte_fallback is set).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"
#include "ecgbench/tokenize/byte_level_bpe.hpp"  // StringHash, utf8 helpers

namespace ecgbench::tokenize {

class SentencePieceBpe {
 public:
  enum class PieceType : int { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };
  struct Piece {
    std::string text;
    float score = 0;
    PieceType type = PieceType::normal;
  };

  static SentencePieceBpe load(const std::filesystem::path& path) { return parse(read_file(path), path.string()); }

  static SentencePieceBpe parse(std::string_view bytes, const std::string& file) {
    SentencePieceBpe m;
    m.file_ = file;
    Reader r{bytes, 0, file};
    int model_type = 1;  // UNIGRAM is the proto default
    while (!r.done()) {
      const auto [field, wire] = r.key();
      if (field == 1 && wire == 2) m.pieces_.push_back(parse_piece(r.sub(), file, m.pieces_.size()));
      else if (field == 2 && wire == 2) {
        Reader t = r.sub();
        while (!t.done()) {
          const auto [f, w] = t.key();
          if (f == 3 && w == 0) model_type = static_cast<int>(t.varint());
          else if (f == 35 && w == 0) m.byte_fallback_ = t.varint() != 0;
          else if (f == 24 && w == 0) m.whitespace_as_suffix_ = t.varint() != 0;
          else if (f >= 40 && f <= 43 && w == 0) m.special_ids_[f - 40] = static_cast<std::int32_t>(static_cast<std::int64_t>(t.varint()));
          else t.skip(w);
        }
      } else if (field == 3 && wire == 2) {
        Reader n = r.sub();
        while (!n.done()) {
          const auto [f, w] = n.key();
          if (f == 1 && w == 2) m.normalizer_name_ = std::string(n.bytes());
          else if (f == 2 && w == 2) m.has_charsmap_ = !n.bytes().empty();
          else if (f == 3 && w == 0) m.add_dummy_prefix_ = n.varint() != 0;
          else if (f == 4 && w == 0) m.remove_extra_whitespaces_ = n.varint() != 0;
          else if (f == 5 && w == 0) m.escape_whitespaces_ = n.varint() != 0;
          else n.skip(w);
        }
      } else {
        r.skip(wire);
      }
    }
    if (m.pieces_.empty()) throw Error({file, {}, {}, {}}, "not a SentencePiece model: no pieces");
    if (model_type != 2)
      throw Error({file, {}, {}, "trainer_spec.model_type"}, "SentencePiece model type " + std::to_string(model_type) +
                  " is not supported (only BPE = 2, as Llama 2 and Gemma use)");
    if (m.has_charsmap_ && m.normalizer_name_ != "identity")
      throw Error({file, {}, {}, "normalizer_spec"}, "normalization '" + m.normalizer_name_ + "' is not supported (identity only)");
    for (std::size_t i = 0; i < m.pieces_.size(); ++i) {
      const Piece& p = m.pieces_[i];
      const auto id = static_cast<std::int32_t>(i);
      const bool mergeable = p.type == PieceType::normal || p.type == PieceType::user_defined || p.type == PieceType::unused;
      auto& map = mergeable ? m.pieces_index_ : m.reserved_index_;
      if (!map.emplace(p.text, id).second) throw Error({file, {}, {}, "piece " + std::to_string(i)}, "duplicate piece '" + p.text + "'");
      if (p.type == PieceType::unknown) m.unk_ = id;
      if (p.type == PieceType::user_defined)  // pieces are never empty (parse_piece)
        m.user_defined_[static_cast<unsigned char>(p.text[0])].push_back(p.text);
      if (p.type == PieceType::byte) {
        if (p.text.size() != 6 || p.text.rfind("<0x", 0) != 0) throw Error({file, {}, {}, "piece " + std::to_string(i)}, "malformed byte piece '" + p.text + "'");
        m.byte_ids_[std::stoi(p.text.substr(3, 2), nullptr, 16)] = id;
      }
    }
    if (!m.unk_) throw Error({file, {}, {}, {}}, "SentencePiece model has no unknown piece");
    for (auto& bucket : m.user_defined_)  // longest first: the first match is the longest
      std::stable_sort(bucket.begin(), bucket.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    return m;
  }

  [[nodiscard]] std::size_t size() const noexcept { return pieces_.size(); }
  [[nodiscard]] const Piece& piece(std::int32_t id) const { return pieces_.at(static_cast<std::size_t>(id)); }
  [[nodiscard]] std::int32_t unk_id() const { return *unk_; }
  /// trainer_spec's bos/eos/pad ids (proto defaults 1 / 2 / -1); nullopt when absent from the vocabulary.
  [[nodiscard]] std::optional<std::int32_t> bos_id() const { return valid(special_ids_[1]); }
  [[nodiscard]] std::optional<std::int32_t> eos_id() const { return valid(special_ids_[2]); }
  [[nodiscard]] std::optional<std::int32_t> pad_id() const { return valid(special_ids_[3]); }
  [[nodiscard]] std::optional<std::int32_t> find(std::string_view text) const {
    if (auto it = pieces_index_.find(text); it != pieces_index_.end()) return it->second;
    if (auto it = reserved_index_.find(text); it != reserved_index_.end()) return it->second;
    return std::nullopt;
  }
  [[nodiscard]] std::optional<std::int32_t> id_of_type(PieceType t, std::string_view text) const {
    auto id = find(text);
    return id && piece(*id).type == t ? id : std::nullopt;
  }

  /// Appends the ids of `text` (valid UTF-8).
  void encode(std::string_view text, std::vector<std::int32_t>& out) const {
    const std::string normalized = normalize(text);
    if (normalized.empty()) return;
    struct Symbol { int prev, next; bool freeze; std::size_t begin, len; };
    std::vector<Symbol> sym;
    for (std::size_t i = 0; i < normalized.size();) {
      std::size_t len = 0;
      bool user = false;
      for (const auto& u : user_defined_[static_cast<unsigned char>(normalized[i])])  // kept whole, longest first
        if (normalized.compare(i, u.size(), u) == 0) {
          len = u.size();
          user = true;
          break;
        }
      if (!user) len = std::max<std::size_t>(1, utf8_sequence_length(normalized, i));
      const int idx = static_cast<int>(sym.size());
      sym.push_back({idx - 1, -1, user, i, len});
      i += len;
    }
    for (std::size_t i = 0; i + 1 < sym.size(); ++i) sym[i].next = static_cast<int>(i + 1);
    struct Pair { int left, right; float score; std::size_t len; };
    auto worse = [](const Pair& a, const Pair& b) { return a.score < b.score || (a.score == b.score && a.left > b.left); };
    std::priority_queue<Pair, std::vector<Pair>, decltype(worse)> agenda(worse);
    auto consider = [&](int l, int r) {
      if (l < 0 || r < 0 || sym[static_cast<std::size_t>(l)].freeze || sym[static_cast<std::size_t>(r)].freeze) return;
      const auto& a = sym[static_cast<std::size_t>(l)];
      const auto& b = sym[static_cast<std::size_t>(r)];
      auto it = pieces_index_.find(std::string_view(normalized).substr(a.begin, a.len + b.len));
      if (it == pieces_index_.end()) return;
      agenda.push({l, r, pieces_[static_cast<std::size_t>(it->second)].score, a.len + b.len});
    };
    for (std::size_t i = 1; i < sym.size(); ++i) consider(static_cast<int>(i - 1), static_cast<int>(i));
    while (!agenda.empty()) {
      const Pair top = agenda.top();
      agenda.pop();
      auto& l = sym[static_cast<std::size_t>(top.left)];
      auto& r = sym[static_cast<std::size_t>(top.right)];
      if (l.len == 0 || r.len == 0 || l.len + r.len != top.len) continue;  // stale
      l.len += r.len;
      l.next = r.next;
      if (r.next >= 0) sym[static_cast<std::size_t>(r.next)].prev = top.left;
      r.len = 0;
      consider(l.prev, top.left);
      consider(top.left, l.next);
    }
    for (int i = 0; i != -1 && !sym.empty(); i = sym[static_cast<std::size_t>(i)].next) {
      const std::string_view p = std::string_view(normalized).substr(sym[static_cast<std::size_t>(i)].begin, sym[static_cast<std::size_t>(i)].len);
      const auto id = find(p);
      if (id && pieces_[static_cast<std::size_t>(*id)].type != PieceType::unused) {
        out.push_back(*id);
      } else if (byte_fallback_) {
        for (unsigned char c : p) {
          const auto b = byte_ids_.find(c);
          out.push_back(b == byte_ids_.end() ? *unk_ : b->second);
        }
      } else {
        out.push_back(*unk_);
      }
    }
  }

  /// Concatenates pieces: "▁" -> space, <0xXX> byte pieces -> bytes, the dummy-prefix space of the
  /// first piece removed, control pieces empty, unknown pieces " ⁇ " (as SentencePiece decodes).
  [[nodiscard]] std::string decode(const std::vector<std::int32_t>& ids) const {
    std::string out;
    bool first = true;
    for (auto id : ids) {
      const Piece& p = piece(id);
      if (p.type == PieceType::control) continue;
      if (p.type == PieceType::byte) {
        out.push_back(static_cast<char>(std::stoi(p.text.substr(3, 2), nullptr, 16)));
        first = false;
        continue;
      }
      if (p.type == PieceType::unknown) {
        out += " \xE2\x81\x87 ";
        first = false;
        continue;
      }
      std::string text;
      for (std::size_t i = 0; i < p.text.size();) {
        if (p.text.compare(i, 3, "\xE2\x96\x81") == 0) { text += ' '; i += 3; }
        else text += p.text[i++];
      }
      if (first && add_dummy_prefix_ && !whitespace_as_suffix_ && !text.empty() && text[0] == ' ') text.erase(0, 1);
      out += text;
      first = false;
    }
    return out;
  }

 private:
  struct Reader {
    std::string_view s;
    std::size_t pos;
    const std::string& file;
    [[nodiscard]] bool done() const { return pos >= s.size(); }
    [[noreturn]] void fail(const std::string& why) const { throw Error({file, {}, pos, {}}, "malformed SentencePiece model: " + why); }
    std::uint64_t varint() {
      std::uint64_t v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (done()) fail("truncated varint");
        const auto b = static_cast<unsigned char>(s[pos++]);
        v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
      }
      fail("varint too long");
    }
    std::pair<std::uint64_t, int> key() {
      const auto k = varint();
      return {k >> 3, static_cast<int>(k & 7)};
    }
    std::string_view bytes() {
      const auto n = varint();
      if (n > s.size() - pos) fail("length beyond the end of the data");
      const auto out = s.substr(pos, n);
      pos += n;
      return out;
    }
    Reader sub() { return Reader{bytes(), 0, file}; }
    float fixed32_float() {
      if (s.size() - pos < 4) fail("truncated float");
      float f;
      std::memcpy(&f, s.data() + pos, 4);
      pos += 4;
      return f;
    }
    void skip(int wire) {
      switch (wire) {
        case 0: varint(); break;
        case 1: if (s.size() - pos < 8) fail("truncated fixed64"); pos += 8; break;
        case 2: bytes(); break;
        case 5: if (s.size() - pos < 4) fail("truncated fixed32"); pos += 4; break;
        default: fail("unknown wire type " + std::to_string(wire));
      }
    }
  };
  static Piece parse_piece(Reader r, const std::string& file, std::size_t index) {
    Piece p;
    while (!r.done()) {
      const auto [f, w] = r.key();
      if (f == 1 && w == 2) p.text = std::string(r.bytes());
      else if (f == 2 && w == 5) p.score = r.fixed32_float();
      else if (f == 3 && w == 0) {
        const auto t = r.varint();
        if (t < 1 || t > 6) throw Error({file, {}, {}, "piece " + std::to_string(index)}, "unknown piece type " + std::to_string(t));
        p.type = static_cast<PieceType>(t);
      } else r.skip(w);
    }
    if (p.text.empty()) throw Error({file, {}, {}, "piece " + std::to_string(index)}, "empty piece");
    if (find_invalid_utf8(p.text)) throw Error({file, {}, {}, "piece " + std::to_string(index)}, "piece is not valid UTF-8");
    return p;
  }
  // SentencePiece's normaliser without a character map: optional whitespace clean-up, spaces to
  // "▁", and the dummy "▁" prefix.
  [[nodiscard]] std::string normalize(std::string_view text) const {
    std::string t(text);
    if (remove_extra_whitespaces_) {
      std::string c;
      bool space = true;  // drops leading spaces
      for (char ch : t) {
        if (ch == ' ') {
          if (!space) c += ' ';
          space = true;
        } else {
          c += ch;
          space = false;
        }
      }
      while (!c.empty() && c.back() == ' ') c.pop_back();
      t = c;
    }
    if (t.empty()) return {};
    std::string out;
    const std::string ws = escape_whitespaces_ ? "\xE2\x96\x81" : " ";
    if (add_dummy_prefix_ && !whitespace_as_suffix_) out += ws;
    for (char ch : t) {
      if (ch == ' ') out += ws;
      else out += ch;
    }
    if (add_dummy_prefix_ && whitespace_as_suffix_) out += ws;
    return out;
  }

  [[nodiscard]] std::optional<std::int32_t> valid(std::int32_t id) const {
    return id >= 0 && static_cast<std::size_t>(id) < pieces_.size() ? std::optional<std::int32_t>(id) : std::nullopt;
  }

  std::string file_;
  std::int32_t special_ids_[4] = {0, 1, 2, -1};  // unk, bos, eos, pad
  std::vector<Piece> pieces_;
  TokenIndex pieces_index_, reserved_index_;
  std::unordered_map<int, std::int32_t> byte_ids_;
  std::array<std::vector<std::string>, 256> user_defined_;  // user-defined pieces by first byte, longest first
  std::optional<std::int32_t> unk_;
  std::string normalizer_name_;
  bool has_charsmap_ = false, add_dummy_prefix_ = true, remove_extra_whitespaces_ = true, escape_whitespaces_ = true;
  bool byte_fallback_ = false, whitespace_as_suffix_ = false;
};

}  // namespace ecgbench::tokenize
