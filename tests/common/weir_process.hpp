// tests/common/weir_process.hpp — run real processes (the `weir` binary above all) from tests.
//
// Header-only helpers shared by the end-to-end suites (tests/run, tests/s3, tests/snowflake,
// tests/sdk_source): start a process with stdout/stderr captured in files (so a SIGKILLed
// child loses nothing it printed), wait for it, and build `weir` command lines that point at a
// test's own data, plugins and pipelines directories.
//
//   weir::test::Process p = weir::test::StartProcess(
//       weir::test::WeirCommand(WEIR_BINARY, dir, WEIR_PLUGINS_DIR, {"run", "demo"}), dir);
//   weir::test::ProcessResult r =
//       weir::test::KillMidRun(p, std::chrono::milliseconds(30));   // r.code == 128 + SIGKILL
#ifndef WEIR_TESTS_COMMON_WEIR_PROCESS_HPP
#define WEIR_TESTS_COMMON_WEIR_PROCESS_HPP

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;  // NOLINT: POSIX

namespace weir::test {

struct Process {
  pid_t pid = -1;             ///< -1 when it could not be started (see start_error)
  std::filesystem::path out;  ///< file holding the child's stdout
  std::filesystem::path err;  ///< file holding the child's stderr
  std::string start_error;    ///< why posix_spawn failed, when pid is -1
};

struct ProcessResult {
  int code = -1;  ///< exit code, or 128 + signal number
  std::string out;
  std::string err;
};

inline std::string ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Starts args[0] (an absolute path) with `args`, stdin from /dev/null and stdout/stderr into
/// fresh files under `dir`. pid stays -1 if the process cannot be started.
inline Process StartProcess(std::vector<std::string> args, const std::filesystem::path& dir) {
  static std::atomic<int> counter{0};
  const int n = counter++;
  Process p;
  p.out = dir / ("stdout-" + std::to_string(n));
  p.err = dir / ("stderr-" + std::to_string(n));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, p.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, p.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (const int rc = posix_spawn(&p.pid, argv[0], &fa, nullptr, argv.data(), environ); rc != 0) {
    p.pid = -1;
    p.start_error = "cannot start " + args[0] + ": " + std::strerror(rc);
  }
  posix_spawn_file_actions_destroy(&fa);
  return p;
}

/// Sends `sig` to the started process `p`; false (and nothing sent) if `p` never started. Never
/// calls kill() with a pid <= 0, which would signal a whole process group or every process.
inline bool Signal(const Process& p, int sig) { return p.pid > 0 && ::kill(p.pid, sig) == 0; }

/// Whether `p` has exited (or never started), without reaping it: WaitProcess still can.
inline bool Exited(const Process& p) {
  if (p.pid <= 0) return true;
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(p.pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
         info.si_pid == p.pid;
}

/// Waits for `p` and collects its exit code and output.
inline ProcessResult WaitProcess(const Process& p) {
  ProcessResult r;
  if (p.pid <= 0) {
    r.err = p.start_error.empty() ? "process was not started" : p.start_error;
    return r;
  }
  int status = 0;
  ::waitpid(p.pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadWholeFile(p.out);
  r.err = ReadWholeFile(p.err);
  return r;
}

/// Polls the child's stderr file until it contains `needle` (true), or the child is gone or
/// `timeout` passed (false). Lets a kill test strike inside the run instead of during start-up,
/// however slow the build (sanitizers) makes start-up.
inline bool WaitForStderr(const Process& p, std::string_view needle,
                          std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (ReadWholeFile(p.err).find(needle) != std::string::npos) return true;
    if (Exited(p)) return ReadWholeFile(p.err).find(needle) != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

/// How many times `needle` occurs in `text` (e.g. "replaying batch" in a run's stderr).
inline int CountOccurrences(std::string_view text, std::string_view needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

/// One strike of a kill test: waits until the `weir run` in `p` has logged that its run
/// started (so the kill lands inside the run, however slow start-up is under sanitizers), then
/// `delay` more, sends SIGKILL and collects the process. r.code is 128 + SIGKILL if the kill
/// landed, 0 if the run had already finished.
inline ProcessResult KillMidRun(const Process& p, std::chrono::milliseconds delay) {
  if (p.pid <= 0) return WaitProcess(p);  // says why it did not start
  WaitForStderr(p, "started", std::chrono::seconds(20));
  std::this_thread::sleep_for(delay);
  Signal(p, SIGKILL);
  return WaitProcess(p);
}

/// Kills and reaps a started process when the scope ends before the test waited for it (an
/// ASSERT that returns early), so no `weir service run` outlives its test. Release() once the
/// test has collected the process itself.
class ProcessGuard {
 public:
  explicit ProcessGuard(const Process& p) : pid_(p.pid) {}
  ProcessGuard(const ProcessGuard&) = delete;
  ProcessGuard& operator=(const ProcessGuard&) = delete;
  ~ProcessGuard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  void Release() { pid_ = -1; }

 private:
  pid_t pid_;
};

/// `weir --data-dir DIR/data --plugins-dir PLUGINS --pipelines-dir DIR/pipelines REST...`
inline std::vector<std::string> WeirCommand(const std::string& weir_binary,
                                            const std::filesystem::path& dir,
                                            const std::string& plugins_dir,
                                            const std::vector<std::string>& rest) {
  std::vector<std::string> a = {weir_binary,   "--data-dir",      (dir / "data").string(),
                                "--plugins-dir", plugins_dir,       "--pipelines-dir",
                                (dir / "pipelines").string()};
  a.insert(a.end(), rest.begin(), rest.end());
  return a;
}

}  // namespace weir::test

#endif  // WEIR_TESTS_COMMON_WEIR_PROCESS_HPP
