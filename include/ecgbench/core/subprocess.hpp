// Running another ecgbench program from one (the demo's steps, ecgbench-eval's BERTScore helper):
// the folder of the running executable, and a child process with argv, a working folder and an
// exit status checked (no shell, so arguments need no quoting).
#pragma once

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ecgbench/core/error.hpp"

extern char** environ;

namespace ecgbench {

/// The folder holding the running program (apps sit beside each other).
inline std::filesystem::path own_exe_dir() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : p.parent_path();
}

/// Runs `args` (args[0]: a path, or a bare name resolved beside this program) in `cwd` (empty:
/// the current folder) and waits. Returns the exit status (128 + signal when killed); throws when
/// the program cannot be started.
inline int run_program(std::vector<std::string> args, const std::filesystem::path& cwd = {}) {
  if (args.empty()) throw Error("run_program: no program given");
  if (args[0].find('/') == std::string::npos) args[0] = (own_exe_dir() / args[0]).string();
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw Error({args[0], {}, {}, {}}, "cannot start the program (is it built?)");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw Error({args[0], {}, {}, {}}, "waitpid failed");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace ecgbench
