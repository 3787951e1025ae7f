// ECG-Byte tokenizer JSON: a tokenizer that loads survives JSON round trip with the same merges and
// encodes/decodes its own alphabet losslessly.
#include "ecgbench/core/json.hpp"
#include "ecgbench/tokenize/ecg_byte_tokenizer.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ecgbench;
  return fuzz::guarded([&] {
    const auto tok = tokenize::EcgByteTokenizer::from_json(parse_json(fuzz::as_text(data, size), "fuzz.json"), "fuzz.json");
    const auto again = tokenize::EcgByteTokenizer::from_json(tok.to_json(), "roundtrip.json");
    ECGBENCH_FUZZ_ASSERT(again.merges() == tok.merges());
    std::string text;
    for (std::size_t i = 0; i < 64 && !tok.alphabet().empty(); ++i) text += tok.alphabet()[(i * 7) % tok.alphabet().size()];
    for (auto mode : {tokenize::EncodeMode::bpe, tokenize::EncodeMode::longest_match})
      ECGBENCH_FUZZ_ASSERT(tok.decode(tok.encode(text, mode)) == text);
  });
}
