// The Porter stemmer exactly as nltk's PorterStemmer in its default NLTK_EXTENSIONS mode (nltk 3.8,
// unchanged through 3.9), which METEOR's stem stage uses. Works on code points, as Python strings do.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ecgbench/eval/text.hpp"

namespace ecgbench::eval {

class PorterStemmer {
 public:
  /// nltk `PorterStemmer().stem(word)` (lower-cases first, as its default to_lowercase=True does).
  [[nodiscard]] std::string stem(std::string_view word) const {
    const std::string lowered = python_lower(word);
    if (auto it = irregular().find(std::string(word)); it != irregular().end()) return it->second;  // nltk looks up the raw word
    std::u32string w = to_u32(lowered);
    if (to_u32(word).size() <= 2) return lowered;
    w = step1a(w);
    w = step1b(w);
    w = step1c(w);
    w = step2(w);
    w = step3(w);
    w = step4(w);
    w = step5a(w);
    w = step5b(w);
    return to_utf8(w);
  }

 private:
  using S = std::u32string;
  struct Rule {
    S suffix, replacement;
    int condition;  // index into the condition switch below
  };
  enum Cond { none = 0, positive_measure, measure_gt_1, logi, ion, ll };

  static const std::unordered_map<std::string, std::string>& irregular() {
    static const std::unordered_map<std::string, std::string> pool = [] {
      const std::vector<std::pair<std::string, std::vector<std::string>>> forms{
          {"sky", {"sky", "skies"}}, {"die", {"dying"}}, {"lie", {"lying"}}, {"tie", {"tying"}},
          {"news", {"news"}}, {"inning", {"innings", "inning"}}, {"outing", {"outings", "outing"}},
          {"canning", {"cannings", "canning"}}, {"howe", {"howe"}}, {"proceed", {"proceed"}},
          {"exceed", {"exceed"}}, {"succeed", {"succeed"}}};
      std::unordered_map<std::string, std::string> m;
      for (const auto& [key, vals] : forms)
        for (const auto& v : vals) m[v] = key;
      return m;
    }();
    return pool;
  }
  static S to_u32(std::string_view s) {
    S out;
    for (std::size_t i = 0; i < s.size();) out.push_back(next_code_point(s, i));
    return out;
  }
  static std::string to_utf8(const S& s) {
    std::string out;
    for (char32_t c : s) append_code_point(out, c);
    return out;
  }
  static bool ends_with(const S& w, const S& suf) { return w.size() >= suf.size() && w.compare(w.size() - suf.size(), suf.size(), suf) == 0; }
  static bool is_vowel_letter(char32_t c) { return c == U'a' || c == U'e' || c == U'i' || c == U'o' || c == U'u'; }
  static bool is_consonant(const S& w, std::size_t i) {
    if (is_vowel_letter(w[i])) return false;
    if (w[i] == U'y') return i == 0 ? true : !is_consonant(w, i - 1);
    return true;
  }
  static int measure(const S& stem) {  // number of "vc" in the consonant/vowel pattern
    int m = 0;
    for (std::size_t i = 0; i + 1 < stem.size(); ++i) m += !is_consonant(stem, i) && is_consonant(stem, i + 1);
    return m;
  }
  static bool contains_vowel(const S& s) {
    for (std::size_t i = 0; i < s.size(); ++i)
      if (!is_consonant(s, i)) return true;
    return false;
  }
  static bool ends_double_consonant(const S& w) {
    return w.size() >= 2 && w[w.size() - 1] == w[w.size() - 2] && is_consonant(w, w.size() - 1);
  }
  static bool ends_cvc(const S& w) {
    const std::size_t n = w.size();
    return (n >= 3 && is_consonant(w, n - 3) && !is_consonant(w, n - 2) && is_consonant(w, n - 1) && w[n - 1] != U'w' &&
            w[n - 1] != U'x' && w[n - 1] != U'y') ||
           (n == 2 && !is_consonant(w, 0) && is_consonant(w, 1));
  }
  static bool holds(int cond, const S& stem, const S& word) {
    switch (cond) {
      case none: return true;
      case positive_measure: return measure(stem) > 0;
      case measure_gt_1: return measure(stem) > 1;
      case logi: return measure(word.substr(0, word.size() - 3)) > 0;
      case ion: return measure(stem) > 1 && !stem.empty() && (stem.back() == U's' || stem.back() == U't');
      case ll: return measure(word.substr(0, word.size() - 1)) > 1;
    }
    return false;
  }
  // nltk's _apply_rule_list: the first rule whose suffix matches decides (condition false -> unchanged).
  static S apply_rules(const S& word, const std::vector<Rule>& rules) {
    for (const Rule& r : rules) {
      if (ends_with(word, r.suffix)) {
        const S stem = word.substr(0, word.size() - r.suffix.size());
        return holds(r.condition, stem, word) ? stem + r.replacement : word;
      }
    }
    return word;
  }

