// Tests for the text tokenizers and chat templates: llama.cpp's golden tokenizations (produced with
// Hugging Face tokenizers) and the npm reference encodings in ../shared/data/tokenizers, hand-built
// BPE cases, round trips, label masks, padding and truncation, bad files.
#include <catch2/catch.hpp>

#include <cstring>

#include <fstream>
#include <sstream>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/json.hpp"
#include "ecgbench/tokenize/tokenize.hpp"
#include "support/test_data.hpp"

using namespace ecgbench;
using namespace ecgbench::tokenize;

namespace {

std::vector<std::string> read_llama_cpp_inputs(const std::filesystem::path& p) {
  const std::string s = read_file(p);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  for (std::size_t b = 0;;) {
    const auto e = s.find(sep, b);
    if (e == std::string::npos) break;
    out.push_back(s.substr(b, e - b));
    b = e + sep.size();
  }
  return out;
}

std::vector<std::vector<std::int32_t>> read_llama_cpp_outputs(const std::filesystem::path& p) {
  std::istringstream in(read_file(p));
  std::vector<std::vector<std::int32_t>> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<std::int32_t> ids;
    std::int32_t x = 0;
    while (ls >> x) ids.push_back(x);
    out.push_back(ids);
  }
  return out;
}

std::vector<std::int32_t> ids_of(const Json& j) { return j.get<std::vector<std::int32_t>>(); }

// A toy byte-level vocabulary: the 256 byte tokens plus merged tokens, in the tokenizer.json layout.
Json toy_tokenizer_json(const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges = false) {
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b) vocab[bytes_to_byte_level(std::string(1, static_cast<char>(b)))] = b;
  std::int32_t next = 256;
  Json m = Json::array();
  for (const auto& [l, r] : merges) {
    if (!vocab.contains(l + r)) vocab[l + r] = next++;
    m.push_back(l + " " + r);
  }
  return Json{{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", m}, {"ignore_merges", ignore_merges}}},
              {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
              {"decoder", {{"type", "ByteLevel"}}},
              {"added_tokens", Json::array()}};
}

HfTokenizer load_json(const Json& j, const std::string& name) {
  const auto p = test::temp_dir() / name;
  write_json(p, j);
  return HfTokenizer::from_tokenizer_json(p);
}

}  // namespace

TEST_CASE("text tokenizers reproduce llama.cpp's golden tokenizations", "[tokenize][text]") {
  ECGBENCH_REQUIRE_TEST_DATA("tokenizers");
  const auto dir = test_data_path;
  struct Case { std::string vocab; HfTokenizer tok; };
  std::vector<Case> cases;
  cases.push_back({"gpt-2", HfTokenizer::from_gpt2_files(dir / "gpt2/vocab.json", dir / "gpt2/merges.txt")});
  cases.push_back({"llama-bpe", HfTokenizer::from_directory(dir / "llama3")});
  cases.push_back({"qwen2", HfTokenizer::from_directory(dir / "qwen2.5-qwen3")});
  cases.push_back({"llama-spm", HfTokenizer::from_directory(dir / "llama2-sentencepiece")});
  for (const auto& c : cases) {
    INFO("vocabulary " << c.vocab);
    const auto inputs = read_llama_cpp_inputs(dir / "llama.cpp-vocab-tests" / ("ggml-vocab-" + c.vocab + ".gguf.inp"));
    const auto expected = read_llama_cpp_outputs(dir / "llama.cpp-vocab-tests" / ("ggml-vocab-" + c.vocab + ".gguf.out"));
    REQUIRE(inputs.size() == expected.size());
    REQUIRE(inputs.size() >= 40);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      INFO("string " << i << " [" << inputs[i] << "]");
      const auto ids = c.tok.encode(inputs[i], false);
      CHECK(ids == expected[i]);
      // Byte-level BPE is lossless; SentencePiece drops the dummy-prefix space and folds whitespace.
      if (c.vocab != "llama-spm") CHECK(c.tok.decode(ids) == inputs[i]);
    }
  }
  CHECK(cases[0].tok.vocab_size() == 50257);
  CHECK(cases[1].tok.vocab_size() == 128256);
  CHECK(cases[3].tok.vocab_size() == 32000);
}

