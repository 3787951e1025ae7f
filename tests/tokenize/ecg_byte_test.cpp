// Tests for include/ecgbench/tokenize: symbols, the incremental BPE trainer against the naive
// reference, both encoders, the JSON format, and upstream's pickled tokenizers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <unordered_map>

#include "ecgbench/core/json.hpp"
#include "ecgbench/core/npy.hpp"
#include "ecgbench/core/random.hpp"
#include "ecgbench/io/wfdb.hpp"
#include "ecgbench/tokenize/tokenize.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::tokenize;

TEST_CASE("symbolize: hand-computed levels, lead-major order, inverse", "[tokenize][symbols]") {
  // min -1, max 1: u = (x + 1) / (2 + 1e-6); q = min(floor(26 u), 25).
  // x = 0 -> u = 0.49999975 -> 12.99999 -> 'm'; 0.5 -> 19.49999 -> 't'; 1 -> 25.99998 -> 'z'; -1 -> 'a'.
  const std::vector<float> x{0.0f, 0.5f, 1.0f, -1.0f};
  const auto s = symbolize(x);
  CHECK(s.symbols == "mtza");
  CHECK(s.min == -1.0f);
  CHECK(s.max == 1.0f);
  // Levels sit at q/25 of the range: 'm' -> 12/25 * 2 - 1 = -0.04.
  const auto back = desymbolize(s.symbols, s.min, s.max);
  CHECK(back[0] == Approx(-0.04f));
  CHECK(back[2] == 1.0f);
  CHECK(back[3] == -1.0f);
  // Lead-major flattening of [2][3]: lead 0 first.
  const std::vector<float> two{0, 1, 2, 3, 4, 5};
  CHECK(symbolize(two).symbols == std::string{'a', 'f', 'k', 'p', 'u', 'z'});  // 26 u = 0, 5.2, 10.4, 15.6, 20.8, 25.99
  // Constant segment: all 'a' (the 1e-6 keeps the division finite).
  CHECK(symbolize(std::vector<float>(5, 3.0f)).symbols == "aaaaa");
  CHECK_THROWS_WITH(symbolize(std::vector<float>{1.0f, std::nanf("")}), Catch::Contains("NaN"));
  CHECK_THROWS_WITH(desymbolize("ab!", 0, 1), Catch::Contains("'!' at 2"));
}

TEST_CASE("incremental BPE trainer equals the naive reference", "[tokenize][bpe]") {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    auto rng = make_rng(seed);
    const int alphabet = 2 + static_cast<int>(seed % 4);
    std::vector<std::string> corpus;
    for (int k = 0; k < 8; ++k) {
      std::string s;
      const auto len = 5 + uniform_index(rng, 120);
      // Runs make overlapping pairs ("aaaa") common, the tricky case for incremental counts.
      while (s.size() < len) s += std::string(1 + uniform_index(rng, 4), static_cast<char>('a' + uniform_index(rng, alphabet)));
      corpus.push_back(s);
    }
    std::vector<std::string_view> views(corpus.begin(), corpus.end());
    INFO("seed " << seed);
    const auto fast = train_bpe(views, {.merges = 60});
    const auto naive = train_bpe_naive(views, 60);
    REQUIRE(fast == naive);
    // Concatenated input: pairs may cross the former ECG boundaries.
    std::string joined;
    for (const auto& s : corpus) joined += s;
    REQUIRE(train_bpe({joined}, {.merges = 40}) == train_bpe_naive({joined}, 40));
  }
  // "aaaa": (a, a) counted 3 times (overlapping), merged left to right -> "ZZ", then (Z, Z).
  const auto m = train_bpe({std::string_view("aaaa")}, {.merges = 5});
  REQUIRE(m.size() == 2);
  CHECK(m[0] == MergePair{'a', 'a'});
  CHECK(m[1] == MergePair{256, 256});
  // Ties: (a, b) and (c, d) both twice -> the smaller left id wins.
  const auto t = train_bpe({std::string_view("cdab"), std::string_view("abcd")}, {.merges = 1});
  CHECK(t[0] == MergePair{'a', 'b'});
}

