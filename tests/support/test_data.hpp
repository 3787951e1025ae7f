// Locates the shared fixtures (../shared/data) for tests. A test that needs them calls
// ECGBENCH_REQUIRE_TEST_DATA(sub): under CI=true a missing folder fails the test; otherwise the test
// is skipped with a message (Catch2 v2 has no SKIP, so it WARNs and returns).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace ecgbench::test {

inline std::filesystem::path data_dir() {
  if (const char* env = std::getenv("ECGBENCH_TEST_DATA"); env && *env) return env;
  return std::filesystem::path(ECGBENCH_SOURCE_DIR) / ".." / "shared" / "data";
}

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

/// A scratch directory unique to this test process, removed on exit.
inline std::filesystem::path temp_dir() {
  static const struct Scratch {
    std::filesystem::path path;
    Scratch() {
      path = std::filesystem::temp_directory_path() / ("ecgbench-test-" + std::to_string(::getpid()));
      std::filesystem::create_directories(path);
    }
    ~Scratch() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } scratch;
  return scratch.path;
}

/// Debian's wordnet-base (METEOR's synonyms), or $ECGBENCH_WORDNET.
inline std::filesystem::path wordnet_dir() {
  if (const char* env = std::getenv("ECGBENCH_WORDNET"); env && *env) return env;
  return "/usr/share/wordnet";
}

}  // namespace ecgbench::test

#define ECGBENCH_REQUIRE_TEST_DATA(sub)                                                              \
  const std::filesystem::path test_data_path = ::ecgbench::test::data_dir() / (sub);                \
  if (!std::filesystem::exists(test_data_path)) {                                                   \
    if (::ecgbench::test::running_in_ci()) FAIL("test data missing under CI: " << test_data_path);  \
    WARN("skipped: test data not found at " << test_data_path << " (set ECGBENCH_TEST_DATA)");      \
    return;                                                                                          \
  }

// WordNet is a system package, not a fixture: missing under CI fails, otherwise skips with a message.
#define ECGBENCH_REQUIRE_WORDNET()                                                                     \
  if (!std::filesystem::exists(::ecgbench::test::wordnet_dir() / "index.noun")) {                     \
    if (::ecgbench::test::running_in_ci()) FAIL("WordNet missing under CI: " << ::ecgbench::test::wordnet_dir()); \
    WARN("skipped: WordNet not found at " << ::ecgbench::test::wordnet_dir() << " (apt-get install wordnet-base)"); \
    return;                                                                                            \
  }

// A further fixture file or folder a test needs (after ECGBENCH_REQUIRE_TEST_DATA): same rule.
#define ECGBENCH_REQUIRE_FIXTURE(path_expr)                                                         \
  do {                                                                                              \
    const std::filesystem::path fixture_path_ = (path_expr);                                        \
    if (!std::filesystem::exists(fixture_path_)) {                                                  \
      if (::ecgbench::test::running_in_ci()) FAIL("test data missing under CI: " << fixture_path_); \
      WARN("skipped: test data not found at " << fixture_path_ << " (set ECGBENCH_TEST_DATA)");     \
      return;                                                                                       \
    }                                                                                               \
  } while (false)
