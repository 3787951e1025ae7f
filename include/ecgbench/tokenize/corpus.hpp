// ECG-Byte corpora: symbol strings read from a text file (one ECG per line) or from a preprocessed
// segment folder (optionally restricted to a sample list of segment ids), encoded in parallel; the
// ids-file format (one line of space-separated ids per ECG) and token statistics.
#pragma once

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"
#include "ecgbench/core/parallel.hpp"
#include "ecgbench/data/preprocess.hpp"
#include "ecgbench/tokenize/ecg_byte_tokenizer.hpp"
#include "ecgbench/tokenize/ecg_symbols.hpp"

namespace ecgbench::tokenize {

struct SymbolCorpus {
  std::vector<std::string> symbols;
  std::vector<float> min, max;                // per ECG, when it came from segments
  std::vector<std::string> ids;               // segment ids, when it came from segments
  std::vector<std::vector<float>> originals;  // the signals, when asked for (reconstruction error)
};

/// One ECG symbol string per line (empty lines skipped, CRLF accepted).
inline SymbolCorpus read_symbols_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error({path.string(), {}, {}, {}}, "cannot open symbols file");
  SymbolCorpus c;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) c.symbols.push_back(std::move(line));
  }
  return c;
}

/// Symbolises the segments of a preprocessed folder (all, or those `sample_list` names, in index order).
inline SymbolCorpus read_segment_symbols(const std::filesystem::path& dir, const std::filesystem::path& sample_list = {}, unsigned threads = 0,
                                         bool keep_originals = false) {
  auto entries = data::read_segment_index(dir / "index.jsonl");
  if (!sample_list.empty()) {
    std::ifstream in(sample_list);
    if (!in) throw Error({sample_list.string(), {}, {}, {}}, "cannot open sample list");
    std::unordered_set<std::string> wanted;
    std::string id;
    while (std::getline(in, id)) {
      if (!id.empty() && id.back() == '\r') id.pop_back();
      if (!id.empty()) wanted.insert(id);
    }
    std::vector<data::SegmentEntry> kept;
    for (auto& e : entries)
      if (wanted.erase(e.id)) kept.push_back(std::move(e));
    if (!wanted.empty())
      throw Error({sample_list.string(), {}, {}, {}}, std::to_string(wanted.size()) + " ids are not in the index (e.g. '" + *wanted.begin() + "')");
    entries = std::move(kept);
  }
  SymbolCorpus c;
  c.symbols.resize(entries.size());
  c.min.resize(entries.size());
  c.max.resize(entries.size());
  if (keep_originals) c.originals.resize(entries.size());
  for (const auto& e : entries) c.ids.push_back(e.id);
  data::SegmentStore store(dir);
  for (const auto& e : entries) (void)store.segment(e);  // map every shard before going parallel
  parallel_for(entries.size(), threads, [&](std::size_t i) {
    const auto seg = store.segment(entries[i]);
    auto s = symbolize(seg);
    c.symbols[i] = std::move(s.symbols);
    c.min[i] = s.min;
    c.max[i] = s.max;
    if (keep_originals) c.originals[i].assign(seg.begin(), seg.end());
  });
  return c;
}

/// Encodes every ECG (symbols checked first, so an error names the ECG).
inline std::vector<std::vector<TokenId>> encode_corpus(const EcgByteTokenizer& t, const SymbolCorpus& c, EncodeMode mode, unsigned threads = 0) {
  std::vector<std::vector<TokenId>> out(c.symbols.size());
  for (std::size_t i = 0; i < c.symbols.size(); ++i) t.check_symbols(c.symbols[i], "ECG " + std::to_string(i + 1));
  parallel_for(c.symbols.size(), threads, [&](std::size_t i) { out[i] = t.encode(c.symbols[i], mode); }, 4);
  return out;
}