TEST_CASE("both encoders decode back to the input, bpe applies merges in order", "[tokenize][encode]") {
  auto rng = make_rng(11);
  std::vector<std::string> corpus;
  for (int k = 0; k < 20; ++k) {
    std::string s;
    for (int i = 0; i < 300; ++i) s += static_cast<char>('a' + uniform_index(rng, 5));
    corpus.push_back(s);
  }
  const EcgByteTokenizer tok(std::string(ecg_alphabet), train_bpe(std::vector<std::string_view>(corpus.begin(), corpus.end()), {.merges = 200}));
  CHECK(tok.vocab_size() == 456);
  for (const auto& s : corpus) {
    const auto a = tok.encode(s, EncodeMode::bpe);
    const auto b = tok.encode(s, EncodeMode::longest_match);
    CHECK(tok.decode(a) == s);
    CHECK(tok.decode(b) == s);
    CHECK(a.size() < s.size());
  }
  // Hand case: merges (a,b)->256, (256,c)->257, (b,c)->258. "abc": bpe -> [257];
  // "bcab": bpe -> (a,b) first -> b c 256 -> then (b,c) -> [258, 256].
  const EcgByteTokenizer small(std::string(ecg_alphabet), {{'a', 'b'}, {256, 'c'}, {'b', 'c'}});
  CHECK(small.encode("abc", EncodeMode::bpe) == std::vector<TokenId>{257});
  CHECK(small.encode("bcab", EncodeMode::bpe) == std::vector<TokenId>{258, 256});
  // Longest match differs from merge order: "abcc" -> bpe [257, 'c']; longest match also [257, 'c'];
  // "bcc" -> longest match [258, 'c'].
  CHECK(small.encode("bcc", EncodeMode::longest_match) == std::vector<TokenId>{258, 'c'});
  CHECK_THROWS_WITH(small.encode("abZ", EncodeMode::bpe), Catch::Contains("'Z' at position 2"));
  // Longest match finds a bad symbol mid-walk ("ab" is a token, then 'Z') and at the first position.
  CHECK_THROWS_WITH(small.encode("abZ", EncodeMode::longest_match), Catch::Contains("'Z' at position 2"));
  CHECK_THROWS_WITH(small.encode(std::string("\xff" "ab"), EncodeMode::longest_match), Catch::Contains("'\\xff' at position 0"));
  CHECK_THROWS_WITH(EcgByteTokenizer(std::string(ecg_alphabet), {{'a', 300}}), Catch::Contains("does not exist yet"));
}

namespace {
// Greedy longest match the slow way: at each position the longest token string that is a prefix
// (a string made by two merges keeps the later id, as upstream's trie does).
std::vector<TokenId> naive_longest_match(const EcgByteTokenizer& t, std::string_view s) {
  std::unordered_map<std::string, TokenId> id_of;
  std::size_t longest = 1;
  for (TokenId id = 0; id < t.vocab_size(); ++id) {
    id_of[t.token(id)] = id;
    longest = std::max(longest, t.token(id).size());
  }
  std::vector<TokenId> out;
  for (std::size_t i = 0; i < s.size();) {
    for (std::size_t len = std::min(longest, s.size() - i); len > 0; --len) {
      auto it = id_of.find(std::string(s.substr(i, len)));
      if (it == id_of.end()) continue;
      out.push_back(it->second);
      i += len;
      break;
    }
  }
  return out;
}
}  // namespace

TEST_CASE("longest-match encoding equals a naive greedy reference", "[tokenize][encode]") {
  for (std::uint64_t seed : {1, 2, 3, 4}) {
    auto rng = make_rng(seed);
    // Skewed symbols over a few levels, like a quantised ECG: long runs make deep tokens.
    std::vector<std::string> corpus;
    for (int k = 0; k < 12; ++k) {
      std::string s;
      int level = 12;
      for (int i = 0; i < 400; ++i) {
        level = std::clamp(level + static_cast<int>(uniform_index(rng, 3)) - 1, 0, 25);
        s += static_cast<char>('a' + level);
      }
      corpus.push_back(s);
    }
    const EcgByteTokenizer tok(std::string(ecg_alphabet),
                               train_bpe(std::vector<std::string_view>(corpus.begin(), corpus.end()), {.merges = 300 * static_cast<std::size_t>(seed)}));
    CHECK(tok.trie_slots() >= tok.trie_states());
    for (const auto& s : corpus) CHECK(tok.encode(s, EncodeMode::longest_match) == naive_longest_match(tok, s));
    // Strings the merges never saw (other symbols, other walks) still encode as the reference does.
    std::string other;
    for (int i = 0; i < 500; ++i) other += static_cast<char>('a' + uniform_index(rng, 26));
    CHECK(tok.encode(other, EncodeMode::longest_match) == naive_longest_match(tok, other));
  }
  // Two merges that spell the same string: the later id wins, in both encoders of the trie.
  const EcgByteTokenizer dup(std::string(ecg_alphabet), {{'a', 'b'}, {'b', 'c'}, {256, 'c'}, {'a', 257}});
  CHECK(dup.token(258) == dup.token(259));
  CHECK(dup.encode("abcabc", EncodeMode::longest_match) == std::vector<TokenId>{259, 259});
  CHECK(naive_longest_match(dup, "abcabc") == std::vector<TokenId>{259, 259});
}

