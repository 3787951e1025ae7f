// Progress for long work (preprocessing, tokenizer training): count, rate and ETA.
// On a terminal a bar redrawn in place; otherwise (CI logs, pipes) one line every few seconds;
// nothing at all when quiet. `tick` is thread-safe so parallel workers can share one reporter.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <string>

namespace ecgbench {

enum class ProgressStyle { automatic, bar, lines, quiet };

class Progress {
 public:
  using Clock = std::chrono::steady_clock;

  /// `total` = 0 means unknown (no ETA). `unit` names what is counted ("records", "merges").
  Progress(std::string label, std::size_t total, std::string unit = "items",
           ProgressStyle style = ProgressStyle::automatic, std::FILE* out = stderr)
      : label_(std::move(label)), unit_(std::move(unit)), total_(total), out_(out), start_(Clock::now()),
        last_(start_) {
    if (style == ProgressStyle::automatic) style = isatty(fileno(out)) ? ProgressStyle::bar : ProgressStyle::lines;
    style_ = style;
  }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress() { finish(); }

  void tick(std::size_t n = 1) {
    const std::size_t done = done_.fetch_add(n) + n;
    if (style_ == ProgressStyle::quiet) return;
    const auto now = Clock::now();
    const auto interval = style_ == ProgressStyle::bar ? std::chrono::milliseconds(100) : std::chrono::seconds(5);
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock() || now - last_ < interval) return;
    last_ = now;
    draw(done, now, false);
  }

  /// Prints the final line once (also called by the destructor).
  void finish() {
    if (finished_.exchange(true) || style_ == ProgressStyle::quiet) return;
    std::lock_guard lock(mutex_);
    draw(done_.load(), Clock::now(), true);
  }

  [[nodiscard]] std::size_t done() const { return done_.load(); }
  [[nodiscard]] double elapsed_seconds() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
  }
  /// Items per second so far.
  [[nodiscard]] double rate() const {
    const double s = elapsed_seconds();
    return s > 0 ? static_cast<double>(done()) / s : 0.0;
  }

  /// "1h02m03s" / "2m05s" / "7s": compact durations for ETA.
  static std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    auto s = static_cast<long long>(seconds + 0.5);
    const long long h = s / 3600, m = (s % 3600) / 60;
    s %= 60;
    char buf[48];
    if (h > 0) std::snprintf(buf, sizeof buf, "%lldh%02lldm%02llds", h, m, s);
    else if (m > 0) std::snprintf(buf, sizeof buf, "%lldm%02llds", m, s);
    else std::snprintf(buf, sizeof buf, "%llds", s);
    return buf;
  }

 private:
  void draw(std::size_t done, Clock::time_point now, bool final) {
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double r = secs > 0 ? static_cast<double>(done) / secs : 0.0;
    std::string line = label_ + ": " + std::to_string(done);
    if (total_ > 0) line += "/" + std::to_string(total_);
    char buf[96];
    std::snprintf(buf, sizeof buf, " %s, %.1f %s/s", unit_.c_str(), r, unit_.c_str());
    line += buf;
    if (final) line += ", " + format_duration(secs);
    else if (total_ > 0 && r > 0) line += ", ETA " + format_duration(static_cast<double>(total_ - std::min(done, total_)) / r);
    if (style_ == ProgressStyle::bar) {
      std::string bar;
      if (total_ > 0) {
        const int width = 24;
        const int filled = static_cast<int>(width * std::min(1.0, static_cast<double>(done) / static_cast<double>(total_)));
        bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
      }
      std::fprintf(out_, "\r%s%s\033[K%s", bar.c_str(), line.c_str(), final ? "\n" : "");
    } else {
      std::fprintf(out_, "%s\n", line.c_str());
    }
    std::fflush(out_);
  }

  std::string label_, unit_;
  std::size_t total_;
  std::FILE* out_;
  ProgressStyle style_{};
  Clock::time_point start_, last_;
  std::atomic<std::size_t> done_{0};
  std::atomic<bool> finished_{false};
  std::mutex mutex_;
};

}  // namespace ecgbench
