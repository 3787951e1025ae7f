// The pre-tokenizer split of Hugging Face tokenizers (`Split` with behaviour "Isolated", and the
// GPT-2 pattern of `ByteLevel(use_regex=true)`), on PCRE2 with Unicode properties and JIT.
#pragma once

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ecgbench/core/error.hpp"
#include "ecgbench/tokenize/utf8.hpp"

namespace ecgbench::tokenize {

/// GPT-2's pre-tokenizer pattern (OpenAI encoder.py; `ByteLevel` pre-tokenizer with use_regex).
inline constexpr std::string_view gpt2_split_pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

/// A compiled split pattern. Immutable after construction, so one object serves many threads.
class SplitRegex {
 public:
  SplitRegex() = default;
  explicit SplitRegex(std::string pattern, const std::string& source = "pattern") : pattern_(std::move(pattern)) {
    int code = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern_.data()), pattern_.size(),
                                   PCRE2_UTF | PCRE2_UCP, &code, &offset, nullptr);
    if (!re) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(code, msg, sizeof msg);
      throw Error({source, {}, offset, "regex /" + pattern_ + "/"},
                  std::string("cannot compile the split pattern: ") + reinterpret_cast<const char*>(msg));
    }
    reset_(re);
    jit_ = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
  }

  [[nodiscard]] bool empty() const noexcept { return !code_; }
  [[nodiscard]] const std::string& pattern() const noexcept { return pattern_; }

  /// Calls fn(piece) for every match and every gap between matches, in order ("Isolated").
  /// `s` must be valid UTF-8.
  template <class Fn>
  void split(std::string_view s, Fn&& fn) const {
    if (!code_) { if (!s.empty()) fn(s); return; }
    std::unique_ptr<pcre2_match_data, MatchDataFree> md(pcre2_match_data_create_from_pattern(code_.get(), nullptr));
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(s.data());
    std::size_t pos = 0, gap_start = 0;
    while (pos < s.size()) {
      const int rc = jit_ ? pcre2_jit_match(code_.get(), subject, s.size(), pos, 0, md.get(), nullptr)
                          : pcre2_match(code_.get(), subject, s.size(), pos, PCRE2_NO_UTF_CHECK, md.get(), nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        throw Error({"text", {}, pos, "regex /" + pattern_ + "/"}, std::string("split failed: ") + reinterpret_cast<const char*>(msg));
      }
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
      const std::size_t b = ov[0], e = ov[1];
      if (e == b) {  // empty match: step over one code point
        std::size_t next = b;
        next_code_point(s, next);
        pos = next;
        continue;
      }
      if (b > gap_start) fn(s.substr(gap_start, b - gap_start));
      fn(s.substr(b, e - b));
      pos = gap_start = e;
    }
    if (gap_start < s.size()) fn(s.substr(gap_start));
  }

 private:
  struct CodeFree { void operator()(pcre2_code* c) const noexcept { pcre2_code_free(c); } };
  struct MatchDataFree { void operator()(pcre2_match_data* m) const noexcept { pcre2_match_data_free(m); } };
  std::string pattern_;
  std::shared_ptr<pcre2_code> code_{nullptr, CodeFree{}};
  bool jit_ = false;
  // shared_ptr with a deleter keeps the class copyable; the compiled code is never mutated.
  void reset_(pcre2_code* re) { code_ = std::shared_ptr<pcre2_code>(re, CodeFree{}); }
};

}  // namespace ecgbench::tokenize
