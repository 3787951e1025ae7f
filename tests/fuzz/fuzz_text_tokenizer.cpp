// Text tokenizer files: the first byte picks tokenizer.json, vocab.json + merges.txt (split at the
// first NUL), a SentencePiece model, or a BERT vocab.txt. A tokenizer that loads encodes text made
// from the input; byte-level tokenizers with all 256 byte tokens decode it back exactly.
#include <vector>

#include "ecgbench/tokenize/hf_tokenizer.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ecgbench;
  if (size < 1) return 0;
  const int kind = data[0] % 4;
  const std::string_view body = fuzz::as_text(data + 1, size - 1);
  return fuzz::guarded([&] {
    tokenize::HfTokenizer tok;
    if (kind == 0) {
      tok = tokenize::HfTokenizer::from_tokenizer_json(fuzz::write_scratch("tokenizer.json", body));
    } else if (kind == 1) {
      const auto cut = body.find('\0');
      const auto vocab = body.substr(0, cut), merges = cut == std::string_view::npos ? std::string_view() : body.substr(cut + 1);
      tok = tokenize::HfTokenizer::from_gpt2_files(fuzz::write_scratch("vocab.json", vocab), fuzz::write_scratch("merges.txt", merges));
    } else if (kind == 2) {
      tok = tokenize::HfTokenizer::from_sentencepiece(fuzz::write_scratch("tokenizer.model", body));
    } else {
      tok = tokenize::HfTokenizer::from_bert_vocab(fuzz::write_scratch("vocab.txt", body));
    }
    std::string text;
    for (std::size_t i = 0; i < body.size() && text.size() < 256; ++i) {
      const char c = body[i];
      if (static_cast<unsigned char>(c) < 0x80) text += c;  // keep it valid UTF-8
    }
    text += " ECG \xE2\x99\xA5 \xE5\xBF\x83";
    const auto ids = tok.encode(text, true);
    for (auto id : ids) ECGBENCH_FUZZ_ASSERT(id >= 0 && static_cast<std::size_t>(id) < tok.vocab_size());
    const std::string back = tok.decode(ids);
    (void)back;
  });
}