TEST_CASE("text tokenizers match the reference encodings, BOS as each config says", "[tokenize][text]") {
  ECGBENCH_REQUIRE_TEST_DATA("tokenizers");
  const Json ref = read_json(test_data_path / "reference_encodings.json");
  const auto gpt2 = HfTokenizer::from_gpt2_files(test_data_path / "gpt2/vocab.json", test_data_path / "gpt2/merges.txt");
  const auto llama3 = HfTokenizer::from_directory(test_data_path / "llama3");
  const auto qwen = HfTokenizer::from_directory(test_data_path / "qwen2.5-qwen3");
  REQUIRE(ref["gpt2"].size() >= 10);
  for (const auto& e : ref["gpt2"]) {
    INFO(e["text"].get<std::string>());
    // The reference encoder treats <|endoftext|> as plain text.
    CHECK(gpt2.encode(e["text"].get<std::string>(), true, false) == ids_of(e["ids"]));
  }
  for (const auto& [tok, key] : {std::pair{&llama3, "llama3"}, std::pair{&qwen, "qwen"}}) {
    for (const auto& e : ref[key]) {
      INFO(key << ": " << e["text"].get<std::string>());
      CHECK(tok->encode(e["text"].get<std::string>(), false) == ids_of(e["ids_no_special"]));
      CHECK(tok->encode(e["text"].get<std::string>(), true) == ids_of(e["ids_with_special"]));
    }
  }
  CHECK(llama3.bos_id() == 128000);
  CHECK(llama3.eos_id() == 128009);  // <|eot_id|> per tokenizer_config.json
  CHECK_FALSE(qwen.bos_id());
  CHECK(qwen.eos_id() == qwen.token_to_id("<|im_end|>"));
  CHECK(qwen.pad_id() == 151643);
  // "Hello, my dog is cute": the well-known Hugging Face results.
  CHECK(gpt2.encode("Hello, my dog is cute") == std::vector<std::int32_t>{15496, 11, 616, 3290, 318, 13779});
  CHECK(llama3.decode(llama3.encode("Hello, my dog is cute"), true) == "Hello, my dog is cute");
  CHECK(llama3.decode(llama3.encode("Hello")) == "<|begin_of_text|>Hello");
}

TEST_CASE("Llama 3 chat template renders and encodes as Hugging Face's Jinja template", "[tokenize][chat]") {
  ECGBENCH_REQUIRE_TEST_DATA("tokenizers");
  const Json ref = read_json(test_data_path / "reference_encodings.json")["llama3_chat"];
  const auto tok = HfTokenizer::from_directory(test_data_path / "llama3");
  REQUIRE(detect_chat_format(tok.chat_template()) == ChatFormat::llama3);
  std::string system;
  std::vector<data::Turn> turns;
  for (const auto& m : ref["messages"]) {
    const auto role = m["role"].get<std::string>();
    if (role == "system") system = m["content"].get<std::string>();
    else turns.push_back({role == "user" ? data::Role::user : data::Role::assistant, m["content"].get<std::string>()});
  }
  CHECK(render_chat(ChatFormat::llama3, turns, system, false) == ref["rendered"].get<std::string>());
  ChatEncodeOptions opt;
  opt.system_prompt = system;
  opt.signal_placeholder = "";  // text only
  const auto enc = encode_chat(tok, ChatFormat::llama3, turns, opt);
  CHECK(enc.ids == ids_of(ref["ids"]));
  // Labels: exactly the assistant reply and its <|eot_id|>, at the end of the sequence.
  std::vector<std::int32_t> trained;
  std::size_t first = enc.labels.size();
  for (std::size_t i = 0; i < enc.labels.size(); ++i)
    if (enc.labels[i] != ignore_label) {
      CHECK(enc.labels[i] == enc.ids[i]);
      trained.push_back(enc.labels[i]);
      first = std::min(first, i);
    }
  CHECK(tok.decode(trained) == "Sinus rhythm, normal ECG.<|eot_id|>");
  CHECK(first + trained.size() == enc.ids.size());  // one contiguous span
  CHECK(enc.attention_mask == std::vector<std::int32_t>(enc.ids.size(), 1));
  CHECK(enc.position_ids.back() == static_cast<std::int32_t>(enc.ids.size()) - 1);
}

