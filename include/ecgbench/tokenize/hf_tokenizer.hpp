// Hugging Face text tokenizers without Python: `tokenizer.json` (byte-level BPE: GPT-2, Llama 3,
// Qwen 2.5, RoBERTa), GPT-2's `vocab.json` + `merges.txt`, and SentencePiece BPE `tokenizer.model`
// (Llama 2, Gemma) with our own reader (sentencepiece_bpe.hpp). `tokenizer_config.json` and
// `special_tokens_map.json` supply BOS/EOS/PAD and whether BOS/EOS are added.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/core/parallel.hpp"
#include "ecgbench/tokenize/added_tokens.hpp"
#include "ecgbench/tokenize/byte_level_bpe.hpp"
#include "ecgbench/tokenize/sentencepiece_bpe.hpp"
#include "ecgbench/tokenize/split_regex.hpp"
#include "ecgbench/tokenize/text_tokenizer_concept.hpp"
#include "ecgbench/tokenize/utf8.hpp"
#include "ecgbench/tokenize/wordpiece.hpp"

namespace ecgbench::tokenize {

/// A loaded text tokenizer. Copies share the (immutable) model; encode/decode are thread-safe.
class HfTokenizer {
 public:
  enum class Kind { byte_level_bpe, sentencepiece, wordpiece };  ///< the order of Model's alternatives

  // --- loading ------------------------------------------------------------------------------------

  /// Loads a model folder: tokenizer.json, else vocab.json + merges.txt, else tokenizer.model; then
  /// tokenizer_config.json / special_tokens_map.json when present.
  static HfTokenizer from_directory(const std::filesystem::path& dir) {
    HfTokenizer t;
    if (std::filesystem::exists(dir / "tokenizer.json")) t = from_tokenizer_json(dir / "tokenizer.json");
    else if (std::filesystem::exists(dir / "vocab.json") && std::filesystem::exists(dir / "merges.txt"))
      t = from_gpt2_files(dir / "vocab.json", dir / "merges.txt");
    else if (std::filesystem::exists(dir / "tokenizer.model")) t = from_sentencepiece(dir / "tokenizer.model");
    else if (std::filesystem::exists(dir / "vocab.txt")) {
      bool lower = true;  // BertTokenizer's default
      if (std::filesystem::exists(dir / "tokenizer_config.json")) {
        const Json c = read_json(dir / "tokenizer_config.json");
        if (c.is_object() && c.contains("do_lower_case") && c["do_lower_case"].is_boolean()) lower = c["do_lower_case"].get<bool>();
      }
      t = from_bert_vocab(dir / "vocab.txt", lower);
    } else
      throw Error({dir.string(), {}, {}, {}},
                  "no tokenizer found (expected tokenizer.json, vocab.json + merges.txt, tokenizer.model or vocab.txt)");
    if (std::filesystem::exists(dir / "special_tokens_map.json")) t.apply_config(dir / "special_tokens_map.json");
    if (std::filesystem::exists(dir / "tokenizer_config.json")) t.apply_config(dir / "tokenizer_config.json");
    return t;
  }

  /// Hugging Face `tokenizers` JSON with a byte-level BPE model.
  static HfTokenizer from_tokenizer_json(const std::filesystem::path& path) {
    const std::string file = path.string();
    const Json j = read_json(path);
    return with_json_errors(file, [&] { return from_tokenizer_json_value(j, file); });
  }

  /// Reads BOS/EOS/PAD/UNK names and add_bos_token/add_eos_token from tokenizer_config.json or
  /// special_tokens_map.json. A named token that the tokenizer does not know is an error.
  void apply_config(const std::filesystem::path& path) {
    const Json c = read_json(path);
    with_json_errors(path.string(), [&] { apply_config_value(c, path.string()); });
  }

