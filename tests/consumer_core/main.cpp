// Uses the torch-free component: I/O, signal kernels, tokenizers, metrics, representations.
#include <cstdio>

#include "ecgbench/core/core.hpp"
#include "ecgbench/eval/eval.hpp"
#include "ecgbench/io/io.hpp"
#include "ecgbench/represent/represent.hpp"
#include "ecgbench/signal/signal.hpp"
#include "ecgbench/tokenize/tokenize.hpp"

int main() {
  std::vector<float> x(12 * 500);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 50) / 50.0f;
  const auto img = ecgbench::represent::stacked_signal(x, 12);
  const auto sym = ecgbench::tokenize::symbolize(x);
  std::printf("core consumer: stacked %dx%d, %zu symbols, BLEU %.3f\n", img.width, img.height, sym.symbols.size(),
              ecgbench::eval::corpus_bleu({"a b c d"}, {"a b c d"}));
  return img.height == 12 ? 0 : 1;
}
