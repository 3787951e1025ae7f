// WFDB sample decoding for every format: the first byte picks the format, the rest is signal data.
// The decoder is given exactly the bytes that n samples need (sanitizers check it stays inside).
#include <vector>

#include "ecgbench/io/wfdb_signal.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ecgbench;
  if (size < 1) return 0;
  static constexpr int formats[] = {8, 16, 24, 32, 61, 80, 160, 212, 310, 311};
  const int format = formats[data[0] % (sizeof formats / sizeof formats[0])];
  const std::span<const unsigned char> bytes(data + 1, size - 1);
  return fuzz::guarded([&] {
    const std::uint64_t n = io::wfdb_samples_in_bytes(format, bytes.size());
    ECGBENCH_FUZZ_ASSERT(io::wfdb_bytes_for_samples(format, n) <= bytes.size());
    std::vector<std::int32_t> out(n + 1, 12345);
    io::decode_wfdb_samples(format, bytes.first(io::wfdb_bytes_for_samples(format, n)), n, out.data());
    ECGBENCH_FUZZ_ASSERT(out[n] == 12345);  // nothing written past n samples
  });
}