 private:
  static HfTokenizer from_tokenizer_json_value(const Json& j, const std::string& file) {
    HfTokenizer t;
    t.source_ = file;
    if (!j.is_object() || !j.contains("model") || !j["model"].is_object()) throw Error({file, {}, {}, {}}, "missing 'model' object");
    const Json& m = j["model"];
    const std::string type = m.value("type", std::string("BPE"));
    if (type == "WordPiece") return wordpiece_from_json(j, file);
    if (type != "BPE")
      throw Error({file, {}, {}, "model.type"}, "unsupported model type '" + type + "' (supported: byte-level BPE, WordPiece; "
                  "for SentencePiece models load tokenizer.model)");
    if (m.value("byte_fallback", false) || (m.contains("dropout") && !m["dropout"].is_null()))
      throw Error({file, {}, {}, "model"}, "BPE with byte_fallback or dropout is not supported (load tokenizer.model for SentencePiece-style BPE)");
    if (!m.contains("vocab") || !m["vocab"].is_object()) throw Error({file, {}, {}, "model.vocab"}, "missing vocabulary");
    if (!m.contains("merges") || !m["merges"].is_array()) throw Error({file, {}, {}, "model.merges"}, "missing merges");
    std::vector<std::pair<std::string, std::int32_t>> vocab;
    vocab.reserve(m["vocab"].size());
    for (const auto& [k, v] : m["vocab"].items()) {
      vocab.emplace_back(k, json_as<std::int32_t>(v, file, "model.vocab['" + k + "']"));
    }
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(m["merges"].size());
    for (std::size_t i = 0; i < m["merges"].size(); ++i) {
      const Json& e = m["merges"][i];
      if (e.is_string()) {
        const std::string s = e.get<std::string>();
        const auto sp = s.find(' ');
        if (sp == std::string::npos || sp == 0 || sp + 1 >= s.size() || s.find(' ', sp + 1) != std::string::npos)
          throw Error({file, {}, {}, "model.merges[" + std::to_string(i) + "]"}, "merge '" + s + "' is not two tokens");
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
      } else {
        throw Error({file, {}, {}, "model.merges[" + std::to_string(i) + "]"}, "merge is neither \"a b\" nor [a, b]");
      }
    }
    const auto bpe = std::make_shared<const ByteLevelBpe>(vocab, merges, m.value("ignore_merges", false), file);
    t.model_ = bpe;
    if (m.contains("unk_token") && m["unk_token"].is_string())
      if (const auto raw = byte_level_to_bytes(m["unk_token"].get<std::string>()))
        if (const auto id = bpe->find_bytes(*raw)) t.unk_ = id;
    t.parse_normalizer(j.value("normalizer", Json()), file);
    bool byte_level_seen = false;
    t.parse_pre_tokenizer(j.value("pre_tokenizer", Json()), file, byte_level_seen);
    const Json dec = j.value("decoder", Json());
    if (!byte_level_seen && !(dec.is_object() && dec.value("type", "") == "ByteLevel"))
      throw Error({file, {}, {}, "pre_tokenizer"}, "not a byte-level BPE tokenizer (no ByteLevel pre-tokenizer or decoder)");
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
      for (std::size_t i = 0; i < j["added_tokens"].size(); ++i) {
        const Json& a = j["added_tokens"][i];
        const std::string entry = "added_tokens[" + std::to_string(i) + "]";
        AddedToken tok;
        tok.content = json_get<std::string>(a, "content", file, entry);
        tok.id = json_get<std::int32_t>(a, "id", file, entry);
        tok.special = a.value("special", false);
        tok.lstrip = a.value("lstrip", false);
        tok.rstrip = a.value("rstrip", false);
        tok.single_word = a.value("single_word", false);
        if (tok.id < 0) throw Error({file, {}, {}, entry}, "negative token id");
        t.add_token_entry(std::move(tok));
      }
    }
    t.parse_post_processor(j.value("post_processor", Json()), file);
    t.added_.prepare();
    return t;
  }

