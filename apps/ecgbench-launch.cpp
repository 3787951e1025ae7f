// ecgbench-launch: starts N copies of a program on this machine as the ranks of a data-parallel job,
// with torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT). Signals (Ctrl-C, SIGTERM) are forwarded to every rank; when a rank fails, the others
// are stopped and the launcher exits with that rank's status, so one failing rank ends the job with
// its own message instead of leaving the rest waiting on a collective.
#include <CLI/CLI.hpp>

#include "ecgbench/core/launch.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Run a program as N data-parallel ranks on this machine (torchrun's environment)"};
  int nproc = 2, port = 0;
  std::string addr = "127.0.0.1";
  double grace = 5.0;
  std::vector<std::string> command;
  app.add_option("--nproc", nproc, "number of ranks")->check(CLI::Range(1, 1024))->capture_default_str();
  app.add_option("--master-port", port, "rendezvous TCP port (default: a free one)");
  app.add_option("--master-addr", addr, "rendezvous address")->capture_default_str();
  app.add_option("--grace", grace, "seconds the other ranks get to stop after one fails, before SIGKILL")->capture_default_str();
  app.add_option("command", command, "program and its arguments (after --)")->required();
  app.allow_extras(false);
  CLI11_PARSE(app, argc, argv);
  try {
    return ecgbench::launch_ranks(command, nproc, addr, port, grace);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecgbench-launch: %s\n", e.what());
    return 1;
  }
}
