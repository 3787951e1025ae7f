// Minimal leveled logging to stderr. Apps set the level from --quiet/--verbose; library code
// logs warnings (checksum mismatch, NaN replaced) instead of silently changing data.
#pragma once

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string_view>

namespace ecgbench::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

namespace detail {
inline std::atomic<Level>& level_ref() {
  static std::atomic<Level> level{Level::info};
  return level;
}
inline std::atomic<std::size_t>& warning_count_ref() {
  static std::atomic<std::size_t> n{0};
  return n;
}
inline std::mutex& sink_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace detail

inline void set_level(Level l) { detail::level_ref().store(l); }
inline Level level() { return detail::level_ref().load(); }
/// Number of warnings emitted so far (also counted when the level hides them); tests use it.
inline std::size_t warning_count() { return detail::warning_count_ref().load(); }

inline void write(Level l, std::string_view msg) {
  if (l == Level::warn) detail::warning_count_ref().fetch_add(1);
  if (l < level()) return;
  static constexpr const char* names[] = {"debug", "info", "warning", "error"};
  std::lock_guard lock(detail::sink_mutex());
  std::fprintf(stderr, "ecgbench %s: %.*s\n", names[static_cast<int>(l)], static_cast<int>(msg.size()),
               msg.data());
}

inline void debug(std::string_view m) { write(Level::debug, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void warn(std::string_view m) { write(Level::warn, m); }
inline void error(std::string_view m) { write(Level::error, m); }

}  // namespace ecgbench::log
