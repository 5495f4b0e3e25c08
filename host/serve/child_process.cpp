// host/serve/child_process.cpp — fork + exec of `weir` children, and how they ended.
#include "serve/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace weir::host::serve {

std::string SignalName(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  if (abbrev == nullptr) return "signal " + std::to_string(sig);
  return std::string("SIG") + abbrev;
}

std::string ChildExit::Describe() const {
  if (signaled) {
    return "killed by signal " + std::to_string(signal) + " (" + SignalName(signal) + ")";
  }
  return "exited with code " + std::to_string(code);
}

ChildExit ChildExit::FromWaitStatus(int status) {
  if (WIFSIGNALED(status)) return Killed(WTERMSIG(status));
  return Exited(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

Result<pid_t> SpawnChild(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  if (argv.empty()) return Status::Error("SpawnChild: empty command line");
  // Everything that allocates happens before fork(): after it, in a multi-threaded parent (the
  // HTTP server thread), the child may only make async-signal-safe calls until exec.
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  cargv.reserve(args.size() + 1);
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const int out_fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (out_fd < 0) {
    return Status::Error("cannot open child log " + log.string() + ": " + std::strerror(errno));
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    const int err = errno;
    ::close(out_fd);
    return Status::Error(std::string("cannot open /dev/null: ") + std::strerror(err));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(out_fd);
    ::close(null_fd);
    return Status::Error(std::string("fork: ") + std::strerror(err), /*retryable=*/true);
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the daemon died before prctl took effect
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE, SIGQUIT}) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    ::close_range(3, ~0U, 0);
    ::execv(cargv[0], cargv.data());
    static const char kMsg[] = "weir serve: exec of the child failed\n";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(null_fd);
  return pid;
}

std::optional<ChildExit> TryReap(pid_t pid) {
  int status = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid) return ChildExit::FromWaitStatus(status);
  if (r < 0 && errno == ECHILD) return ChildExit::Exited(-1);  // already reaped elsewhere
  return std::nullopt;
}

}  // namespace weir::host::serve