 public:
  /// BERT's vocab.txt (one token per line, id = line index) with BertTokenizer's defaults:
  /// [CLS] text [SEP], the five special tokens, `do_lower_case` (strips accents too).
  static HfTokenizer from_bert_vocab(const std::filesystem::path& path, bool do_lower_case = true) {
    const std::string text = read_file(path);
    std::vector<std::pair<std::string, std::int32_t>> vocab;
    std::size_t b = 0;
    while (b < text.size()) {
      std::size_t e = text.find('\n', b);
      if (e == std::string::npos) e = text.size();
      std::string tok = text.substr(b, e - b);
      if (!tok.empty() && tok.back() == '\r') tok.pop_back();
      vocab.emplace_back(tok, static_cast<std::int32_t>(vocab.size()));
      b = e + 1;
    }
    HfTokenizer t;
    t.source_ = path.string();
    BertNormalizerOptions norm;
    norm.lowercase = do_lower_case;
    const auto wp = std::make_shared<const WordPiece>(vocab, "[UNK]", "##", 100, norm, path.string());
    t.model_ = wp;
    for (const char* sp : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
      if (auto id = wp->find(sp)) t.add_token_entry({sp, *id, true});
    t.unk_ = wp->unk_id();
    t.pad_ = wp->find("[PAD]");
    const auto cls = wp->find("[CLS]"), sep = wp->find("[SEP]");
    if (!cls || !sep) throw Error({path.string(), {}, {}, {}}, "BERT vocabulary lacks [CLS] or [SEP]");
    t.template_prefix_ = {*cls};
    t.template_suffix_ = {*sep};
    t.added_.prepare();
    return t;
  }

  /// GPT-2's original files: vocab.json (token -> id) and merges.txt ("#version" line, "a b" lines).
  /// `<|endoftext|>` becomes the special BOS/EOS/UNK token as in transformers' GPT2Tokenizer.
  static HfTokenizer from_gpt2_files(const std::filesystem::path& vocab_path, const std::filesystem::path& merges_path) {
    return with_json_errors(vocab_path.string(), [&] { return from_gpt2_files_unchecked(vocab_path, merges_path); });
  }

 private:
  static HfTokenizer from_gpt2_files_unchecked(const std::filesystem::path& vocab_path, const std::filesystem::path& merges_path) {
    const Json v = read_json(vocab_path);
    if (!v.is_object()) throw Error({vocab_path.string(), {}, {}, {}}, "vocab.json is not an object");
    std::vector<std::pair<std::string, std::int32_t>> vocab;
    for (const auto& [k, id] : v.items()) {
      vocab.emplace_back(k, json_as<std::int32_t>(id, vocab_path.string(), "'" + k + "'"));
    }
    std::ifstream in(merges_path);
    if (!in) throw Error({merges_path.string(), {}, {}, {}}, "cannot open merges file");
    std::vector<std::pair<std::string, std::string>> merges;
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || (n == 1 && line.rfind("#version", 0) == 0)) continue;
      const auto sp = line.find(' ');
      if (sp == std::string::npos || sp == 0 || sp + 1 >= line.size() || line.find(' ', sp + 1) != std::string::npos)
        throw Error({merges_path.string(), n, {}, {}}, "merge line is not two tokens separated by one space");
      merges.emplace_back(line.substr(0, sp), line.substr(sp + 1));
    }
    if (merges.empty()) throw Error({merges_path.string(), {}, {}, {}}, "no merges");
    HfTokenizer t;
    t.source_ = vocab_path.string();
    const auto bpe = std::make_shared<const ByteLevelBpe>(vocab, merges, false, vocab_path.string() + " + " + merges_path.string());
    t.model_ = bpe;
    t.splits_.emplace_back(std::string(gpt2_split_pattern));
    if (auto id = bpe->find_bytes("<|endoftext|>")) {
      t.add_token_entry({"<|endoftext|>", *id, true});
      t.bos_ = t.eos_ = t.unk_ = id;
    }
    t.added_.prepare();
    return t;
  }


 public:
  /// A SentencePiece model. Control pieces become special added tokens (so chat templates can
  /// write "<bos>"); BOS is added by default, as Llama and Gemma do.
  static HfTokenizer from_sentencepiece(const std::filesystem::path& path) {
    HfTokenizer t;
    t.source_ = path.string();
    const auto spm = std::make_shared<const SentencePieceBpe>(SentencePieceBpe::load(path));
    t.model_ = spm;
    // User-defined pieces (Gemma's <start_of_turn>) are kept whole by the model itself.
    for (std::size_t id = 0; id < spm->size(); ++id) {
      const auto type = spm->piece(static_cast<std::int32_t>(id)).type;
      if (type == SentencePieceBpe::PieceType::control || type == SentencePieceBpe::PieceType::unknown)
        t.add_token_entry({spm->piece(static_cast<std::int32_t>(id)).text, static_cast<std::int32_t>(id), true});
    }
    t.bos_ = spm->bos_id();
    t.eos_ = spm->eos_id();
    t.unk_ = spm->unk_id();
    t.pad_ = spm->pad_id();
    t.add_bos_ = t.bos_.has_value();
    if (t.add_bos_) t.template_prefix_.push_back(*t.bos_);
    t.added_.prepare();
    return t;
  }

  void apply_config_value(const Json& c, const std::string& file) {
    if (!c.is_object()) throw Error({file, {}, {}, {}}, "not a JSON object");
    auto token_of = [&](const char* key) -> std::optional<std::optional<std::int32_t>> {
      if (!c.contains(key)) return std::nullopt;
      const Json& v = c[key];
      if (v.is_null()) return std::optional<std::int32_t>{};
      std::string content;
      if (v.is_string()) content = v.get<std::string>();
      else if (v.is_object() && v.contains("content") && v["content"].is_string()) content = v["content"].get<std::string>();
      else throw Error({file, {}, {}, key}, "expected a token string or {\"content\": ...}");
      auto id = token_to_id(content);
      if (!id) throw Error({file, {}, {}, key}, "token '" + content + "' is not in the vocabulary");
      if (!added_.find(content)) add_token_entry({content, *id, true});
      return std::optional<std::int32_t>(*id);
    };
    if (c.contains("added_tokens_decoder") && c["added_tokens_decoder"].is_object()) {
      for (const auto& [k, a] : c["added_tokens_decoder"].items()) {
        std::int32_t id = 0;
        try { id = std::stoi(k); } catch (...) { throw Error({file, {}, {}, "added_tokens_decoder['" + k + "']"}, "key is not an id"); }
        if (!a.is_object() || !a.contains("content") || !a["content"].is_string())
          throw Error({file, {}, {}, "added_tokens_decoder['" + k + "']"}, "missing 'content'");
        if (!added_.find(a["content"].get<std::string>()))
          add_token_entry({a["content"].get<std::string>(), id, a.value("special", false), a.value("lstrip", false),
                           a.value("rstrip", false), a.value("single_word", false)});
      }
    }
    if (auto v = token_of("bos_token")) bos_ = *v;
    if (auto v = token_of("eos_token")) eos_ = *v;
    if (auto v = token_of("pad_token")) pad_ = *v;
    if (auto v = token_of("unk_token")) unk_ = *v;
    if (c.contains("add_bos_token") && c["add_bos_token"].is_boolean()) {
      add_bos_ = c["add_bos_token"].get<bool>();
      if (add_bos_ && !bos_) throw Error({file, {}, {}, "add_bos_token"}, "add_bos_token is true but no bos_token is set");
      template_prefix_.clear();  // the config decides; no TemplateProcessing BOS on top
      if (add_bos_) template_prefix_.push_back(*bos_);
    }
    if (c.contains("add_eos_token") && c["add_eos_token"].is_boolean()) {
      add_eos_ = c["add_eos_token"].get<bool>();
      if (add_eos_ && !eos_) throw Error({file, {}, {}, "add_eos_token"}, "add_eos_token is true but no eos_token is set");
      template_suffix_.clear();
      if (add_eos_) template_suffix_.push_back(*eos_);
    }
    if (c.contains("chat_template") && c["chat_template"].is_string()) chat_template_ = c["chat_template"].get<std::string>();
    if (c.contains("model_max_length") && c["model_max_length"].is_number())
      model_max_length_ = c["model_max_length"].get<double>() < 1e12 && c["model_max_length"].get<double>() >= 0
                              ? static_cast<std::size_t>(c["model_max_length"].get<double>()) : 0;
    added_.prepare();
  }

  // --- run-time additions -------------------------------------------------------------------------

  /// Adds tokens that are not yet known; each new one gets the next id after the current vocabulary
  /// (the model's embedding must be resized to `vocab_size()`). Returns how many were added.
  std::size_t add_tokens(const std::vector<std::string>& contents, bool special = false) {
    std::size_t added = 0;
    for (const auto& c : contents) {
      if (c.empty()) throw Error("cannot add an empty token");
      require_utf8(c, "added token");
      if (token_to_id(c)) continue;
      add_token_entry({c, static_cast<std::int32_t>(vocab_size()), special});
      ++added;
    }
    added_.prepare();
    return added;
  }

  // --- encoding / decoding ------------------------------------------------------------------------

  /// Text -> ids. `add_special_tokens` adds BOS/EOS as the tokenizer's post-processor or config says;
  /// `parse_special = false` treats special-token text as plain text (HF split_special_tokens).
  [[nodiscard]] std::vector<std::int32_t> encode(std::string_view text, bool add_special_tokens = true,
                                                 bool parse_special = true) const {
    require_utf8(text, "text to encode");
    std::vector<std::int32_t> ids;
    ids.reserve(text.size() / 3 + 4);
    if (add_special_tokens) ids.insert(ids.end(), template_prefix_.begin(), template_prefix_.end());
    for (const TextPiece& p : added_.split(text, parse_special)) {
      if (p.token) ids.push_back(p.token->id);
      else encode_plain(p.text, ids);
    }
    if (add_special_tokens) ids.insert(ids.end(), template_suffix_.begin(), template_suffix_.end());
    return ids;
  }

  /// Encodes many texts on `threads` threads (0 = hardware concurrency).
  [[nodiscard]] std::vector<std::vector<std::int32_t>> encode_batch(std::span<const std::string> texts,
                                                                    bool add_special_tokens = true, unsigned threads = 0) const {
    std::vector<std::vector<std::int32_t>> out(texts.size());
    parallel_for(texts.size(), threads, [&](std::size_t i) { out[i] = encode(texts[i], add_special_tokens); });
    return out;
  }

  /// Ids -> text. Invalid UTF-8 from partial byte tokens becomes U+FFFD, as in Hugging Face.
  [[nodiscard]] std::string decode(std::span<const std::int32_t> ids, bool skip_special_tokens = false) const {
    std::string out;
    const std::size_t vocab = vocab_size();
    for (std::int32_t id : ids)
      if (id < 0 || static_cast<std::size_t>(id) >= vocab)
        throw Error({source_, {}, {}, "id " + std::to_string(id)}, "token id outside the vocabulary of " + std::to_string(vocab));
    // Model ids between added tokens decode as runs (SentencePiece's leading-space rule, WordPiece's
    // "##" joins); byte-level BPE runs are the concatenated token bytes. WordPiece separates words.
    const bool spaced = kind() == Kind::wordpiece;
    std::size_t i = 0;
    while (i < ids.size()) {
      if (const AddedToken* a = added_by_id(ids[i])) {
        if (!(skip_special_tokens && a->special)) {
          if (spaced && !out.empty()) out += ' ';
          out += a->content;
        }
        ++i;
        continue;
      }
      std::size_t end = i;
      while (end < ids.size() && !added_by_id(ids[end])) ++end;
      const std::span<const std::int32_t> run = ids.subspan(i, end - i);
      if (spaced && !out.empty()) out += ' ';
      std::visit(Overloaded{[](std::monostate) {},
                            [&](const std::shared_ptr<const ByteLevelBpe>& m) { for (auto id : run) out += m->token_bytes(id); },
                            [&](const auto& m) { out += m->decode(std::vector<std::int32_t>(run.begin(), run.end())); }},
                 model_);
      i = end;
    }
    return utf8_lossy(out);
  }

  // --- vocabulary ---------------------------------------------------------------------------------

  [[nodiscard]] std::optional<std::int32_t> token_to_id(std::string_view token) const {
    if (const AddedToken* a = added_.find(token)) return a->id;
    return std::visit(Overloaded{[](std::monostate) -> std::optional<std::int32_t> { return std::nullopt; },
                                 [&](const std::shared_ptr<const ByteLevelBpe>& m) -> std::optional<std::int32_t> {
                                   if (auto raw = byte_level_to_bytes(token)) return m->find_bytes(*raw);
                                   return std::nullopt;
                                 },
                                 [&](const auto& m) -> std::optional<std::int32_t> { return m->find(token); }},
                      model_);
  }
  /// The vocabulary spelling of `id` (byte-level form for BPE models, "▁" pieces for SentencePiece).
  [[nodiscard]] std::string id_to_token(std::int32_t id) const {
    if (const AddedToken* a = added_by_id(id)) return a->content;
    if (id < 0 || static_cast<std::size_t>(id) >= model_size()) throw Error("token id " + std::to_string(id) + " outside the vocabulary");
    return std::visit(Overloaded{[](std::monostate) { return std::string(); },
                                 [&](const std::shared_ptr<const ByteLevelBpe>& m) { return bytes_to_byte_level(m->token_bytes(id)); },
                                 [&](const std::shared_ptr<const SentencePieceBpe>& m) { return m->piece(id).text; },
                                 [&](const std::shared_ptr<const WordPiece>& m) { return m->token(id); }},
                      model_);
  }
  /// Model vocabulary plus added tokens (the embedding rows a model needs).
  [[nodiscard]] std::size_t vocab_size() const {
    // added_ids_ is sorted by id: its last entry is the highest added id.
    const std::size_t n = model_size();
    return added_ids_.empty() ? n : std::max(n, static_cast<std::size_t>(added_ids_.back().first) + 1);
  }
  [[nodiscard]] std::optional<std::int32_t> bos_id() const noexcept { return bos_; }
  [[nodiscard]] std::optional<std::int32_t> eos_id() const noexcept { return eos_; }
  [[nodiscard]] std::optional<std::int32_t> pad_id() const noexcept { return pad_; }
  [[nodiscard]] std::optional<std::int32_t> unk_id() const noexcept { return unk_; }
  void set_pad_id(std::optional<std::int32_t> id) { pad_ = id; }
  [[nodiscard]] Kind kind() const noexcept { return model_.index() <= 1 ? Kind::byte_level_bpe : static_cast<Kind>(model_.index() - 1); }
  [[nodiscard]] const std::string& chat_template() const noexcept { return chat_template_; }
  [[nodiscard]] std::size_t model_max_length() const noexcept { return model_max_length_; }
  [[nodiscard]] const std::vector<AddedToken>& added_tokens() const noexcept { return added_.tokens(); }
  [[nodiscard]] bool is_special(std::int32_t id) const { const AddedToken* a = added_by_id(id); return a && a->special; }

 private:
  [[nodiscard]] std::size_t model_size() const {
    return std::visit(Overloaded{[](std::monostate) { return std::size_t{0}; }, [](const auto& m) { return static_cast<std::size_t>(m->size()); }}, model_);
  }
  [[nodiscard]] const AddedToken* added_by_id(std::int32_t id) const {
    auto it = std::lower_bound(added_ids_.begin(), added_ids_.end(), std::pair<std::int32_t, std::size_t>(id, 0));
    return it != added_ids_.end() && it->first == id ? &added_.tokens()[it->second] : nullptr;
  }
  void add_token_entry(AddedToken t) {
    const std::int32_t id = t.id;
    const bool replaced = added_.find(t.content) != nullptr;
    added_.add(std::move(t));
    if (replaced) {  // rebuild the id index (rare: a config re-declares a token)
      added_ids_.clear();
      for (std::size_t i = 0; i < added_.tokens().size(); ++i) added_ids_.emplace_back(added_.tokens()[i].id, i);
      std::sort(added_ids_.begin(), added_ids_.end());
      return;
    }
    const std::pair<std::int32_t, std::size_t> entry(id, added_.tokens().size() - 1);
    added_ids_.insert(std::upper_bound(added_ids_.begin(), added_ids_.end(), entry), entry);
  }

  static HfTokenizer wordpiece_from_json(const Json& j, const std::string& file) {
    const Json& m = j["model"];
    if (!m.contains("vocab") || !m["vocab"].is_object()) throw Error({file, {}, {}, "model.vocab"}, "missing vocabulary");
    std::vector<std::pair<std::string, std::int32_t>> vocab;
    for (const auto& [k, v] : m["vocab"].items()) {
      vocab.emplace_back(k, json_as<std::int32_t>(v, file, "model.vocab['" + k + "']"));
    }
    BertNormalizerOptions norm;
    norm.clean_text = norm.handle_chinese_chars = norm.lowercase = false;
    const Json n = j.value("normalizer", Json());
    if (n.is_object()) {
      if (n.value("type", "") != "BertNormalizer") throw Error({file, {}, {}, "normalizer"}, "WordPiece supports the BertNormalizer only");
      norm.clean_text = n.value("clean_text", true);
      norm.handle_chinese_chars = n.value("handle_chinese_chars", true);
      norm.lowercase = n.value("lowercase", true);
      if (n.contains("strip_accents") && n["strip_accents"].is_boolean()) norm.strip_accents = n["strip_accents"].get<bool>();
    }
    const Json p = j.value("pre_tokenizer", Json());
    if (p.is_object() && p.value("type", "") != "BertPreTokenizer")
      throw Error({file, {}, {}, "pre_tokenizer"}, "WordPiece supports the BertPreTokenizer only");
    HfTokenizer t;
    t.source_ = file;
    const auto wp = std::make_shared<const WordPiece>(vocab, m.value("unk_token", std::string("[UNK]")), m.value("continuing_subword_prefix", std::string("##")),
                                              m.contains("max_input_chars_per_word") ? json_as<std::size_t>(m["max_input_chars_per_word"], file, "max_input_chars_per_word") : 100,
                                              norm, file);
    t.model_ = wp;
    t.unk_ = wp->unk_id();
    if (j.contains("added_tokens") && j["added_tokens"].is_array())
      for (const auto& a : j["added_tokens"])
        t.add_token_entry({json_get<std::string>(a, "content", file, "added_tokens"), json_get<std::int32_t>(a, "id", file, "added_tokens"),
                           a.value("special", false), a.value("lstrip", false), a.value("rstrip", false), a.value("single_word", false)});
    t.parse_post_processor(j.value("post_processor", Json()), file);
    t.added_.prepare();
    return t;
  }

  void encode_plain(std::string_view text, std::vector<std::int32_t>& ids) const {
    if (text.empty()) return;
    std::visit(Overloaded{[](std::monostate) { throw Error("the tokenizer has no model"); },
                          [&](const std::shared_ptr<const WordPiece>& m) { m->encode(text, ids); },  // its own BERT normaliser
                          [&](const std::shared_ptr<const SentencePieceBpe>& m) {
                            m->encode(nfc_ ? std::string_view(nfc(text)) : text, ids);
                          },
                          [&](const std::shared_ptr<const ByteLevelBpe>& m) {
                            std::string normalized = nfc_ ? nfc(text) : std::string(text);
                            if (add_prefix_space_ && !normalized.empty() && normalized.front() != ' ') normalized.insert(normalized.begin(), ' ');
                            split_level(*m, normalized, 0, ids);
                          }},
               model_);
  }
  void split_level(const ByteLevelBpe& bpe, std::string_view text, std::size_t level, std::vector<std::int32_t>& ids) const {
    if (level == splits_.size()) {
      bpe.encode_word(text, ids, unk_ ? *unk_ : -1);
      return;
    }
    splits_[level].split(text, [&](std::string_view piece) { split_level(bpe, piece, level + 1, ids); });
  }

  void parse_normalizer(const Json& n, const std::string& file) {
    if (n.is_null()) return;
    const std::string type = n.value("type", "");
    if (type == "NFC") nfc_ = true;
    else if (type == "Sequence" && n.contains("normalizers")) for (const auto& x : n["normalizers"]) parse_normalizer(x, file);
    else throw Error({file, {}, {}, "normalizer"}, "unsupported normalizer '" + type + "' (supported: NFC, Sequence)");
  }
  void parse_pre_tokenizer(const Json& p, const std::string& file, bool& byte_level_seen) {
    if (p.is_null()) return;
    const std::string type = p.value("type", "");
    if (type == "Sequence" && p.contains("pretokenizers")) {
      for (const auto& x : p["pretokenizers"]) parse_pre_tokenizer(x, file, byte_level_seen);
    } else if (type == "ByteLevel") {
      byte_level_seen = true;
      add_prefix_space_ = p.value("add_prefix_space", false);
      if (p.value("use_regex", true)) splits_.emplace_back(std::string(gpt2_split_pattern), file);
    } else if (type == "Split") {
      if (p.value("behavior", "Isolated") != "Isolated" || p.value("invert", false))
        throw Error({file, {}, {}, "pre_tokenizer.Split"}, "only behavior 'Isolated' without invert is supported");
      const Json& pat = p.value("pattern", Json());
      if (pat.contains("Regex")) splits_.emplace_back(pat["Regex"].get<std::string>(), file);
      else if (pat.contains("String")) {
        std::string quoted = "\\Q" + pat["String"].get<std::string>() + "\\E";
        splits_.emplace_back(quoted, file);
      } else throw Error({file, {}, {}, "pre_tokenizer.Split.pattern"}, "missing Regex or String");
    } else {
      throw Error({file, {}, {}, "pre_tokenizer"}, "unsupported pre-tokenizer '" + type + "' (supported: ByteLevel, Split, Sequence)");
    }
  }
  void parse_post_processor(const Json& p, const std::string& file) {
    if (p.is_null()) return;
    const std::string type = p.value("type", "");
    auto id_of = [&](const std::string& content, const std::string& ctx) {
      auto id = token_to_id(content);
      if (!id) throw Error({file, {}, {}, ctx}, "post-processor token '" + content + "' is not in the vocabulary");
      return *id;
    };
    if (type == "Sequence" && p.contains("processors")) {
      for (const auto& x : p["processors"]) parse_post_processor(x, file);
    } else if (type == "ByteLevel") {
      // offsets only
    } else if (type == "TemplateProcessing") {
      bool after = false;
      for (const auto& piece : p.value("single", Json::array())) {
        if (piece.contains("Sequence")) after = true;
        else if (piece.contains("SpecialToken")) {
          const std::string name = piece["SpecialToken"].value("id", "");
          std::vector<std::int32_t> ids;
          if (p.contains("special_tokens") && p["special_tokens"].contains(name))
            ids = p["special_tokens"][name].contains("ids") ? json_as<std::vector<std::int32_t>>(p["special_tokens"][name]["ids"], file, "post_processor.special_tokens")
                                                           : std::vector<std::int32_t>{};
          else ids.push_back(id_of(name, "post_processor"));
          auto& dst = after ? template_suffix_ : template_prefix_;
          dst.insert(dst.end(), ids.begin(), ids.end());
        }
      }
    } else if (type == "RobertaProcessing" || type == "BertProcessing") {
      template_prefix_.push_back(json_as<std::int32_t>(p.at("cls").at(1), file, "post_processor.cls"));
      template_suffix_.push_back(json_as<std::int32_t>(p.at("sep").at(1), file, "post_processor.sep"));
    } else {
      throw Error({file, {}, {}, "post_processor"}, "unsupported post-processor '" + type + "'");
    }
  }

  template <class... F>
  struct Overloaded : F... {
    using F::operator()...;
  };
  template <class... F>
  Overloaded(F...) -> Overloaded<F...>;
  /// The model, shared (immutable) between copies; monostate only in a default-constructed tokenizer.
  using Model = std::variant<std::monostate, std::shared_ptr<const ByteLevelBpe>, std::shared_ptr<const SentencePieceBpe>, std::shared_ptr<const WordPiece>>;

  std::string source_;
  Model model_;
  std::vector<SplitRegex> splits_;
  bool nfc_ = false, add_prefix_space_ = false;
  AddedTokenSet added_;
  std::vector<std::pair<std::int32_t, std::size_t>> added_ids_;  ///< sorted (id, index in added_)
  std::vector<std::int32_t> template_prefix_, template_suffix_;
  std::optional<std::int32_t> bos_, eos_, pad_, unk_;
  bool add_bos_ = false, add_eos_ = false;
  std::string chat_template_;
  std::size_t model_max_length_ = 0;
};

static_assert(TextTokenizer<HfTokenizer>);

}  // namespace ecgbench::tokenize
