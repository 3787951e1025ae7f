// A minimal writer of stored (uncompressed) zip archives, as torch.save lays them out, for tests of
// the PyTorch checkpoint reader (hand-made and damaged archives).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ecgbench::test {

inline std::uint32_t crc32(const std::string& s) {
  std::uint32_t c = 0xffffffffu;
  for (unsigned char ch : s) {
    c ^= ch;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

/// Archive bytes holding `members` (name, content) in order.
inline std::string make_zip(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out, central;
  auto put = [](std::string& s, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  for (const auto& [name, data] : members) {
    const auto offset = out.size();
    const auto crc = crc32(data);
    put(out, 0x04034b50, 4), put(out, 20, 2), put(out, 0, 2), put(out, 0, 2), put(out, 0, 2), put(out, 0, 2);
    put(out, crc, 4), put(out, data.size(), 4), put(out, data.size(), 4), put(out, name.size(), 2), put(out, 0, 2);
    out += name;
    out += data;
    put(central, 0x02014b50, 4), put(central, 20, 2), put(central, 20, 2), put(central, 0, 2), put(central, 0, 2);
    put(central, 0, 2), put(central, 0, 2), put(central, crc, 4), put(central, data.size(), 4), put(central, data.size(), 4);
    put(central, name.size(), 2), put(central, 0, 2), put(central, 0, 2), put(central, 0, 2), put(central, 0, 2), put(central, 0, 4);
    put(central, offset, 4);
    central += name;
  }
  const auto dir_offset = out.size();
  out += central;
  put(out, 0x06054b50, 4), put(out, 0, 2), put(out, 0, 2), put(out, members.size(), 2), put(out, members.size(), 2);
  put(out, central.size(), 4), put(out, dir_offset, 4), put(out, 0, 2);
  return out;
}

}  // namespace ecgbench::test
