// Decoding of WFDB signal files (signal(5)): every binary format PhysioNet uses, frames with
// several samples per signal, skew, byte offsets (MATLAB v4 `.mat` files are format 16 with a
// 24-byte offset), checksums and invalid-sample markers. Output is digital int32 samples.
#pragma once

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"

namespace ecgbench::io {

/// Marker for an invalid (missing) sample in decoded digital data; physical conversion gives NaN.
inline constexpr std::int32_t wfdb_invalid_sample = std::numeric_limits<std::int32_t>::min();

/// Bytes needed to store `n` consecutive samples of `format` (formats 212/310/311 pack several
/// samples per byte group; a trailing partial group is stored in its leading bytes).
inline std::uint64_t wfdb_bytes_for_samples(int format, std::uint64_t n) {
  switch (format) {
    case 8: case 80: return n;
    case 16: case 61: case 160: return 2 * n;
    case 24: return 3 * n;
    case 32: return 4 * n;
    case 212: return (3 * n + 1) / 2;  // 2 samples in 3 bytes; a lone last sample uses 2 bytes
    case 310: return 4 * (n / 3) + (n % 3 == 0 ? 0 : (n % 3 == 1 ? 2 : 4));
    case 311: return 4 * (n / 3) + (n % 3 == 0 ? 0 : (n % 3 == 1 ? 2 : 3));
    default: return 0;
  }
}

/// Number of whole samples of `format` that `bytes` bytes hold.
inline std::uint64_t wfdb_samples_in_bytes(int format, std::uint64_t bytes) {
  switch (format) {
    case 8: case 80: return bytes;
    case 16: case 61: case 160: return bytes / 2;
    case 24: return bytes / 3;
    case 32: return bytes / 4;
    case 212: return (bytes / 3) * 2 + (bytes % 3 >= 2 ? 1 : 0);
    case 310: return (bytes / 4) * 3 + (bytes % 4 >= 2 ? 1 : 0);
    case 311: return (bytes / 4) * 3 + (bytes % 4 >= 2 ? 1 : 0) + (bytes % 4 >= 3 ? 1 : 0);
    default: return 0;
  }
}

namespace detail {
inline std::int32_t sign_extend(std::uint32_t v, int bits) {
  const std::uint32_t m = 1u << (bits - 1);
  return static_cast<std::int32_t>((v ^ m) - m);
}
/// One group of a packed format: 212 (two 12-bit samples in 3 bytes: s0 = b0 | (b1 & 0x0f) << 8,
/// s1 = b2 | (b1 & 0xf0) << 4), 310 (three 10-bit samples in two little-endian 16-bit words: bits 1-10
/// of each word hold samples 0 and 1, the 5 high bits of both words sample 2), 311 (three 10-bit
/// samples in one little-endian 32-bit word: bits 0-9, 10-19, 20-29). Writes `count` samples.
inline void decode_packed_group(int format, const unsigned char* p, std::int32_t* out, std::uint64_t count) {
  auto mark = [](std::int32_t v, std::int32_t invalid) { return v == invalid ? wfdb_invalid_sample : v; };
  std::int32_t v[3];
  if (format == 212) {
    v[0] = mark(sign_extend(p[0] | ((p[1] & 0x0fu) << 8), 12), -2048);
    v[1] = mark(sign_extend(p[2] | ((p[1] & 0xf0u) << 4), 12), -2048);
  } else if (format == 310) {
    v[0] = mark(sign_extend((p[0] >> 1) | ((p[1] & 0x07u) << 7), 10), -512);
    v[1] = mark(sign_extend((p[2] >> 1) | ((p[3] & 0x07u) << 7), 10), -512);
    v[2] = mark(sign_extend(((p[1] >> 3) & 0x1fu) | (((p[3] >> 3) & 0x1fu) << 5), 10), -512);
  } else {
    const std::uint32_t w = p[0] | (p[1] << 8) | (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
    for (int k = 0; k < 3; ++k) v[k] = mark(sign_extend((w >> (10 * k)) & 0x3ffu, 10), -512);
  }
  for (std::uint64_t k = 0; k < count; ++k) out[k] = v[k];
}
}  // namespace detail

/// Decodes `n` samples of a sample stream (all signals of one file, frame-interleaved) into `out`.
/// Format 8 yields the raw first differences; the caller integrates them per signal.
/// Invalid-sample markers become `wfdb_invalid_sample`. `bytes` must hold the samples.
inline void decode_wfdb_samples(int format, std::span<const unsigned char> bytes, std::uint64_t n, std::int32_t* out) {
  const unsigned char* b = bytes.data();
  auto mark = [](std::int32_t v, std::int32_t invalid) { return v == invalid ? wfdb_invalid_sample : v; };
  switch (format) {
    case 8:
      for (std::uint64_t i = 0; i < n; ++i) out[i] = static_cast<std::int8_t>(b[i]);
      break;
    case 16:
      for (std::uint64_t i = 0; i < n; ++i) {
        std::int16_t v;
        std::memcpy(&v, b + 2 * i, 2);  // little-endian host (x86-64, aarch64)
        out[i] = mark(v, -32768);
      }
      break;
    case 61:
      for (std::uint64_t i = 0; i < n; ++i)
        out[i] = mark(static_cast<std::int16_t>(static_cast<std::uint16_t>((b[2 * i] << 8) | b[2 * i + 1])), -32768);
      break;
    case 80:
      for (std::uint64_t i = 0; i < n; ++i) out[i] = mark(static_cast<std::int32_t>(b[i]) - 128, -128);
      break;
    case 160:
      for (std::uint64_t i = 0; i < n; ++i)
        out[i] = mark(static_cast<std::int32_t>(b[2 * i] | (b[2 * i + 1] << 8)) - 32768, -32768);
      break;
    case 24:
      for (std::uint64_t i = 0; i < n; ++i) {
        const unsigned char* p = b + 3 * i;
        out[i] = mark(detail::sign_extend(p[0] | (p[1] << 8) | (static_cast<std::uint32_t>(p[2]) << 16), 24), -8388608);
      }
      break;
    case 32:
      for (std::uint64_t i = 0; i < n; ++i) {
        std::int32_t v;
        std::memcpy(&v, b + 4 * i, 4);
        out[i] = v;  // INT32_MIN is both WFDB's marker and ours
      }
      break;
    case 212:
    case 310:
    case 311: {
      // Packed formats: whole groups straight from the file, the last partial group through a
      // zero-padded copy so that no read passes the end of the data.
      const std::uint64_t per = format == 212 ? 2 : 3, group_bytes = format == 212 ? 3 : 4;
      const std::uint64_t full = n / per;
      for (std::uint64_t g = 0; g < full; ++g) detail::decode_packed_group(format, b + g * group_bytes, out + g * per, per);
      if (const std::uint64_t rest = n - full * per; rest > 0) {
        unsigned char tail[4] = {0, 0, 0, 0};
        const std::uint64_t have = std::min<std::uint64_t>(group_bytes, bytes.size() - std::min<std::uint64_t>(bytes.size(), full * group_bytes));
        std::memcpy(tail, b + full * group_bytes, have);
        detail::decode_packed_group(format, tail, out + full * per, rest);
      }
      break;
    }
    default:
      throw Error("unsupported WFDB format " + std::to_string(format));
  }
}

/// WFDB checksum: the low 16 bits of the sum of all samples. Headers write it signed (WFDB tools)
/// or unsigned (PTB-XL); both forms compare equal here.
inline bool wfdb_checksum_matches(std::int64_t sum, std::int64_t header_value) {
  return (static_cast<std::uint64_t>(sum) & 0xffffu) == (static_cast<std::uint64_t>(header_value) & 0xffffu);
}

}  // namespace ecgbench::io