TEST_CASE("tokenizer JSON round trip and bad files", "[tokenize][json]") {
  const auto dir = test::temp_dir() / "tok";
  std::filesystem::create_directories(dir);
  const EcgByteTokenizer t(std::string(ecg_alphabet), {{'a', 'b'}, {256, 'c'}});
  t.save(dir / "t.json");
  const auto j = read_json(dir / "t.json");
  CHECK(j["format"] == "ecgbench.ecg-byte");
  CHECK(j["merges"] == Json::parse("[[97, 98], [256, 99]]"));
  const auto back = EcgByteTokenizer::load(dir / "t.json");
  CHECK(back.merges() == t.merges());
  CHECK(back.token(257) == "abc");
  std::string text = read_file(dir / "t.json");
  std::ofstream(dir / "trunc.json") << text.substr(0, text.size() / 2);
  CHECK_THROWS_WITH(EcgByteTokenizer::load(dir / "trunc.json"), Catch::Contains("trunc.json") && Catch::Contains("invalid JSON"));
  std::ofstream(dir / "other.json") << R"({"format": "something", "version": 1, "alphabet": "ab", "merges": []})";
  CHECK_THROWS_WITH(EcgByteTokenizer::load(dir / "other.json"), Catch::Contains("not an ECG-Byte tokenizer"));
  std::ofstream(dir / "neg.json") << R"({"format": "ecgbench.ecg-byte", "version": 1, "alphabet": "ab", "merges": [[97, -1]]})";
  CHECK_THROWS_WITH(EcgByteTokenizer::load(dir / "neg.json"), Catch::Contains("merge 0"));
}

TEST_CASE("upstream pickled tokenizers import and encode", "[tokenize][pickle]") {
  ECGBENCH_REQUIRE_TEST_DATA("ecg-byte");
  const auto t5000 = EcgByteTokenizer::import_pickle(test_data_path / "ecg_byte_tokenizer_5000_500000.pkl");
  CHECK(t5000.merges().size() == 5000);
  CHECK(t5000.vocab_size() == 5256);
  // Documented in reference/upstream-notes.md: the longest token has 512 symbols; merge 0 is (m, m).
  std::size_t longest = 0;
  for (TokenId id = 256; id < 5256; ++id) longest = std::max(longest, t5000.token(id).size());
  CHECK(longest == 512);
  CHECK(t5000.token(256) == "mm");
  const auto t1000 = EcgByteTokenizer::import_pickle(test_data_path / "ecg_byte_tokenizer_1000_25.pkl");
  CHECK(t1000.vocab_size() == 1256);

  const auto ptb = test::data_dir() / "ptbxl/records500/06000/06000_hr";
  ECGBENCH_REQUIRE_FIXTURE(ptb.string() + ".hea");
  {
    // A real 5-s segment at 250 Hz (every other sample of 10 s at 500 Hz: enough for a ratio).
    const auto ecg = io::read_ecg12(ptb);
    std::vector<float> seg(12 * 1250);
    for (int l = 0; l < 12; ++l)
      for (int t = 0; t < 1250; ++t) seg[l * 1250 + t] = static_cast<float>(ecg.lead(l)[2 * t]);
    const auto s = symbolize(seg);
    const auto ids = t5000.encode(s.symbols, EncodeMode::longest_match);
    CHECK(t5000.decode(ids) == s.symbols);
    CHECK(ids == naive_longest_match(t5000, s.symbols));  // tokens up to 512 symbols deep
    CHECK(t5000.decode(t5000.encode(s.symbols, EncodeMode::bpe)) == s.symbols);
  }
}

