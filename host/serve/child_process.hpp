// host/serve/child_process.hpp — the child processes of `weir serve`: each pipeline step and
// each hosted service runs as `weir ...` in its own process, so a plugin that crashes takes
// down only its child (DESIGN.md §8).
//
// SpawnChild() forks and execs with stdin from /dev/null, stdout and stderr appended to a log
// file, every other descriptor closed (the daemon's lock, sockets and database stay with the
// daemon), default signal dispositions and an empty signal mask (the daemon blocks its signals
// for signalfd), its own process group (a Ctrl-C on the terminal reaches only the daemon,
// which forwards SIGTERM), and PR_SET_PDEATHSIG = SIGTERM: a child whose daemon died (kill -9)
// finishes its batch and stops instead of running on unsupervised.
//
//   auto pid = SpawnChild({"/usr/local/bin/weir", "run", "demo"}, logs / "serve-children.log");
//   ...
//   if (auto exit = TryReap(*pid)) spdlog::info("{}", exit->Describe());
#ifndef WEIR_HOST_SERVE_CHILD_PROCESS_HPP
#define WEIR_HOST_SERVE_CHILD_PROCESS_HPP

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "weir/plugin.hpp"

namespace weir::host::serve {

/// How a child process ended.
struct ChildExit {
  bool signaled = false;
  int code = 0;    ///< exit code (when !signaled)
  int signal = 0;  ///< terminating signal (when signaled)
  /// "exited with code 1" or "killed by signal 11 (SIGSEGV)".
  std::string Describe() const;
  static ChildExit FromWaitStatus(int status);
  static ChildExit Exited(int code) { return ChildExit{false, code, 0}; }
  static ChildExit Killed(int sig) { return ChildExit{true, 0, sig}; }
};

/// "SIGSEGV" (or "signal N" for one without a name).
std::string SignalName(int sig);

/// Starts argv[0] (an absolute path) with `argv`. The log file is created if needed and
/// appended to. Must be called from the daemon's main thread (PR_SET_PDEATHSIG follows the
/// thread that forked).
Result<pid_t> SpawnChild(const std::vector<std::string>& argv, const std::filesystem::path& log);

/// Reaps `pid` if it has ended (WNOHANG); nullopt while it runs.
std::optional<ChildExit> TryReap(pid_t pid);

}  // namespace weir::host::serve

#endif  // WEIR_HOST_SERVE_CHILD_PROCESS_HPP
