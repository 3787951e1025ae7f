// Starting the ranks of a data-parallel job on one machine (ecgbench-launch), torch-free: fork/exec
// with torchrun's environment variables, signal forwarding, and fail-fast supervision (a rank that
// exits non-zero or dies stops the others: SIGTERM, then SIGKILL after a grace period).
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ecgbench/core/error.hpp"

namespace ecgbench {

namespace detail {
inline std::atomic<int> launch_signal{0};
inline void on_launch_signal(int s) { launch_signal.store(s); }
}  // namespace detail

/// A TCP port that is free now (the kernel's choice for port 0).
inline int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error("cannot open a socket to find a free port");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw Error("cannot find a free TCP port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

/// Runs `command` as `nproc` ranks; returns 0 when all succeed, else the first failing rank's exit
/// status (128 + signal for a rank killed by a signal).
inline int launch_ranks(const std::vector<std::string>& command, int nproc, const std::string& addr, int port, double grace_seconds) {
  if (command.empty()) throw Error("no program to launch");
  if (nproc < 1) throw Error("nproc must be at least 1");
  if (port == 0) port = free_tcp_port();
  std::vector<pid_t> pids;
  struct sigaction sa {};
  sa.sa_handler = detail::on_launch_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  for (int r = 0; r < nproc; ++r) {
    const pid_t pid = ::fork();
    if (pid < 0) throw Error("fork failed");
    if (pid == 0) {
      ::setenv("RANK", std::to_string(r).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", addr.c_str(), 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      std::vector<char*> argv;
      for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      std::fprintf(stderr, "ecgbench-launch: cannot run '%s': %s\n", argv[0], std::strerror(errno));
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  int status_out = 0, live = nproc;
  bool stopping = false;
  auto deadline = std::chrono::steady_clock::time_point::max(), term_at = deadline;
  auto stop_all = [&](int sig) {
    for (auto p : pids)
      if (p > 0) ::kill(p, sig);
  };
  while (live > 0) {
    if (const int s = detail::launch_signal.exchange(0)) {
      stop_all(s);
      if (!stopping) stopping = true, deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(grace_seconds * 1000));
      if (status_out == 0) status_out = 128 + s;
    }
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, WNOHANG);
    if (done > 0) {
      for (std::size_t r = 0; r < pids.size(); ++r)
        if (pids[r] == done) {
          pids[r] = -1;
          --live;
          const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          // Every rank that fails on its own is named (a peer's failure often makes the others exit
          // too, in either order); ranks stopped by us afterwards are not.
          if (code != 0 && stopping && WIFEXITED(status)) std::fprintf(stderr, "ecgbench-launch: rank %zu exited with status %d\n", r, code);
          if (code != 0 && !stopping) {
            std::fprintf(stderr, "ecgbench-launch: rank %zu %s %d; stopping the other ranks\n", r, WIFEXITED(status) ? "exited with status" : "was killed by signal",
                         WIFEXITED(status) ? code : WTERMSIG(status));
            status_out = code;
            stopping = true;
            // A peer's failure often makes the others fail too (a closed connection), so the first
            // rank reaped need not be the culprit: give ranks a moment to exit on their own (and be
            // named) before stopping them.
            term_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(std::min(grace_seconds, 1.0) * 1000));
          }
        }
      continue;
    }
    if (stopping && std::chrono::steady_clock::now() > term_at) {
      stop_all(SIGTERM);
      term_at = std::chrono::steady_clock::time_point::max();
      deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(grace_seconds * 1000));
    }
    if (stopping && std::chrono::steady_clock::now() > deadline) {
      stop_all(SIGKILL);
      deadline = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status_out;
}

}  // namespace ecgbench
