// tests/s3/moto/subprocess.hpp — starting and stopping helper processes from tests
// (moto_server, the aws CLI): PATH lookup, spawn with extra environment, output to files,
// and an owner that always stops what it started (SIGTERM, then SIGKILL, then reap).
//
//   auto path = weir::s3test::FindOnPath("moto_server");
//   weir::s3test::Subprocess p({*path, "-p", "5000"}, {{"X", "1"}}, log_path);
//   auto r = weir::s3test::RunCommand({"aws", "--version"}, {});   // waits; r.exit_code, r.out
#ifndef WEIR_TESTS_S3_MOTO_SUBPROCESS_HPP
#define WEIR_TESTS_S3_MOTO_SUBPROCESS_HPP

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace weir::s3test {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

/// The absolute path of `name` found in $PATH, or nullopt.
std::optional<std::string> FindOnPath(const std::string& name);

/// True when the CI environment variable is "true" (missing services then fail tests).
bool RunningInCi();

/// A port that was free on 127.0.0.1 a moment ago (bind to 0, read it, close).
int FreeLoopbackPort();

/// True once something accepts TCP connections on 127.0.0.1:port.
bool PortAccepts(int port);

/// A child process in its own process group; the destructor stops the group and reaps it.
class Subprocess {
 public:
  /// Starts argv[0] (a path) with the current environment plus/overridden by `env`;
  /// stdout and stderr go to `log_path` (appended), stdin is /dev/null. pid() is -1 on failure.
  Subprocess(const std::vector<std::string>& argv, const EnvVars& env, const std::string& log_path);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  /// True while the child has not exited (reaps it if it has).
  bool Running();
  /// SIGTERM to the group, up to 5 s grace, then SIGKILL; idempotent.
  void Stop();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

struct CommandResult {
  int exit_code = -1;  ///< -1 when it could not start or was killed by a signal
  std::string out;
  std::string err;
};

/// Runs argv to completion (argv[0] looked up on PATH when not a path) with extra `env`.
CommandResult RunCommand(const std::vector<std::string>& argv, const EnvVars& env);

}  // namespace weir::s3test

#endif  // WEIR_TESTS_S3_MOTO_SUBPROCESS_HPP
