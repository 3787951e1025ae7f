// Shared helpers for the libFuzzer targets. A target returns normally on the toolkit's Error (bad
// input handled as designed); any other exception escapes and libFuzzer reports it as a crash, and
// broken invariants abort through ECGBENCH_FUZZ_ASSERT.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "ecgbench/core/error.hpp"

#define ECGBENCH_FUZZ_ASSERT(cond)                                                      \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace ecgbench::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) { return {reinterpret_cast<const char*>(data), size}; }

/// A per-process scratch file for parsers that read paths (memory-backed when /dev/shm exists).
inline std::filesystem::path scratch_file(const std::string& name) {
  static const std::filesystem::path dir = [] {
    std::filesystem::path d = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    d /= "ecgbench-fuzz-" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir / name;
}

inline std::filesystem::path write_scratch(const std::string& name, std::string_view bytes) {
  const auto p = scratch_file(name);
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p;
}

/// Runs `fn`; the toolkit's Error is the expected outcome for bad input.
template <class Fn>
int guarded(Fn&& fn) {
  try {
    fn();
  } catch (const ecgbench::Error&) {
  }
  return 0;
}

}  // namespace ecgbench::fuzz
