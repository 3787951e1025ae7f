// WordPiece, BERT's tokenizer: BertNormalizer (clean text, spaces around CJK ideographs, strip
// accents, lower-case; ICU for Unicode categories), BertPreTokenizer (whitespace and punctuation), then
// greedy longest-match-first sub-words with the "##" continuation prefix, as Hugging Face tokenizers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include "ecgbench/core/error.hpp"
#include "ecgbench/tokenize/byte_level_bpe.hpp"  // TokenIndex
#include "ecgbench/tokenize/utf8.hpp"

namespace ecgbench::tokenize {

struct BertNormalizerOptions {
  bool clean_text = true, handle_chinese_chars = true, lowercase = true;
  std::optional<bool> strip_accents;  ///< default: follows lowercase
};

class WordPiece {
 public:
  WordPiece() = default;
  WordPiece(const std::vector<std::pair<std::string, std::int32_t>>& vocab, std::string unk, std::string prefix, std::size_t max_chars,
            BertNormalizerOptions norm, const std::string& source)
      : prefix_(std::move(prefix)), max_chars_(max_chars), norm_(norm) {
    std::int32_t max_id = -1;
    for (const auto& [t, id] : vocab) max_id = std::max(max_id, id);
    tokens_.assign(static_cast<std::size_t>(max_id + 1), std::string{});
    for (const auto& [t, id] : vocab) {
      if (id < 0) throw Error({source, {}, {}, "token '" + t + "'"}, "negative token id");
      tokens_[static_cast<std::size_t>(id)] = t;
      index_.emplace(t, id);
    }
    auto it = index_.find(unk);
    if (it == index_.end()) throw Error({source, {}, {}, "unk_token"}, "unknown token '" + unk + "' is not in the vocabulary");
    unk_ = it->second;
  }

  [[nodiscard]] std::size_t size() const noexcept { return tokens_.size(); }
  [[nodiscard]] const std::string& token(std::int32_t id) const { return tokens_.at(static_cast<std::size_t>(id)); }
  [[nodiscard]] std::optional<std::int32_t> find(std::string_view t) const {
    auto it = index_.find(t);
    return it == index_.end() ? std::nullopt : std::optional<std::int32_t>(it->second);
  }
  [[nodiscard]] std::int32_t unk_id() const { return unk_; }

  void encode(std::string_view text, std::vector<std::int32_t>& out) const {
    for (const auto& word : pre_tokenize(normalize(text))) encode_word(word, out);
  }

  /// Tokens joined by spaces with "##" continuations glued back (the WordPiece decoder).
  [[nodiscard]] std::string decode(const std::vector<std::int32_t>& ids) const {
    std::string out;
    for (auto id : ids) {
      const std::string& t = token(id);
      if (t.rfind(prefix_, 0) == 0 && !out.empty()) out += t.substr(prefix_.size());
      else {
        if (!out.empty()) out += ' ';
        out += t;
      }
    }
    return out;
  }

  [[nodiscard]] std::string normalize(std::string_view text) const {
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
    icu::UnicodeString v;
    for (int32_t i = 0; i < u.length();) {
      const UChar32 c = u.char32At(i);
      i += U16_LENGTH(c);
      if (norm_.clean_text) {
        if (c == 0 || c == 0xFFFD || (is_control(c))) continue;
        if (is_whitespace(c)) { v.append(static_cast<UChar32>(' ')); continue; }
      }
      if (norm_.handle_chinese_chars && is_cjk(c)) {
        v.append(static_cast<UChar32>(' ')).append(c).append(static_cast<UChar32>(' '));
        continue;
      }
      v.append(c);
    }
    if (norm_.strip_accents.value_or(norm_.lowercase)) {
      UErrorCode st = U_ZERO_ERROR;
      const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(st);
      if (U_FAILURE(st)) throw Error("ICU NFD normaliser unavailable");
      const icu::UnicodeString d = nfd->normalize(v, st);
      v.remove();
      for (int32_t i = 0; i < d.length();) {
        const UChar32 c = d.char32At(i);
        i += U16_LENGTH(c);
        if (u_charType(c) != U_NON_SPACING_MARK) v.append(c);
      }
    }
    if (norm_.lowercase) v.toLower(icu::Locale::getRoot());
    std::string out;
    v.toUTF8String(out);
    return out;
  }

 private:
  static bool is_whitespace(UChar32 c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || u_charType(c) == U_SPACE_SEPARATOR; }
  static bool is_control(UChar32 c) {
    if (c == '\t' || c == '\n' || c == '\r') return false;
    const auto t = u_charType(c);
    return t == U_CONTROL_CHAR || t == U_FORMAT_CHAR || t == U_PRIVATE_USE_CHAR || t == U_SURROGATE;
  }
  static bool is_cjk(UChar32 c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
  }
  static bool is_punctuation(UChar32 c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
    const auto t = u_charType(c);
    return t == U_CONNECTOR_PUNCTUATION || t == U_DASH_PUNCTUATION || t == U_START_PUNCTUATION || t == U_END_PUNCTUATION ||
           t == U_INITIAL_PUNCTUATION || t == U_FINAL_PUNCTUATION || t == U_OTHER_PUNCTUATION;
  }
  // BertPreTokenizer: split on whitespace, every punctuation character is its own word.
  static std::vector<std::string> pre_tokenize(const std::string& s) {
    std::vector<std::string> words;
    std::string cur;
    for (std::size_t i = 0; i < s.size();) {
      const std::size_t at = i;
      const UChar32 c = static_cast<UChar32>(next_code_point(s, i));
      if (u_isUWhiteSpace(c) || is_whitespace(c)) {
        if (!cur.empty()) words.push_back(std::move(cur)), cur.clear();
      } else if (is_punctuation(c)) {
        if (!cur.empty()) words.push_back(std::move(cur)), cur.clear();
        words.emplace_back(s.substr(at, i - at));
      } else {
        cur.append(s, at, i - at);
      }
    }
    if (!cur.empty()) words.push_back(std::move(cur));
    return words;
  }
  void encode_word(const std::string& w, std::vector<std::int32_t>& out) const {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < w.size();) next_code_point(w, i), ++chars;
    if (chars > max_chars_) {
      out.push_back(unk_);
      return;
    }
    std::vector<std::int32_t> pieces;
    for (std::size_t start = 0; start < w.size();) {
      std::size_t end = w.size();
      std::optional<std::int32_t> hit;
      while (start < end) {
        std::string sub = (start > 0 ? prefix_ : std::string()) + w.substr(start, end - start);
        if (auto id = find(sub)) { hit = id; break; }
        do { --end; } while (end > start && (static_cast<unsigned char>(w[end]) & 0xC0) == 0x80);  // one code point back
      }
      if (!hit) {
        out.push_back(unk_);
        return;
      }
      pieces.push_back(*hit);
      start = end;
    }
    out.insert(out.end(), pieces.begin(), pieces.end());
  }

  std::vector<std::string> tokens_;
  TokenIndex index_;
  std::int32_t unk_ = 0;
  std::string prefix_ = "##";
  std::size_t max_chars_ = 100;
  BertNormalizerOptions norm_;
};

}  // namespace ecgbench::tokenize
