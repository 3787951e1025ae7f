// The whitelist pickle reader behind upstream ECG-Byte imports: never executes anything, never
// crashes; a parsed value is one of the allowed kinds.
#include "ecgbench/tokenize/pickle_reader.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ecgbench;
  return fuzz::guarded([&] { (void)tokenize::read_pickle(fuzz::as_text(data, size), "fuzz.pkl"); });
}