TEST_CASE("chat formats: ChatML, Gemma 2 and the GPT-2 default render as specified", "[tokenize][chat]") {
  const std::vector<data::Turn> turns{{data::Role::user, "Is this normal?"}, {data::Role::assistant, "yes"},
                                      {data::Role::user, " And the axis? "}};
  CHECK(render_chat(ChatFormat::chatml, turns, "SYS", true) ==
        "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nIs this normal?<|im_end|>\n"
        "<|im_start|>assistant\nyes<|im_end|>\n<|im_start|>user\n And the axis? <|im_end|>\n<|im_start|>assistant\n");
  CHECK(render_chat(ChatFormat::chatml, std::span(turns).first(1), std::nullopt, false) ==
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nIs this normal?<|im_end|>\n");
  CHECK(render_chat(ChatFormat::gemma2, turns, "SYS", true) ==
        "<bos><start_of_turn>user\nSYS\n\nIs this normal?<end_of_turn>\n<start_of_turn>model\nyes<end_of_turn>\n"
        "<start_of_turn>user\nAnd the axis?<end_of_turn>\n<start_of_turn>model\n");
  CHECK(render_chat(ChatFormat::gpt2, std::span(turns).first(2), std::nullopt, false) ==
        "User: Is this normal?\nAssistant: yes<|endoftext|>\n");
  CHECK(render_chat(ChatFormat::opt, std::span(turns).first(1), std::nullopt, true) == "</s>User: Is this normal?\nAssistant:");
  CHECK(parse_chat_format("qwen2.5") == ChatFormat::chatml);
  CHECK_THROWS_WITH(parse_chat_format("vicuna"), Catch::Contains("unknown chat format 'vicuna'"));
  CHECK(detect_chat_format("{{ '<start_of_turn>' }}") == ChatFormat::gemma2);
  CHECK_FALSE(detect_chat_format("{{ messages }}"));
}

TEST_CASE("encode_chat: placeholder, ECG splicing, truncation and left padding", "[tokenize][chat]") {
  ECGBENCH_REQUIRE_TEST_DATA("tokenizers");
  auto tok = HfTokenizer::from_directory(test_data_path / "qwen2.5-qwen3");
  const std::vector<data::Turn> turns{{data::Role::user, "Describe the rhythm."}, {data::Role::assistant, "sinus rhythm"}};
  const std::int32_t pad = *tok.pad_id();

  SECTION("the placeholder must be a token; then it is one position") {
    CHECK_THROWS_WITH(encode_chat(tok, ChatFormat::chatml, turns), Catch::Contains("'<signal>' is not a token"));
    REQUIRE(tok.add_tokens({"<signal>"}, true) == 1);
    const auto sig = *tok.token_to_id("<signal>");
    CHECK(sig == 151669);  // next id after the added tokens of tokenizer.json
    const auto enc = encode_chat(tok, ChatFormat::chatml, turns);
    REQUIRE(enc.signal_positions.size() == 1);
    CHECK(enc.ids[enc.signal_positions[0]] == sig);
    // Same ids as encoding the rendered text with the placeholder in it (it is an added token now).
    const std::vector<data::Turn> with{{data::Role::user, "<signal>\nDescribe the rhythm."}, turns[1]};
    CHECK(enc.ids == tok.encode(render_chat(ChatFormat::chatml, with, std::nullopt, false), false));
    // Padded to 64: left pads, masked, position ids restart at 0 after them.
    ChatEncodeOptions opt;
    opt.pad_to_max = 64;
    const auto padded = encode_chat(tok, ChatFormat::chatml, turns, opt);
    REQUIRE(padded.ids.size() == 64);
    const std::size_t n = 64 - enc.ids.size();
    CHECK(std::equal(enc.ids.begin(), enc.ids.end(), padded.ids.begin() + static_cast<std::ptrdiff_t>(n)));
    CHECK(padded.ids[0] == pad);
    CHECK(padded.attention_mask[n - 1] == 0);
    CHECK(padded.attention_mask[n] == 1);
    CHECK(padded.position_ids[n - 1] == 0);
    CHECK(padded.position_ids[n + 5] == 5);
    CHECK(padded.labels[0] == ignore_label);
    CHECK(padded.signal_positions[0] == enc.signal_positions[0] + n);
    // Truncation: keep_first cuts the reply, keep_last the beginning.
    opt.pad_to_max = 10;
    const auto first = encode_chat(tok, ChatFormat::chatml, turns, opt);
    CHECK(first.ids == std::vector<std::int32_t>(enc.ids.begin(), enc.ids.begin() + 10));
    opt.truncation = Truncation::keep_last;
    const auto last = encode_chat(tok, ChatFormat::chatml, turns, opt);
    CHECK(last.ids == std::vector<std::int32_t>(enc.ids.end() - 10, enc.ids.end()));
    std::vector<std::int32_t> trained;
    for (auto l : last.labels) if (l != ignore_label) trained.push_back(l);
    CHECK(tok.decode(trained) == "sinus rhythm<|im_end|>");
    CHECK(last.labels.back() == ignore_label);  // the newline after <|im_end|> is not trained
  }

  SECTION("end-to-end ECG tokens replace the placeholder; upstream's budget rule") {
    std::vector<std::string> signal_tokens;
    for (int i = 0; i < 300; ++i) signal_tokens.push_back("signal_" + std::to_string(i));
    REQUIRE(tok.add_tokens(signal_tokens) == 300);
    const std::int32_t s0 = *tok.token_to_id("signal_0");
    CHECK(*tok.token_to_id("signal_299") == s0 + 299);
    // Added tokens are matched leftmost-longest: "signal_12signal_7" is two tokens.
    CHECK(tok.encode("signal_12signal_7", false) == std::vector<std::int32_t>{s0 + 12, s0 + 7});
    CHECK(tok.decode(std::vector<std::int32_t>{s0 + 12, s0 + 7}) == "signal_12signal_7");
    std::vector<std::int32_t> ecg;
    for (int i = 0; i < 300; ++i) ecg.push_back(s0 + i);
    ChatEncodeOptions opt;
    opt.ecg_token_ids = ecg;
    opt.system_prompt = std::string(default_system_prompt);
    const auto full = encode_chat(tok, ChatFormat::chatml, turns, opt);
    const std::size_t before_n = full.ecg_begin, after_n = full.ids.size() - full.ecg_begin - 300;
    CHECK(full.ecg_size == 300);
    CHECK(std::equal(ecg.begin(), ecg.end(), full.ids.begin() + static_cast<std::ptrdiff_t>(full.ecg_begin)));
    // P = 100, min_ecg_tokens 50: the text (> 50 tokens) is cut, the part after the ECG to at most
    // (100-50)/3 = 16 tokens, the part before keeps its last 100-50-|after| tokens, the ECG gets 50.
    REQUIRE(before_n > 100);
    opt.pad_to_max = 100;
    opt.min_ecg_tokens = 50;
    const auto cut = encode_chat(tok, ChatFormat::chatml, turns, opt);
    const std::size_t keep_after = std::min<std::size_t>(after_n, 16), keep_before = 50 - keep_after;
    REQUIRE(cut.ids.size() == 100);
    CHECK(cut.ecg_begin == keep_before);
    CHECK(cut.ecg_size == 50);
    CHECK(std::equal(cut.ids.begin(), cut.ids.begin() + static_cast<std::ptrdiff_t>(keep_before),
                     full.ids.begin() + static_cast<std::ptrdiff_t>(before_n - keep_before)));
    CHECK(std::equal(cut.ids.begin() + static_cast<std::ptrdiff_t>(keep_before + 50), cut.ids.end(),
                     full.ids.begin() + static_cast<std::ptrdiff_t>(before_n + 300)));
    // Enough room: the ECG grows to fill it and the rest is left-padded.
    opt.pad_to_max = full.ids.size() + 20;
    const auto roomy = encode_chat(tok, ChatFormat::chatml, turns, opt);
    CHECK(roomy.ecg_size == 300);
    CHECK(roomy.ids.size() == full.ids.size() + 20);
    CHECK(roomy.ecg_begin == 20 + full.ecg_begin);
    CHECK(std::count(roomy.attention_mask.begin(), roomy.attention_mask.end(), 0) == 20);
  }
}

TEST_CASE("byte-level BPE: merge order, ignore_merges, unicode round trips, NFC", "[tokenize][text]") {
  // Merges (a b) then (b c): "abc" -> ab + c; with (b c) first -> a + bc.
  const auto t1 = load_json(toy_tokenizer_json({{"a", "b"}, {"b", "c"}}), "t1.json");
  const auto t2 = load_json(toy_tokenizer_json({{"b", "c"}, {"a", "b"}}), "t2.json");
  CHECK(t1.encode("abc") == std::vector<std::int32_t>{256, 'c'});
  CHECK(t2.encode("abc") == std::vector<std::int32_t>{'a', 256});
  // "aaaa" with (a a) then (aa aa): pairs merge left to right without overlap, then the next rank.
  const auto t3 = load_json(toy_tokenizer_json({{"a", "a"}, {"aa", "aa"}}), "t3.json");
  CHECK(t3.encode("aaaaa") == std::vector<std::int32_t>{257, 'a'});
  // ignore_merges: a whole word in the vocabulary wins even when no merge path reaches it.
  Json j = toy_tokenizer_json({{"a", "b"}});
  j["model"]["vocab"]["abc"] = 300;
  CHECK(load_json(j, "t4.json").encode("abc") == std::vector<std::int32_t>{256, 'c'});
  j["model"]["ignore_merges"] = true;
  CHECK(load_json(j, "t5.json").encode("abc") == std::vector<std::int32_t>{300});
  // The GPT-2 pattern splits before BPE: "ab" and " ab" are pre-tokens; (a b) merges inside each.
  CHECK(t1.encode("ab ab") == std::vector<std::int32_t>{256, ' ', 256});
  // Every byte sequence that is valid UTF-8 round-trips.
  for (const std::string s : {"", "ü", "ECG: 60–100 bpm ♥ 心电图 ЭКГ 🫀\t\n  x", "a\r\nb", "   "})
    CHECK(t1.decode(t1.encode(s)) == s);
  // Partial UTF-8 in decoded bytes becomes U+FFFD.
  CHECK(t1.decode(std::vector<std::int32_t>{0xE5}) == "\xEF\xBF\xBD");
  CHECK(utf8_lossy("a\xC3") == "a\xEF\xBF\xBD");
  CHECK(nfc("e\xCC\x81") == "\xC3\xA9");  // e + combining acute -> é
  CHECK(nfc("plain") == "plain");
}

namespace {
// A SentencePiece model written by hand (protobuf wire format), for pieces no fixture has.
std::string pb_varint(std::uint64_t v) {
  std::string s;
  for (; v >= 0x80; v >>= 7) s += static_cast<char>((v & 0x7f) | 0x80);
  return s + static_cast<char>(v);
}
std::string pb_bytes(int field, const std::string& payload) {
  return pb_varint(static_cast<std::uint64_t>(field) << 3 | 2) + pb_varint(payload.size()) + payload;
}
std::string pb_int(int field, std::uint64_t v) { return pb_varint(static_cast<std::uint64_t>(field) << 3) + pb_varint(v); }
std::string spm_piece(const std::string& text, float score, int type) {
  std::string f(4, '\0');
  std::memcpy(f.data(), &score, 4);
  return pb_bytes(1, pb_bytes(1, text) + pb_varint(2 << 3 | 5) + f + pb_int(3, static_cast<std::uint64_t>(type)));
}
}  // namespace

TEST_CASE("SentencePiece user-defined pieces stay whole, the longest one wins", "[tokenize][text]") {
  using Spm = SentencePieceBpe;
  std::string model = spm_piece("<unk>", 0, 2) + spm_piece("<s>", 0, 3) + spm_piece("</s>", 0, 3);
  model += spm_piece("a", -1, 1) + spm_piece("b", -2, 1) + spm_piece("c", -3, 1) + spm_piece("ab", -0.5f, 1);
  model += spm_piece("<ab>", 0, 4) + spm_piece("<abc>", 0, 4) + spm_piece("<a", 0, 4);  // ids 7, 8, 9
  model += pb_bytes(2, pb_int(3, 2));                                   // trainer_spec: BPE
  model += pb_bytes(3, pb_bytes(1, "identity") + pb_int(3, 0));         // no dummy prefix
  const auto m = Spm::parse(model, "hand.model");
  REQUIRE(m.size() == 10);
  std::vector<std::int32_t> ids;
  // "<abc>" over its prefix "<a"; "<ab>" over "<a"; "<a" alone; "ab" merged; nothing merges across a
  // user-defined piece ("a<a" stays a, <a).
  m.encode("ab<abc>c<ab><aa<a", ids);
  CHECK(ids == std::vector<std::int32_t>{6, 8, 5, 7, 9, 3, 9});
  CHECK(m.decode(ids) == "ab<abc>c<ab><aa<a");
}

TEST_CASE("Qwen normalises to NFC, SentencePiece adds BOS and decodes", "[tokenize][text]") {
  ECGBENCH_REQUIRE_TEST_DATA("tokenizers");
  const auto qwen = HfTokenizer::from_directory(test_data_path / "qwen2.5-qwen3");
  CHECK(qwen.encode("caf" "e\xCC\x81") == qwen.encode("caf\xC3\xA9"));
  const auto llama3 = HfTokenizer::from_directory(test_data_path / "llama3");  // no normaliser
  CHECK(llama3.encode("caf" "e\xCC\x81", false) != llama3.encode("caf\xC3\xA9", false));
  const auto spm = HfTokenizer::from_sentencepiece(test_data_path / "llama2-sentencepiece/tokenizer.model");
  CHECK(spm.kind() == HfTokenizer::Kind::sentencepiece);
  const auto ids = spm.encode("Hello world");
  CHECK(ids == std::vector<std::int32_t>{1, 15043, 3186});  // <s> ▁Hello ▁world
  CHECK(spm.decode(ids, true) == "Hello world");
  CHECK(spm.decode(ids, false) == "<s>Hello world");
  CHECK(spm.encode("<s>Hi", false).front() == 1);  // control pieces are special added tokens
  CHECK(spm.id_to_token(15043) == "\xE2\x96\x81Hello");
  for (const std::string s : {"ECG: 60–100 bpm ♥ 心电图", "two  spaces", "tab\there"}) CHECK(spm.decode(spm.encode(s, false)) == s);
  CHECK(spm.bos_id() == 1);
  CHECK(spm.eos_id() == 2);
  CHECK(spm.unk_id() == 0);
  // Byte fallback: a character outside the 32 000 pieces becomes its UTF-8 bytes <0xXX> (id 3 + byte).
  const auto emoji = spm.encode("\xF0\x9F\xAB\x80", false);  // U+1FAC0 anatomical heart
  CHECK(emoji == std::vector<std::int32_t>{29871, 3 + 0xF0, 3 + 0x9F, 3 + 0xAB, 3 + 0x80});
  // A truncated model file is an error naming the file, never a crash.
  const std::string bytes = read_file(test_data_path / "llama2-sentencepiece/tokenizer.model");
  write_file_atomically(test::temp_dir() / "cut.model", bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_WITH(HfTokenizer::from_sentencepiece(test::temp_dir() / "cut.model"), Catch::Contains("cut.model") && Catch::Contains("malformed"));
}

TEST_CASE("WordPiece (BERT): normaliser, punctuation split, longest-match sub-words, [UNK]", "[tokenize][text]") {
  const auto dir = test::temp_dir() / "bert-vocab";
  std::filesystem::create_directories(dir);
  const std::vector<std::string> vocab{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello", "world",
                                       "!", ",", "the", "##s", "cafe", "\xE4\xB8\xAD", "\xE6\x96\x87", "a", "##b"};
  std::string txt;
  for (const auto& v : vocab) txt += v + "\n";
  write_file_atomically(dir / "vocab.txt", txt);
  const auto t = HfTokenizer::from_directory(dir);
  CHECK(t.kind() == HfTokenizer::Kind::wordpiece);
  // Lower-cased, accents stripped, punctuation split, "##" continuations, CLS/SEP around.
  CHECK(t.encode("UnAffable hello, World!") == std::vector<std::int32_t>{2, 5, 6, 7, 8, 11, 9, 10, 3});
  CHECK(t.encode("Caf\xC3\xA9 hellos", false) == std::vector<std::int32_t>{14, 8, 13});
  CHECK(t.encode("\xE4\xB8\xAD\xE6\x96\x87", false) == std::vector<std::int32_t>{15, 16});  // CJK characters stand alone
  CHECK(t.encode("xyz abbb unaff", false) == std::vector<std::int32_t>{1, 17, 18, 18, 18, 5, 6});
  CHECK(t.encode("hello\u00A0\tworld\x01", false) == std::vector<std::int32_t>{8, 9});  // clean_text
  CHECK(t.decode(t.encode("UnAffable hello, World!"), true) == "unaffable hello , world !");
  CHECK(t.decode(t.encode("hello [MASK] world", false)) == "hello [MASK] world");
  // tokenizer.json form, case kept.
  Json j{{"model", {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"}, {"max_input_chars_per_word", 100}, {"vocab", Json::object()}}},
         {"normalizer", {{"type", "BertNormalizer"}, {"lowercase", false}, {"clean_text", true}, {"handle_chinese_chars", true}, {"strip_accents", nullptr}}},
         {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
         {"post_processor", {{"type", "BertProcessing"}, {"sep", {"[SEP]", 3}}, {"cls", {"[CLS]", 2}}}},
         {"added_tokens", Json::array()}};
  for (std::size_t i = 0; i < vocab.size(); ++i) j["model"]["vocab"][vocab[i]] = i;
  j["model"]["vocab"]["Hello"] = 19;
  const auto cased = load_json(j, "wordpiece.json");
  CHECK(cased.encode("Hello hello") == std::vector<std::int32_t>{2, 19, 8, 3});
}

TEST_CASE("batch encoding equals one-by-one on several threads", "[tokenize][text]") {
  const auto t = load_json(toy_tokenizer_json({{"a", "b"}, {"ab", "c"}, {bytes_to_byte_level(" "), "ab"}}), "batch.json");
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back(std::string(static_cast<std::size_t>(i % 17), 'a') + " abc ab" + std::to_string(i));
  const auto batch = t.encode_batch(texts, true, 3);
  for (std::size_t i = 0; i < texts.size(); ++i) CHECK(batch[i] == t.encode(texts[i]));
}

TEST_CASE("bad tokenizer files and inputs give errors naming the file and the problem", "[tokenize][text]") {
  const auto dir = test::temp_dir();
  Json j = toy_tokenizer_json({{"a", "b"}});
  j["model"].erase("merges");
  write_json(dir / "nomerges.json", j);
  CHECK_THROWS_WITH(HfTokenizer::from_tokenizer_json(dir / "nomerges.json"), Catch::Contains("nomerges.json") && Catch::Contains("missing merges"));
  j = toy_tokenizer_json({});
  j["model"]["type"] = "Unigram";
  write_json(dir / "wp.json", j);
  CHECK_THROWS_WITH(HfTokenizer::from_tokenizer_json(dir / "wp.json"), Catch::Contains("unsupported model type 'Unigram'"));
  j = toy_tokenizer_json({{"a", "b"}});
  j["model"]["merges"].push_back("x zz");
  write_json(dir / "badmerge.json", j);
  CHECK_THROWS_WITH(HfTokenizer::from_tokenizer_json(dir / "badmerge.json"),
                    Catch::Contains("merge 1 'x zz'") && Catch::Contains("missing from the vocabulary"));
  // A byte without a token is dropped (no unk_token) or becomes the unknown token, as in HF tokenizers.
  j = toy_tokenizer_json({});
  j["model"]["vocab"].erase(bytes_to_byte_level("A"));
  write_json(dir / "nobyte.json", j);
  CHECK(HfTokenizer::from_tokenizer_json(dir / "nobyte.json").encode("AbA") == std::vector<std::int32_t>{'b'});
  j["model"]["unk_token"] = "c";
  write_json(dir / "nobyte-unk.json", j);
  CHECK(HfTokenizer::from_tokenizer_json(dir / "nobyte-unk.json").encode("AbA") == std::vector<std::int32_t>{'c', 'b', 'c'});
  j = toy_tokenizer_json({});
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  write_json(dir / "badregex.json", j);
  CHECK_THROWS_WITH(HfTokenizer::from_tokenizer_json(dir / "badregex.json"), Catch::Contains("cannot compile the split pattern"));
  write_file_atomically(dir / "trunc.json", std::string("{\"model\": {\"type\": \"BPE\", \"vocab\": {"));
  CHECK_THROWS_WITH(HfTokenizer::from_tokenizer_json(dir / "trunc.json"), Catch::Contains("trunc.json") && Catch::Contains("invalid JSON"));
  write_file_atomically(dir / "bad.model", std::string("this is not a protobuf"));
  CHECK_THROWS_WITH(HfTokenizer::from_sentencepiece(dir / "bad.model"), Catch::Contains("bad.model") && Catch::Contains("malformed SentencePiece model"));
  std::filesystem::create_directories(dir / "empty-model");
  CHECK_THROWS_WITH(HfTokenizer::from_directory(dir / "empty-model"), Catch::Contains("no tokenizer found"));
  write_file_atomically(dir / "vocab.json", std::string("{\"a\": 0}"));
  write_file_atomically(dir / "merges.txt", std::string("#version: 0.2\na b c\n"));
  CHECK_THROWS_WITH(HfTokenizer::from_gpt2_files(dir / "vocab.json", dir / "merges.txt"), Catch::Contains("merges.txt:2"));

  const auto t = load_json(toy_tokenizer_json({{"a", "b"}}), "ok.json");
  CHECK_THROWS_WITH(t.encode("ok \xC3\x28"), Catch::Contains("invalid UTF-8") && Catch::Contains("byte 3"));
  CHECK_THROWS_WITH(t.decode(std::vector<std::int32_t>{5000}), Catch::Contains("id 5000") && Catch::Contains("outside the vocabulary"));
  Json cfg{{"bos_token", "<nope>"}};
  write_json(dir / "tokenizer_config.json", cfg);
  auto t2 = t;
  CHECK_THROWS_WITH(t2.apply_config(dir / "tokenizer_config.json"), Catch::Contains("'<nope>' is not in the vocabulary"));
  CHECK_THROWS_WITH(encode_chat(t, ChatFormat::gpt2, std::vector<data::Turn>{}), Catch::Contains("no turns"));
}

TEST_CASE("the default system prompt header equals the shipped file", "[tokenize][chat]") {
  CHECK(default_system_prompt == read_file(std::filesystem::path(ECGBENCH_SOURCE_DIR) / "resources/system_prompt.txt"));
  CHECK(default_system_prompt.find("clinical cardiac electrophysiology") != std::string_view::npos);
}