  static S step1a(const S& w) {
    if (ends_with(w, U"ies") && w.size() == 4) return w.substr(0, 1) + U"ie";
    return apply_rules(w, {{U"sses", U"ss", none}, {U"ies", U"i", none}, {U"ss", U"ss", none}, {U"s", U"", none}});
  }
  static S step1b(const S& w) {
    if (ends_with(w, U"ied")) return w.substr(0, w.size() - 3) + (w.size() == 4 ? U"ie" : U"i");
    if (ends_with(w, U"eed")) {
      const S stem = w.substr(0, w.size() - 3);
      return measure(stem) > 0 ? stem + U"ee" : w;
    }
    S inter;
    bool ok = false;
    for (const S& suffix : {S(U"ed"), S(U"ing")}) {
      if (ends_with(w, suffix)) {
        inter = w.substr(0, w.size() - suffix.size());
        if (contains_vowel(inter)) {
          ok = true;
          break;
        }
      }
    }
    if (!ok) return w;
    if (ends_with(inter, U"at") || ends_with(inter, U"bl") || ends_with(inter, U"iz")) return inter + U"e";
    if (ends_double_consonant(inter)) {  // "*d": keep one letter unless l, s, z
      const char32_t last = inter.back();
      return (last != U'l' && last != U's' && last != U'z') ? inter.substr(0, inter.size() - 1) : inter;
    }
    return (measure(inter) == 1 && ends_cvc(inter)) ? inter + U"e" : inter;
  }
  static S step1c(const S& w) {
    if (ends_with(w, U"y")) {
      const S stem = w.substr(0, w.size() - 1);
      return (stem.size() > 1 && is_consonant(stem, stem.size() - 1)) ? stem + U"i" : w;
    }
    return w;
  }
  static S step2(const S& w) {
    if (ends_with(w, U"alli") && measure(w.substr(0, w.size() - 4)) > 0) return step2(w.substr(0, w.size() - 4) + U"al");
    static const std::vector<Rule> rules{
        {U"ational", U"ate", positive_measure}, {U"tional", U"tion", positive_measure}, {U"enci", U"ence", positive_measure},
        {U"anci", U"ance", positive_measure},   {U"izer", U"ize", positive_measure},    {U"bli", U"ble", positive_measure},
        {U"alli", U"al", positive_measure},     {U"entli", U"ent", positive_measure},   {U"eli", U"e", positive_measure},
        {U"ousli", U"ous", positive_measure},   {U"ization", U"ize", positive_measure}, {U"ation", U"ate", positive_measure},
        {U"ator", U"ate", positive_measure},    {U"alism", U"al", positive_measure},    {U"iveness", U"ive", positive_measure},
        {U"fulness", U"ful", positive_measure}, {U"ousness", U"ous", positive_measure}, {U"aliti", U"al", positive_measure},
        {U"iviti", U"ive", positive_measure},   {U"biliti", U"ble", positive_measure},  {U"fulli", U"ful", positive_measure},
        {U"logi", U"log", logi}};
    return apply_rules(w, rules);
  }
  static S step3(const S& w) {
    static const std::vector<Rule> rules{{U"icate", U"ic", positive_measure}, {U"ative", U"", positive_measure},
                                         {U"alize", U"al", positive_measure}, {U"iciti", U"ic", positive_measure},
                                         {U"ical", U"ic", positive_measure},  {U"ful", U"", positive_measure},
                                         {U"ness", U"", positive_measure}};
    return apply_rules(w, rules);
  }
  static S step4(const S& w) {
    static const std::vector<Rule> rules{
        {U"al", U"", measure_gt_1},   {U"ance", U"", measure_gt_1}, {U"ence", U"", measure_gt_1}, {U"er", U"", measure_gt_1},
        {U"ic", U"", measure_gt_1},   {U"able", U"", measure_gt_1}, {U"ible", U"", measure_gt_1}, {U"ant", U"", measure_gt_1},
        {U"ement", U"", measure_gt_1}, {U"ment", U"", measure_gt_1}, {U"ent", U"", measure_gt_1}, {U"ion", U"", ion},
        {U"ou", U"", measure_gt_1},   {U"ism", U"", measure_gt_1},  {U"ate", U"", measure_gt_1},  {U"iti", U"", measure_gt_1},
        {U"ous", U"", measure_gt_1},  {U"ive", U"", measure_gt_1},  {U"ize", U"", measure_gt_1}};
    return apply_rules(w, rules);
  }
  static S step5a(const S& w) {
    if (ends_with(w, U"e")) {
      const S stem = w.substr(0, w.size() - 1);
      if (measure(stem) > 1) return stem;
      if (measure(stem) == 1 && !ends_cvc(stem)) return stem;
    }
    return w;
  }
  static S step5b(const S& w) { return apply_rules(w, {{U"ll", U"l", ll}}); }
};

}  // namespace ecgbench::eval
