// Runs a fuzz target over files and folders given on the command line (regression inputs), so the
// targets double as unit tests in the normal build. Exit 0 when every input was handled.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::size_t n = 0;
  auto run = [&](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    ++n;
  };
  // A missing or empty regression folder is an error, not an empty pass.
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <regression folder or file>...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path p = argv[i];
    const std::size_t before = n;
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p))
        if (e.is_regular_file()) run(e.path());
    } else if (std::filesystem::exists(p)) {
      run(p);
    } else {
      std::fprintf(stderr, "%s: no such regression folder or file\n", p.c_str());
      return 2;
    }
    if (n == before) {
      std::fprintf(stderr, "%s: holds no regression inputs\n", p.c_str());
      return 2;
    }
  }
  // Always exercise a few edge inputs too.
  for (const std::string s : {std::string(), std::string(1, '\0'), std::string("\xff\xff\xff\xff"), std::string(64, 'a')}) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    ++n;
  }
  std::printf("replayed %zu inputs\n", n);
  return 0;
}
