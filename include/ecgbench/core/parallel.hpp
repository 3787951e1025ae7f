// A small parallel-for over N independent jobs: no pool object to manage, work handed out in
// chunks through an atomic counter so uneven jobs balance. The first exception thrown by any job is
// rethrown on the calling thread after all workers stop.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace ecgbench {

/// Threads to use when the user asks for 0 ("all"): hardware concurrency, at least 1.
inline unsigned default_thread_count() { return std::max(1u, std::thread::hardware_concurrency()); }

/// Calls `fn(i)` for every i in [0, n) on up to `threads` threads (0 = all cores).
/// `fn` may also take (i, worker_index) to keep per-worker scratch buffers.
template <class Fn>
void parallel_for(std::size_t n, unsigned threads, Fn&& fn, std::size_t chunk = 1) {
  if (n == 0) return;
  if (threads == 0) threads = default_thread_count();
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, (n + chunk - 1) / chunk));
  auto call = [&](std::size_t i, unsigned w) {
    if constexpr (std::is_invocable_v<Fn&, std::size_t, unsigned>) fn(i, w);
    else fn(i);
  };
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) call(i, 0);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&](unsigned w) {
    while (!failed.load(std::memory_order_relaxed)) {
      const std::size_t begin = next.fetch_add(chunk);
      if (begin >= n) return;
      const std::size_t end = std::min(n, begin + chunk);
      try {
        for (std::size_t i = begin; i < end; ++i) call(i, w);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (unsigned w = 1; w < threads; ++w) pool.emplace_back(worker, w);
  worker(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace ecgbench
