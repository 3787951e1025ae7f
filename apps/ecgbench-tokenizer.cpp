// ecgbench-tokenizer: ECG-Byte training, encoding, decoding, upstream import, verification and
// statistics. Input is either symbol strings (one ECG per line) or a preprocessed segment folder
// (index.jsonl + shards, optionally restricted to a sample list of segment ids).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "ecgbench/core/parallel.hpp"
#include "ecgbench/data/preprocess.hpp"
#include "ecgbench/tokenize/tokenize.hpp"

using namespace ecgbench;
using namespace ecgbench::tokenize;
namespace fs = std::filesystem;

namespace {

struct Args {
  std::string symbols, segments, sample, tokenizer, out, mode = "longest-match", pkl, ids_file;
  std::size_t merges = 3500;
  unsigned threads = 0;
  bool concat = false, quiet = false;

  SymbolCorpus corpus(bool keep_originals) const {
    if (symbols.empty() == segments.empty()) throw Error("give exactly one of --symbols and --segments");
    return symbols.empty() ? read_segment_symbols(segments, sample, threads, keep_originals) : read_symbols_file(symbols);
  }
};

double seconds_since(std::chrono::steady_clock::time_point t0) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }

int run_train(const Args& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto c = a.corpus(false);
  EcgByteTokenizer check;
  for (std::size_t i = 0; i < c.symbols.size(); ++i) check.check_symbols(c.symbols[i], "ECG " + std::to_string(i + 1));
  std::vector<std::string_view> seqs;
  std::string joined;
  if (a.concat) {
    for (const auto& s : c.symbols) joined += s;
    seqs.push_back(joined);
  } else {
    for (const auto& s : c.symbols) seqs.emplace_back(s);
  }
  BpeTrainOptions o;
  o.merges = a.merges;
  o.progress = a.quiet ? ProgressStyle::quiet : ProgressStyle::automatic;
  const auto m = train_bpe(seqs, o);
  const EcgByteTokenizer t(std::string(ecg_alphabet), m);
  t.save(a.out);
  std::size_t n = 0;
  for (const auto& s : c.symbols) n += s.size();
  std::printf("trained %zu merges on %zu ECGs (%zu symbols) in %.2f s -> %s\n", m.size(), c.symbols.size(), n, seconds_since(t0), a.out.c_str());
  return 0;
}

int run_encode(const Args& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto t = EcgByteTokenizer::load(a.tokenizer);
  const auto c = a.corpus(false);
  const auto ids = encode_corpus(t, c, parse_encode_mode(a.mode), a.threads);
  write_ids_file(a.out, ids);
  const auto st = token_stats(c, ids, t.vocab_size());
  std::printf("encoded %zu ECGs: %zu symbols -> %zu tokens (%.2fx) in %.2f s\n", st.ecgs, st.symbols, st.tokens, st.compression, seconds_since(t0));
  return 0;
}

int run_decode(const Args& a) {
  const auto t = EcgByteTokenizer::load(a.tokenizer);
  std::string text;
  for (const auto& ids : read_ids_file(a.ids_file, t.vocab_size())) text += t.decode(ids) + "\n";
  write_file_atomically(a.out, text);
  return 0;
}

int run_verify(const Args& a) {
  const auto t = EcgByteTokenizer::load(a.tokenizer);
  const auto c = a.corpus(true);
  const auto r = verify_corpus(t, c, encode_corpus(t, c, parse_encode_mode(a.mode), a.threads));
  std::printf("round trip: %zu of %zu ECGs decode to their symbols\n", r.ecgs - r.failures, r.ecgs);
  if (!c.originals.empty()) std::printf("max reconstruction error (dequantised vs signal): %.6g\n", r.max_reconstruction_error);
  return r.failures == 0 ? 0 : 1;
}

int run_stats(const Args& a) {
  const auto t = EcgByteTokenizer::load(a.tokenizer);
  const auto c = a.corpus(false);
  const auto s = token_stats(c, encode_corpus(t, c, parse_encode_mode(a.mode), a.threads), t.vocab_size());
  std::printf("ECGs %zu, symbols %zu, tokens %zu, compression %.2fx\n", s.ecgs, s.symbols, s.tokens, s.compression);
  std::printf("tokens per ECG: min %zu, median %zu, p95 %zu, max %zu, mean %.1f\n", s.min, s.median, s.p95, s.max, s.mean);
  std::printf("vocabulary used: %zu of %zu (%.1f%%)\n", s.vocab_used, s.vocab_size, 100.0 * s.vocab_used / s.vocab_size);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ECG-Byte: symbolic ECG + byte-pair encoding"};
  app.require_subcommand(1);
  Args a;
  auto input_options = [&](CLI::App* c) {
    c->add_option("--symbols", a.symbols, "file with one ECG symbol string per line");
    c->add_option("--segments", a.segments, "preprocessed folder (index.jsonl + segments-*.npy)");
    c->add_option("--sample", a.sample, "only these segment ids (one per line)");
    c->add_option("--threads", a.threads, "threads (0 = all cores)")->capture_default_str();
  };
  auto* train = app.add_subcommand("train", "learn merges");
  input_options(train);
  train->add_option("--merges", a.merges, "number of merges")->capture_default_str();
  train->add_flag("--concat", a.concat, "concatenate all ECGs into one sequence (upstream's behaviour: pairs cross ECGs)");
  train->add_option("--out", a.out, "tokenizer JSON")->required();
  train->add_flag("--quiet", a.quiet, "no progress");
  auto* encode = app.add_subcommand("encode", "symbols -> ids (one line of ids per ECG)");
  input_options(encode);
  encode->add_option("--tokenizer", a.tokenizer, "tokenizer JSON")->required();
  encode->add_option("--mode", a.mode, "bpe | longest-match (upstream's encoder)")->capture_default_str();
  encode->add_option("--out", a.out, "output ids file")->required();
  auto* decode = app.add_subcommand("decode", "ids -> symbols");
  decode->add_option("--tokenizer", a.tokenizer, "tokenizer JSON")->required();
  decode->add_option("--ids", a.ids_file, "ids file (one line per ECG)")->required();
  decode->add_option("--out", a.out, "symbols file")->required();
  auto* import = app.add_subcommand("import", "convert upstream's pickled tokenizer");
  import->add_option("--pkl", a.pkl, "upstream (vocab, merges) pickle")->required();
  import->add_option("--out", a.out, "tokenizer JSON")->required();
  auto* verify = app.add_subcommand("verify", "round trip and reconstruction error on segments");
  input_options(verify);
  verify->add_option("--tokenizer", a.tokenizer, "tokenizer JSON")->required();
  verify->add_option("--mode", a.mode, "bpe | longest-match")->capture_default_str();
  auto* stats = app.add_subcommand("stats", "compression, token lengths, vocabulary usage");
  input_options(stats);
  stats->add_option("--tokenizer", a.tokenizer, "tokenizer JSON")->required();
  stats->add_option("--mode", a.mode, "bpe | longest-match")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    if (*import) {
      const auto t = EcgByteTokenizer::import_pickle(a.pkl);
      t.save(a.out);
      std::printf("imported %zu merges (vocabulary %zu) from %s to %s\n", t.merges().size(), t.vocab_size(), a.pkl.c_str(), a.out.c_str());
      return 0;
    }
    if (*decode) return run_decode(a);
    if (*train) return run_train(a);
    if (*encode) return run_encode(a);
    if (*verify) return run_verify(a);
    return run_stats(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-tokenizer: %s\n", e.what());
    return 1;
  }
}
