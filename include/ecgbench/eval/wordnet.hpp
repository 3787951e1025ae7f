// WordNet 3.0 read from its database files (Debian `wordnet-base`: /usr/share/wordnet) with nltk's
// semantics for what METEOR needs: `morphy` base forms and the lemma names of `synsets(word)`.
// nltk 3.9 strips one suffix in morphy (upstream pins nltk 3.9.1); 3.8 kept stripping until a form
// was found. Both are selectable, 3.9 is the default.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"

namespace ecgbench::eval {

enum class MorphyVersion { nltk39, nltk38 };

class WordNet {
 public:
  enum Pos : int { noun = 0, verb = 1, adj = 2, adv = 3 };

  /// $ECGBENCH_WORDNET, else $WNSEARCHDIR, else /usr/share/wordnet.
  static std::filesystem::path default_directory() {
    for (const char* var : {"ECGBENCH_WORDNET", "WNSEARCHDIR"})
      if (const char* v = std::getenv(var); v && *v) return v;
    return "/usr/share/wordnet";
  }

  explicit WordNet(const std::filesystem::path& dir = default_directory()) : dir_(dir) {
    if (!std::filesystem::exists(dir / "index.noun"))
      throw Error({dir.string(), {}, {}, {}},
                  "WordNet 3.0 database not found (install Debian's wordnet-base, or point ECGBENCH_WORDNET at a "
                  "folder with index.noun, data.noun, noun.exc, ...)");
    static constexpr std::array<const char*, 4> names{"noun", "verb", "adj", "adv"};
    for (int p = 0; p < 4; ++p) {
      load_index(dir / (std::string("index.") + names[static_cast<std::size_t>(p)]), p);
      load_exceptions(dir / (std::string(names[static_cast<std::size_t>(p)]) + ".exc"), p);
      data_files_[static_cast<std::size_t>(p)] = dir / (std::string("data.") + names[static_cast<std::size_t>(p)]);
      data_[static_cast<std::size_t>(p)] = read_file(data_files_[static_cast<std::size_t>(p)]);
    }
  }

  /// One process-wide instance per directory (loading takes a fraction of a second).
  static const WordNet& shared(const std::filesystem::path& dir = default_directory()) {
    static std::mutex m;
    static std::unordered_map<std::string, std::unique_ptr<WordNet>> instances;
    std::lock_guard lock(m);
    auto& slot = instances[std::filesystem::absolute(dir).string()];
    if (!slot) slot = std::make_unique<WordNet>(dir);
    return *slot;
  }

  /// nltk `_morphy(form, pos)`: base forms of `form` that WordNet lists under `pos`.
  [[nodiscard]] std::vector<std::string> morphy(const std::string& form, Pos pos, MorphyVersion v = MorphyVersion::nltk39) const {
    const auto& exc = exceptions_[pos];
    if (auto it = exc.find(form); it != exc.end()) {
      std::vector<std::string> forms{form};
      forms.insert(forms.end(), it->second.begin(), it->second.end());
      return filter(forms, pos);
    }
    std::vector<std::string> forms = apply_rules({form}, pos);
    std::vector<std::string> first{form};
    first.insert(first.end(), forms.begin(), forms.end());
    auto result = filter(first, pos);
    if (!result.empty() || v == MorphyVersion::nltk39) return result;
    while (!forms.empty()) {
      forms = apply_rules(forms, pos);
      result = filter(forms, pos);
      if (!result.empty()) return result;
    }
    return {};
  }

  /// The lemma names (case kept, syntactic markers removed) of every synset of `word` in all parts
  /// of speech, as nltk's `wordnet.synsets(word)` yields them.
  [[nodiscard]] std::vector<std::string> synset_lemma_names(const std::string& word, MorphyVersion v = MorphyVersion::nltk39) const {
    std::vector<std::string> names;
    for (int p = 0; p < 4; ++p) {
      for (const auto& form : morphy(word, static_cast<Pos>(p), v)) {
        const auto it = index_.find(form);
        for (std::uint64_t offset : it->second[static_cast<std::size_t>(p)]) append_lemmas(static_cast<Pos>(p), offset, names);
      }
    }
    return names;
  }

  [[nodiscard]] std::size_t lemma_count() const noexcept { return index_.size(); }

 private:
  static const std::vector<std::pair<std::string, std::string>>& substitutions(int pos) {
    static const std::array<std::vector<std::pair<std::string, std::string>>, 4> subs{
        std::vector<std::pair<std::string, std::string>>{{"s", ""}, {"ses", "s"}, {"ves", "f"}, {"xes", "x"}, {"zes", "z"},
                                                         {"ches", "ch"}, {"shes", "sh"}, {"men", "man"}, {"ies", "y"}},
        std::vector<std::pair<std::string, std::string>>{{"s", ""}, {"ies", "y"}, {"es", "e"}, {"es", ""}, {"ed", "e"},
                                                         {"ed", ""}, {"ing", "e"}, {"ing", ""}},
        std::vector<std::pair<std::string, std::string>>{{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}},
        std::vector<std::pair<std::string, std::string>>{}};
    return subs[static_cast<std::size_t>(pos)];
  }
  static std::vector<std::string> apply_rules(const std::vector<std::string>& forms, int pos) {
    std::vector<std::string> out;
    for (const auto& f : forms)
      for (const auto& [old, repl] : substitutions(pos))
        if (f.size() >= old.size() && f.compare(f.size() - old.size(), old.size(), old) == 0)
          out.push_back(f.substr(0, f.size() - old.size()) + repl);
    return out;
  }
  std::vector<std::string> filter(const std::vector<std::string>& forms, int pos) const {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (const auto& f : forms) {
      auto it = index_.find(f);
      if (it != index_.end() && !it->second[static_cast<std::size_t>(pos)].empty() && seen.insert(f).second) out.push_back(f);
    }
    return out;
  }

