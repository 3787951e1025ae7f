// .npy header parser: a parsed header never promises more data than the buffer holds, and the
// header we write for its dtype and shape parses back to the same shape.
#include "ecgbench/core/npy.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ecgbench;
  return fuzz::guarded([&] {
    const npy::Header h = npy::parse_header(std::span<const unsigned char>(data, size), "fuzz.npy");
    ECGBENCH_FUZZ_ASSERT(h.data_offset <= size);
    ECGBENCH_FUZZ_ASSERT(h.count() * npy::item_size(h.dtype) <= size - h.data_offset);
    const std::string again = npy::make_header(h.dtype, h.shape);
    std::string buf = again + std::string(h.count() * npy::item_size(h.dtype), '\0');
    const npy::Header h2 = npy::parse_header(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(buf.data()), buf.size()), "fuzz2.npy");
    ECGBENCH_FUZZ_ASSERT(h2.shape == h.shape && h2.dtype == h.dtype);
  });
}
