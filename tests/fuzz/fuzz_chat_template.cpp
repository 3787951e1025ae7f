// Chat-template input: turns (split at NUL bytes) and options taken from the input, through every
// chat format. Labels are always -100 or the id at that position, padding fills exactly pad_to_max.
#include <vector>

#include "ecgbench/tokenize/chat_template.hpp"
#include "fuzz_support.hpp"

namespace {
const ecgbench::tokenize::HfTokenizer& toy_tokenizer() {
  static const ecgbench::tokenize::HfTokenizer t = [] {
    using namespace ecgbench;
    Json vocab = Json::object();
    for (int b = 0; b < 256; ++b) vocab[tokenize::bytes_to_byte_level(std::string(1, static_cast<char>(b)))] = b;
    Json added = Json::array();
    int id = 256;
    for (const char* s : {"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>",
                          "<bos>", "<start_of_turn>", "<end_of_turn>", "<|endoftext|>", "</s>", "<signal>"})
      added.push_back({{"id", id++}, {"content", s}, {"special", true}});
    const Json j{{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", Json::array()}}},
                 {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
                 {"decoder", {{"type", "ByteLevel"}}},
                 {"added_tokens", added}};
    auto tok = tokenize::HfTokenizer::from_tokenizer_json(fuzz::write_scratch("chat-tokenizer.json", j.dump()));
    tok.set_pad_id(0);
    return tok;
  }();
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ecgbench;
  if (size < 3) return 0;
  const auto& tok = toy_tokenizer();
  const auto format = static_cast<tokenize::ChatFormat>(data[0] % 5);
  tokenize::ChatEncodeOptions opt;
  opt.pad_to_max = data[1] % 4 == 0 ? 0 : data[1];
  opt.truncation = data[2] % 2 ? tokenize::Truncation::keep_first : tokenize::Truncation::keep_last;
  if (data[2] & 2) opt.signal_placeholder.clear();
  if (data[2] & 4) opt.ecg_token_ids = std::vector<std::int32_t>(static_cast<std::size_t>(data[1]) * 3, 65);
  if (data[2] & 8) opt.system_prompt = "system";
  opt.add_generation_prompt = data[2] & 16;
  opt.min_ecg_tokens = 1 + data[1] % 50;
  std::vector<data::Turn> turns;
  std::string_view rest = fuzz::as_text(data + 3, size - 3);
  for (int role = 0; !rest.empty(); role ^= 1) {
    const auto cut = rest.find('\0');
    turns.push_back({role ? data::Role::assistant : data::Role::user, std::string(rest.substr(0, cut))});
    rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 1);
  }
  return fuzz::guarded([&] {
    const auto e = tokenize::encode_chat(tok, format, turns, opt);
    ECGBENCH_FUZZ_ASSERT(e.labels.size() == e.ids.size() && e.attention_mask.size() == e.ids.size() && e.position_ids.size() == e.ids.size());
    if (opt.pad_to_max) ECGBENCH_FUZZ_ASSERT(e.ids.size() <= opt.pad_to_max);
    if (opt.pad_to_max && !opt.ecg_token_ids.empty()) ECGBENCH_FUZZ_ASSERT(e.ids.size() == opt.pad_to_max);
    for (std::size_t i = 0; i < e.ids.size(); ++i) ECGBENCH_FUZZ_ASSERT(e.labels[i] == tokenize::ignore_label || e.labels[i] == e.ids[i]);
    for (auto p : e.signal_positions) ECGBENCH_FUZZ_ASSERT(p < e.ids.size());
  });
}