/// Parses an ids file; every id must lie below `vocab_size`. Errors name the file and line.
inline std::vector<std::vector<TokenId>> parse_ids(std::string_view text, std::size_t vocab_size, const std::string& file) {
  std::vector<std::vector<TokenId>> out;
  std::size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<TokenId> ids;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && line[i] == ' ') ++i;
      if (i >= line.size()) break;
      std::size_t end = i;
      while (end < line.size() && line[end] != ' ') ++end;
      TokenId v = 0;
      const auto [p, ec] = std::from_chars(line.data() + i, line.data() + end, v);
      if (ec != std::errc() || p != line.data() + end) throw Error({file, line_no, {}, {}}, "invalid id '" + std::string(line.substr(i, end - i)) + "'");
      if (v >= vocab_size)
        throw Error({file, line_no, {}, {}}, "id " + std::to_string(v) + " is outside the vocabulary (" + std::to_string(vocab_size) + ")");
      ids.push_back(v);
      i = end;
    }
    out.push_back(std::move(ids));
  }
  return out;
}

inline std::vector<std::vector<TokenId>> read_ids_file(const std::filesystem::path& path, std::size_t vocab_size) {
  if (!std::filesystem::exists(path)) throw Error({path.string(), {}, {}, {}}, "cannot open ids file");
  return parse_ids(read_file(path), vocab_size, path.string());
}

/// Writes one line of space-separated ids per ECG, atomically, formatted in one buffer.
inline void write_ids_file(const std::filesystem::path& path, const std::vector<std::vector<TokenId>>& ids) {
  std::string text;
  std::size_t total = 0;
  for (const auto& v : ids) total += v.size();
  text.reserve(total * 5 + ids.size());
  char buf[16];
  for (const auto& v : ids) {
    for (std::size_t k = 0; k < v.size(); ++k) {
      if (k) text += ' ';
      const auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v[k]);
      text.append(buf, p);
    }
    text += '\n';
  }
  write_file_atomically(path, text);
}

struct TokenStats {
  std::size_t ecgs = 0, symbols = 0, tokens = 0, vocab_used = 0, vocab_size = 0;
  std::size_t min = 0, median = 0, p95 = 0, max = 0;  ///< tokens per ECG (nearest-rank below)
  double compression = 0, mean = 0;
};

inline TokenStats token_stats(const SymbolCorpus& c, const std::vector<std::vector<TokenId>>& ids, std::size_t vocab_size) {
  if (c.symbols.size() != ids.size()) throw Error("token_stats: " + std::to_string(c.symbols.size()) + " ECGs but " + std::to_string(ids.size()) + " id lists");
  TokenStats s;
  s.ecgs = ids.size();
  s.vocab_size = vocab_size;
  std::vector<std::size_t> lengths;
  std::vector<char> used(vocab_size, 0);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    s.symbols += c.symbols[i].size();
    s.tokens += ids[i].size();
    lengths.push_back(ids[i].size());
    for (auto id : ids[i])
      if (id < vocab_size) used[id] = 1;
  }
  std::sort(lengths.begin(), lengths.end());
  for (char u : used) s.vocab_used += u;
  auto pct = [&](double p) { return lengths.empty() ? std::size_t{0} : lengths[static_cast<std::size_t>(p * static_cast<double>(lengths.size() - 1))]; };
  s.min = pct(0), s.median = pct(0.5), s.p95 = pct(0.95), s.max = pct(1);
  s.compression = s.tokens ? static_cast<double>(s.symbols) / static_cast<double>(s.tokens) : 0.0;
  s.mean = s.ecgs ? static_cast<double>(s.tokens) / static_cast<double>(s.ecgs) : 0.0;
  return s;
}

struct VerifyResult {
  std::size_t ecgs = 0, failures = 0;
  double max_reconstruction_error = 0;  ///< dequantised symbols vs the signal (segments only)
};

/// Round trip of every ECG and, when the corpus kept its signals, the worst reconstruction error.
inline VerifyResult verify_corpus(const EcgByteTokenizer& t, const SymbolCorpus& c, const std::vector<std::vector<TokenId>>& ids) {
  VerifyResult r;
  r.ecgs = ids.size();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (t.decode(ids[i]) != c.symbols[i]) ++r.failures;
    if (!c.originals.empty()) {
      const auto rec = desymbolize(c.symbols[i], c.min[i], c.max[i]);
      for (std::size_t k = 0; k < rec.size(); ++k)
        r.max_reconstruction_error = std::max(r.max_reconstruction_error, static_cast<double>(std::abs(rec[k] - c.originals[i][k])));
    }
  }
  return r;
}

}  // namespace ecgbench::tokenize
