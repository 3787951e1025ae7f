// Read-only memory map of a whole file (RAII). Signal files and .npy shards are read through it so
// that large data sets are paged in on demand instead of copied.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <utility>

#include "ecgbench/core/error.hpp"

namespace ecgbench {

class MappedFile {
 public:
  MappedFile() = default;
  explicit MappedFile(const std::filesystem::path& path) : path_(path.string()) {
    const int fd = ::open(path_.c_str(), O_RDONLY);
    if (fd < 0) throw Error({path_, {}, {}, {}}, std::string("cannot open file: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      throw Error({path_, {}, {}, {}}, "cannot stat file");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      // Small files (signal files, shards up to 64 MiB) are pre-faulted in one call: reading them
      // page by page through faults costs more than the read itself.
      const int flags = MAP_PRIVATE | (size_ <= (std::size_t{64} << 20) ? MAP_POPULATE : 0);
      void* p = ::mmap(nullptr, size_, PROT_READ, flags, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        throw Error({path_, {}, {}, {}}, std::string("cannot map file: ") + std::strerror(errno));
      }
      data_ = static_cast<const unsigned char*>(p);
    }
    ::close(fd);
  }
  MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }
  MappedFile& operator=(MappedFile&& o) noexcept {
    if (this != &o) {
      unmap();
      path_ = std::move(o.path_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() { unmap(); }

  [[nodiscard]] std::span<const unsigned char> bytes() const { return {data_, size_}; }
  [[nodiscard]] const unsigned char* data() const { return data_; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  void unmap() {
    if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
    data_ = nullptr;
  }
  std::string path_;
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ecgbench
