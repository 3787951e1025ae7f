// Atomic output: write to `path.tmp.<pid>.<n>` in the same directory, flush, fsync, then rename over
// `path`. A crash or an exception leaves either the old file or the new one, never half a file.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

#include "ecgbench/core/error.hpp"

namespace ecgbench {

namespace detail {
inline std::string unique_temp_name(const std::filesystem::path& target) {
  static std::atomic<unsigned> counter{0};
  return target.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
}
inline void fsync_path(const std::string& p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}
}  // namespace detail

/// Calls `write(stream)` on a temporary file and renames it to `path` when it returns normally.
/// Any exception from `write` removes the temporary and propagates. Parent directories are created.
/// `durable` = false skips the fsync: for outputs that are validated when read back (a power loss
/// can then leave a short file, never a wrong one that passes validation).
inline void write_file_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write, bool durable = true) {
  namespace fs = std::filesystem;
  if (path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw Error({path.string(), {}, {}, {}}, "cannot create directory " + path.parent_path().string() + ": " + ec.message());
  }
  const std::string tmp = detail::unique_temp_name(path);
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error({path.string(), {}, {}, {}}, std::string("cannot open for writing: ") + std::strerror(errno));
      write(out);
      out.flush();
      if (!out) throw Error({path.string(), {}, {}, {}}, "write failed (disk full?)");
    }
    if (durable) detail::fsync_path(tmp);
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw Error({path.string(), {}, {}, {}}, "cannot rename temporary file: " + ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

inline void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  write_file_atomically(path, [&](std::ostream& o) { o.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

/// Reads a whole file; a missing or unreadable file is an `Error` naming it.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error({path.string(), {}, {}, {}}, std::string("cannot open file: ") + std::strerror(errno));
  std::string s;
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) throw Error({path.string(), {}, {}, {}}, "cannot determine file size");
  s.resize(static_cast<std::size_t>(size));
  in.seekg(0);
  in.read(s.data(), size);
  if (!in) throw Error({path.string(), {}, {}, {}}, "read failed");
  return s;
}

}  // namespace ecgbench
