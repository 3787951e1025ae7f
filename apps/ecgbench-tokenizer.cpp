// ecgbench-tokenizer: ECG-Byte training, encoding, decoding, upstream import, verification and
// statistics. Input is either symbol strings (one ECG per line) or a preprocessed segment folder
// (index.jsonl + shards, optionally restricted to a sample list of segment ids).
#include <CLI/CLI.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <unordered_set>

#include "ecgbench/core/parallel.hpp"
#include "ecgbench/data/preprocess.hpp"
#include "ecgbench/tokenize/tokenize.hpp"

using namespace ecgbench;
using namespace ecgbench::tokenize;
namespace fs = std::filesystem;

namespace {

bool detail_parse(const std::string& s, TokenId& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

struct Corpus {
  std::vector<std::string> symbols;
  std::vector<float> min, max;      // per ECG, when it came from segments
  std::vector<std::string> ids;     // segment ids, when it came from segments
  std::vector<std::vector<float>> originals;  // kept for `verify`
};

Corpus read_symbols_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error({path, {}, {}, {}}, "cannot open symbols file");
  Corpus c;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) c.symbols.push_back(std::move(line));
  }
  return c;
}

Corpus read_segments(const std::string& dir, const std::string& sample_list, unsigned threads, bool keep_originals) {
  auto entries = data::read_segment_index(fs::path(dir) / "index.jsonl");
  if (!sample_list.empty()) {
    std::ifstream in(sample_list);
    if (!in) throw Error({sample_list, {}, {}, {}}, "cannot open sample list");
    std::unordered_set<std::string> wanted;
    std::string id;
    while (std::getline(in, id))
      if (!id.empty()) wanted.insert(id);
    std::vector<data::SegmentEntry> kept;
    for (auto& e : entries)
      if (wanted.erase(e.id)) kept.push_back(std::move(e));
    if (!wanted.empty()) throw Error({sample_list, {}, {}, {}}, std::to_string(wanted.size()) + " ids are not in the index (e.g. '" + *wanted.begin() + "')");
    entries = std::move(kept);
  }
  Corpus c;
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

std::vector<std::vector<TokenId>> encode_all(const EcgByteTokenizer& t, const Corpus& c, EncodeMode mode, unsigned threads) {
  std::vector<std::vector<TokenId>> out(c.symbols.size());
  for (std::size_t i = 0; i < c.symbols.size(); ++i) t.check_symbols(c.symbols[i], "ECG " + std::to_string(i + 1));
  parallel_for(c.symbols.size(), threads, [&](std::size_t i) { out[i] = t.encode(c.symbols[i], mode); }, 4);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ECG-Byte: symbolic ECG + byte-pair encoding"};
  app.require_subcommand(1);
  std::string symbols, segments, sample, tokenizer, out, mode = "longest-match", pkl, ids_file;
  std::size_t merges = 3500;
  unsigned threads = 0;
  bool concat = false, quiet = false;
  auto input_options = [&](CLI::App* c) {
    c->add_option("--symbols", symbols, "file with one ECG symbol string per line");
    c->add_option("--segments", segments, "preprocessed folder (index.jsonl + segments-*.npy)");
    c->add_option("--sample", sample, "only these segment ids (one per line)");
    c->add_option("--threads", threads, "threads (0 = all cores)")->capture_default_str();
  };
  auto* train = app.add_subcommand("train", "learn merges");
  input_options(train);
  train->add_option("--merges", merges, "number of merges")->capture_default_str();
  train->add_flag("--concat", concat, "concatenate all ECGs into one sequence (upstream's behaviour: pairs cross ECGs)");
  train->add_option("--out", out, "tokenizer JSON")->required();
  train->add_flag("--quiet", quiet, "no progress");
  auto* encode = app.add_subcommand("encode", "symbols -> ids (one line of ids per ECG)");
  input_options(encode);
  encode->add_option("--tokenizer", tokenizer, "tokenizer JSON")->required();
  encode->add_option("--mode", mode, "bpe | longest-match (upstream's encoder)")->capture_default_str();
  encode->add_option("--out", out, "output ids file")->required();
  auto* decode = app.add_subcommand("decode", "ids -> symbols");
  decode->add_option("--tokenizer", tokenizer, "tokenizer JSON")->required();
  decode->add_option("--ids", ids_file, "ids file (one line per ECG)")->required();
  decode->add_option("--out", out, "symbols file")->required();
  auto* import = app.add_subcommand("import", "convert upstream's pickled tokenizer");
  import->add_option("--pkl", pkl, "upstream (vocab, merges) pickle")->required();
  import->add_option("--out", out, "tokenizer JSON")->required();
  auto* verify = app.add_subcommand("verify", "round trip and reconstruction error on segments");
  input_options(verify);
  verify->add_option("--tokenizer", tokenizer, "tokenizer JSON")->required();
  verify->add_option("--mode", mode, "bpe | longest-match")->capture_default_str();
  auto* stats = app.add_subcommand("stats", "compression, token lengths, vocabulary usage");
  input_options(stats);
  stats->add_option("--tokenizer", tokenizer, "tokenizer JSON")->required();
  stats->add_option("--mode", mode, "bpe | longest-match")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    auto load_corpus = [&](bool keep) {
      if (symbols.empty() == segments.empty()) throw Error("give exactly one of --symbols and --segments");
      return symbols.empty() ? read_segments(segments, sample, threads, keep) : read_symbols_file(symbols);
    };
    if (*import) {
      const auto t = EcgByteTokenizer::import_pickle(pkl);
      t.save(out);
      std::printf("imported %zu merges (vocabulary %zu) from %s to %s\n", t.merges().size(), t.vocab_size(), pkl.c_str(), out.c_str());
      return 0;
    }
    if (*decode) {
      const auto t = EcgByteTokenizer::load(tokenizer);
      std::ifstream in(ids_file);
      if (!in) throw Error({ids_file, {}, {}, {}}, "cannot open ids file");
      std::string line, text;
      std::size_t n = 0;
      while (std::getline(in, line)) {
        ++n;
        std::vector<TokenId> ids;
        std::size_t pos = 0;
        while (pos < line.size()) {
          while (pos < line.size() && line[pos] == ' ') ++pos;
          if (pos >= line.size()) break;
          std::size_t end = pos;
          while (end < line.size() && line[end] != ' ' && line[end] != '\r') ++end;
          TokenId v = 0;
          if (!detail_parse(line.substr(pos, end - pos), v)) throw Error({ids_file, n, {}, {}}, "invalid id '" + line.substr(pos, end - pos) + "'");
          if (v >= t.vocab_size()) throw Error({ids_file, n, {}, {}}, "id " + std::to_string(v) + " is outside the vocabulary (" + std::to_string(t.vocab_size()) + ")");
          ids.push_back(v);
          pos = end + 1;
        }
        text += t.decode(ids) + "\n";
      }
      write_file_atomically(out, text);
      return 0;
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (*train) {
      auto c = load_corpus(false);
      std::vector<std::string_view> seqs;
      std::string joined;
      EcgByteTokenizer check;
      for (std::size_t i = 0; i < c.symbols.size(); ++i) check.check_symbols(c.symbols[i], "ECG " + std::to_string(i + 1));
      if (concat) {
        for (const auto& s : c.symbols) joined += s;
        seqs.push_back(joined);
      } else {
        for (const auto& s : c.symbols) seqs.emplace_back(s);
      }
      BpeTrainOptions o;
      o.merges = merges;
      o.progress = quiet ? ProgressStyle::quiet : ProgressStyle::automatic;
      const auto m = train_bpe(seqs, o);
      const EcgByteTokenizer t(std::string(ecg_alphabet), m);
      t.save(out);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::size_t n = 0;
      for (const auto& s : c.symbols) n += s.size();
      std::printf("trained %zu merges on %zu ECGs (%zu symbols) in %.2f s -> %s\n", m.size(), c.symbols.size(), n, secs, out.c_str());
      return 0;
    }
    const auto t = EcgByteTokenizer::load(tokenizer);
    const auto em = parse_encode_mode(mode);
    const auto c = load_corpus(verify->parsed());
    const auto ids = encode_all(t, c, em, threads);
    if (*encode) {
      write_file_atomically(out, [&](std::ostream& o) {
        for (const auto& v : ids) {
          for (std::size_t k = 0; k < v.size(); ++k) o << (k ? " " : "") << v[k];
          o << '\n';
        }
      });
      std::size_t n = 0, m = 0;
      for (std::size_t i = 0; i < ids.size(); ++i) n += c.symbols[i].size(), m += ids[i].size();
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("encoded %zu ECGs: %zu symbols -> %zu tokens (%.2fx) in %.2f s\n", ids.size(), n, m, m ? double(n) / m : 0.0, secs);
      return 0;
    }
    if (*verify) {
      std::size_t failures = 0;
      double worst = 0;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (t.decode(ids[i]) != c.symbols[i]) ++failures;
        if (!c.originals.empty()) {
          const auto rec = desymbolize(c.symbols[i], c.min[i], c.max[i]);
          for (std::size_t k = 0; k < rec.size(); ++k) worst = std::max(worst, static_cast<double>(std::abs(rec[k] - c.originals[i][k])));
        }
      }
      std::printf("round trip: %zu of %zu ECGs decode to their symbols\n", ids.size() - failures, ids.size());
      if (!c.originals.empty()) std::printf("max reconstruction error (dequantised vs signal): %.6g\n", worst);
      return failures == 0 ? 0 : 1;
    }
    // stats
    std::vector<std::size_t> lengths;
    std::vector<std::size_t> usage(t.vocab_size(), 0);
    std::size_t n = 0, m = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      n += c.symbols[i].size();
      m += ids[i].size();
      lengths.push_back(ids[i].size());
      for (auto id : ids[i]) ++usage[id];
    }
    std::sort(lengths.begin(), lengths.end());
    std::size_t used = 0;
    for (std::size_t id = 0; id < usage.size(); ++id) used += usage[id] > 0;
    auto pct = [&](double p) { return lengths.empty() ? 0 : lengths[static_cast<std::size_t>(p * (lengths.size() - 1))]; };
    std::printf("ECGs %zu, symbols %zu, tokens %zu, compression %.2fx\n", ids.size(), n, m, m ? double(n) / m : 0.0);
    std::printf("tokens per ECG: min %zu, median %zu, p95 %zu, max %zu, mean %.1f\n", pct(0), pct(0.5), pct(0.95), pct(1),
                ids.empty() ? 0.0 : double(m) / ids.size());
    std::printf("vocabulary used: %zu of %zu (%.1f%%)\n", used, t.vocab_size(), 100.0 * used / t.vocab_size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-tokenizer: %s\n", e.what());
    return 1;
  }
  return 0;
}
