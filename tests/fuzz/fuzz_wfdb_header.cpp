// WFDB header parser: anything either parses or is an Error; a parsed header written back and
// parsed again gives the same text.
#include "ecgbench/io/wfdb_header.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ecgbench;
  return fuzz::guarded([&] {
    const io::WfdbHeader h = io::parse_wfdb_header(fuzz::as_text(data, size), "fuzz.hea");
    const std::string text = io::to_string(h);
    const io::WfdbHeader again = io::parse_wfdb_header(text, "fuzz-roundtrip.hea");
    ECGBENCH_FUZZ_ASSERT(io::to_string(again) == text);
  });
}