TEST_CASE("the pickle reader refuses code and damaged data", "[tokenize][pickle][errors]") {
  // GLOBAL 'os\nsystem' + REDUCE: the classic code-execution pickle.
  const std::string evil = std::string("\x80\x04") + "cos\nsystem\n(S'true'\ntR.";
  CHECK_THROWS_WITH(read_pickle(evil, "evil.pkl"), Catch::Contains("evil.pkl") && Catch::Contains("unsupported pickle opcode 0x63"));
  CHECK_THROWS_WITH(read_pickle(std::string("\x80\x04\x8c\x05" "ab", 6), "short.pkl"), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(read_pickle(std::string("\x80\x04]", 3), "nostop.pkl"), Catch::Contains("no STOP"));
  CHECK_THROWS_WITH(read_pickle(std::string("\x80\x04" "a.", 4), "under.pkl"), Catch::Contains("underflow"));
  // A valid plain pickle: (1, 'x') -> protocol 4 TUPLE2.
  const auto v = read_pickle(std::string("\x80\x04K\x01\x8c\x01x\x86.", 9), "ok.pkl");
  REQUIRE(v.is(PyValue::Kind::tuple));
  CHECK((*v.items)[0].i == 1);
  CHECK((*v.items)[1].s == "x");
  // Nesting: n lists, each appended into the one before, around a None (n + 1 levels below the root).
  auto nested = [](int n) { return "\x80\x02" + std::string(static_cast<std::size_t>(n), ']') + "N" + std::string(static_cast<std::size_t>(n), 'a') + "."; };
  CHECK(read_pickle(nested(100), "deep.pkl").items->size() == 1);
  CHECK_THROWS_WITH(read_pickle(nested(101), "deeper.pkl"), Catch::Contains("deeper.pkl") && Catch::Contains("nested deeper than 100"));
  // x = [x, x] sixty times through the memo: a DAG of 61 lists; walking it as a tree would take 2^60 steps.
  std::string doubling = std::string("\x80\x02]q\x00", 5);
  for (int i = 0; i < 60; ++i) doubling += std::string("0]h\x00" "ah\x00" "aq\x00", 10);
  const auto shared = read_pickle(doubling + ".", "shared.pkl");
  REQUIRE(shared.items->size() == 2);
  CHECK((*shared.items)[0].items == (*shared.items)[1].items);
  // Cycles: a list inside itself, and a list changed after being placed in another.
  CHECK_THROWS_WITH(read_pickle(std::string("\x80\x02]q\x00h\x00" "a.", 9), "self.pkl"), Catch::Contains("a container inside itself"));
  CHECK_THROWS_WITH(read_pickle(std::string("\x80\x02]q\x00]h\x00" "a0h\x00K\x01" "a.", 15), "late.pkl"),
                    Catch::Contains("changed after being placed in another"));
  ECGBENCH_REQUIRE_TEST_DATA("ecg-byte");
  // Random corruption of a real tokenizer pickle: an Error or a valid tokenizer, never a crash.
  const std::string good = read_file(test_data_path / "ecg_byte_tokenizer_1000_25.pkl");
  auto rng = make_rng(99);
  const auto dir = test::temp_dir() / "pkl";
  std::filesystem::create_directories(dir);
  int errors = 0;
  for (int i = 0; i < 60; ++i) {
    std::string bad = good;
    for (int e = 0; e < 3; ++e) bad[uniform_index(rng, bad.size())] = static_cast<char>(uniform_index(rng, 256));
    if (i % 3 == 0) bad.resize(uniform_index(rng, bad.size()));
    std::ofstream(dir / "bad.pkl", std::ios::binary) << bad;
    try {
      (void)EcgByteTokenizer::import_pickle(dir / "bad.pkl");
    } catch (const Error&) {
      ++errors;
    }
  }
  CHECK(errors > 0);
}

TEST_CASE("shipped 5000-merge tokenizer: exact ids and compression on the fixture segments", "[tokenize][pickle][golden]") {
  // Golden ids from upstream's own symbolizer and trie encoder transcribed in Python
  // (tests/tokenize/golden/make_ecg_byte_golden.py) on the scipy reference segments.
  ECGBENCH_REQUIRE_TEST_DATA("preprocess-golden/paper");
  ECGBENCH_REQUIRE_FIXTURE(test::data_dir() / "ecg-byte/ecg_byte_tokenizer_5000_500000.pkl");
  const auto t5000 = EcgByteTokenizer::import_pickle(test::data_dir() / "ecg-byte/ecg_byte_tokenizer_5000_500000.pkl");
  const auto golden = read_json(std::filesystem::path(ECGBENCH_SOURCE_DIR) / "tests/tokenize/golden/ecg_byte_5000_paper.json");
  std::size_t symbols = 0, tokens = 0;
  REQUIRE(golden["segments"].size() == 10);
  for (const auto& [name, g] : golden["segments"].items()) {
    INFO(name);
    const auto seg = npy::load(test_data_path / (name + ".npy")).to_vector<float>();
    const auto s = symbolize(seg);
    REQUIRE(s.symbols.size() == g["symbols"].get<std::size_t>());
    const auto ids = t5000.encode(s.symbols, EncodeMode::longest_match);
    CHECK(ids == g["ids"].get<std::vector<TokenId>>());
    symbols += s.symbols.size(), tokens += ids.size();
  }
  CHECK(tokens == 8775);  // the golden file's total: 150 000 symbols -> 17.09x
  CHECK(double(symbols) / double(tokens) == Approx(17.094017).epsilon(1e-6));
}

TEST_CASE("ids files round trip, statistics by hand, bad ids name the line", "[tokenize][corpus]") {
  const auto dir = test::temp_dir();
  const std::vector<std::vector<TokenId>> ids{{1, 20, 300}, {}, {7}};
  write_ids_file(dir / "ids.txt", ids);
  CHECK(read_file(dir / "ids.txt") == "1 20 300\n\n7\n");
  CHECK(read_ids_file(dir / "ids.txt", 301) == ids);
  CHECK(parse_ids("4  5\r\n6", 10, "x") == std::vector<std::vector<TokenId>>{{4, 5}, {6}});
  CHECK_THROWS_WITH(read_ids_file(dir / "ids.txt", 300), Catch::Contains("ids.txt:1:") && Catch::Contains("id 300 is outside"));
  CHECK_THROWS_WITH(parse_ids("1 2\n3 x4\n", 10, "f.txt"), Catch::Contains("f.txt:2:") && Catch::Contains("invalid id 'x4'"));
  CHECK_THROWS_WITH(read_ids_file(dir / "none.txt", 10), Catch::Contains("none.txt"));
  // 3 ECGs of 10, 6 and 4 symbols -> 5, 2, 1 tokens: 20 / 8 = 2.5x; lengths sorted 1 2 5.
  SymbolCorpus c;
  c.symbols = {std::string(10, 'a'), std::string(6, 'b'), std::string(4, 'c')};
  const std::vector<std::vector<TokenId>> t{{0, 1, 2, 3, 4}, {2, 2}, {9}};
  const auto s = token_stats(c, t, 20);
  CHECK(s.ecgs == 3);
  CHECK(s.symbols == 20);
  CHECK(s.tokens == 8);
  CHECK(s.compression == 2.5);
  CHECK((s.min == 1 && s.median == 2 && s.max == 5));
  CHECK(s.p95 == 2);  // nearest rank below: lengths[floor(0.95 * 2)] = lengths[1]
  CHECK(s.vocab_used == 6);  // 0 1 2 3 4 9
  CHECK(s.mean == Approx(8.0 / 3));
  // Verify: a tokenizer round trip over real encodings.
  const EcgByteTokenizer tok(std::string(ecg_alphabet), train_bpe(std::vector<std::string_view>{"abababab", "abab"}, {.merges = 2}));
  SymbolCorpus d;
  d.symbols = {"abababab", "ab"};
  const auto enc = encode_corpus(tok, d, EncodeMode::longest_match, 1);
  CHECK(verify_corpus(tok, d, enc).failures == 0);
  auto wrong = enc;
  wrong[1] = {0};
  CHECK(verify_corpus(tok, d, wrong).failures == 1);
}