  void load_index(const std::filesystem::path& path, int pos) {
    const std::string text = read_file(path);
    std::size_t line_no = 0;
    for (std::size_t b = 0; b < text.size();) {
      std::size_t e = text.find('\n', b);
      if (e == std::string::npos) e = text.size();
      ++line_no;
      const std::string_view line(text.data() + b, e - b);
      b = e + 1;
      if (line.empty() || line[0] == ' ') continue;  // license header
      std::vector<std::string_view> tok;
      for (std::size_t i = 0; i < line.size();) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\r')) ++i;
        std::size_t j = i;
        while (j < line.size() && line[j] != ' ' && line[j] != '\r') ++j;
        if (j > i) tok.push_back(line.substr(i, j - i));
        i = j;
      }
      auto bad = [&](const std::string& why) { return Error({path.string(), line_no, {}, {}}, "malformed WordNet index line: " + why); };
      if (tok.size() < 4) throw bad("too few fields");
      const std::size_t n_synsets = to_size(tok[2], bad), n_pointers = to_size(tok[3], bad);
      const std::size_t at = 4 + n_pointers + 2;  // pointers, sense_cnt, tagsense_cnt
      if (tok.size() < at + n_synsets) throw bad("fewer synset offsets than declared");
      auto& offsets = index_[std::string(tok[0])][static_cast<std::size_t>(pos)];
      offsets.clear();
      for (std::size_t k = 0; k < n_synsets; ++k) offsets.push_back(to_size(tok[at + k], bad));
    }
  }
  void load_exceptions(const std::filesystem::path& path, int pos) {
    const std::string text = read_file(path);
    std::size_t b = 0;
    while (b < text.size()) {
      std::size_t e = text.find('\n', b);
      if (e == std::string::npos) e = text.size();
      std::vector<std::string> terms;
      for (std::size_t i = b; i < e;) {
        while (i < e && (text[i] == ' ' || text[i] == '\r')) ++i;
        std::size_t j = i;
        while (j < e && text[j] != ' ' && text[j] != '\r') ++j;
        if (j > i) terms.emplace_back(text.substr(i, j - i));
        i = j;
      }
      if (!terms.empty()) exceptions_[static_cast<std::size_t>(pos)][terms[0]] = std::vector<std::string>(terms.begin() + 1, terms.end());
      b = e + 1;
    }
  }
  template <class Bad>
  static std::size_t to_size(std::string_view s, Bad&& bad) {
    std::size_t v = 0;
    if (s.empty()) throw bad("empty number");
    for (char c : s) {
      if (c < '0' || c > '9') throw bad("'" + std::string(s) + "' is not a number");
      v = v * 10 + static_cast<std::size_t>(c - '0');
    }
    return v;
  }
  void append_lemmas(Pos pos, std::uint64_t offset, std::vector<std::string>& out) const {
    const std::string& data = data_[pos];
    const std::string& file = data_files_[pos].string();
    auto bad = [&](const std::string& why) { return Error({file, {}, offset, {}}, "malformed WordNet synset: " + why); };
    if (offset + 8 > data.size()) throw bad("offset beyond the end of the file");
    const std::size_t end = data.find('\n', offset);
    const std::string_view line(data.data() + offset, (end == std::string::npos ? data.size() : end) - offset);
    std::vector<std::string_view> tok;
    for (std::size_t i = 0; i < line.size() && tok.size() < 4 + 2 * 255;) {
      while (i < line.size() && line[i] == ' ') ++i;
      std::size_t j = i;
      while (j < line.size() && line[j] != ' ') ++j;
      if (j > i) tok.push_back(line.substr(i, j - i));
      i = j;
      if (tok.size() >= 4) {
        const std::size_t n = std::strtoul(std::string(tok[3]).c_str(), nullptr, 16);
        if (tok.size() >= 4 + 2 * n) break;
      }
    }
    if (tok.size() < 4 || to_size(tok[0], bad) != offset) throw bad("no synset starts at this offset");
    const std::size_t n = std::strtoul(std::string(tok[3]).c_str(), nullptr, 16);
    if (tok.size() < 4 + 2 * n) throw bad("fewer lemmas than declared");
    for (std::size_t k = 0; k < n; ++k) {
      std::string_view name = tok[4 + 2 * k];
      // nltk: re.match(r"(.*?)(\(.*\))?$") drops a trailing syntactic marker such as "(a)" or "(ip)".
      if (!name.empty() && name.back() == ')')
        if (const auto paren = name.find('('); paren != std::string_view::npos) name = name.substr(0, paren);
      out.emplace_back(name);
    }
  }

  std::filesystem::path dir_;
  std::unordered_map<std::string, std::array<std::vector<std::uint64_t>, 4>> index_;
  std::array<std::unordered_map<std::string, std::vector<std::string>>, 4> exceptions_;
  std::array<std::filesystem::path, 4> data_files_;
  std::array<std::string, 4> data_;
};

}  // namespace ecgbench::eval
