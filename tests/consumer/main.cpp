// Compiles the umbrella header from outside the source tree and exercises a few parts.
#include <ecgbench/ecgbench.hpp>

#include <cstdio>

int main() {
  const std::vector<std::size_t> shape{3};
  const std::string header = ecgbench::npy::make_header(ecgbench::npy::DType::f32, shape);
  const auto lead = ecgbench::io::canonical_lead_index("AVR");
  if (header.size() % 64 != 0 || !lead || *lead != 3) return 1;
  // The text-tokenizer dependencies (PCRE2, ICU) link through the exported targets.
  int pieces = 0;
  ecgbench::tokenize::SplitRegex(std::string(ecgbench::tokenize::gpt2_split_pattern)).split("it's a test", [&](std::string_view) { ++pieces; });
  if (pieces != 4 || ecgbench::tokenize::nfc("e\xCC\x81") != "\xC3\xA9") return 1;
  std::printf("ecgbench %s consumer ok\n", ecgbench::version);
  return 0;
}
