// host/plugin/probe.cpp — the forked-child probe of a plugin's load and entry call.
//
// Wire format, child to parent over a pipe: one stage byte before each risky step ('L' before
// dlopen, 'E' before the entry call), then 'R', a native uint32 length and the refusal reason
// (empty = success). The stage bytes let the parent say *where* a child that died or hung was:
// in its static constructors or in its entry function. The parent stops reading once the 'R'
// record is complete, so a grandchild that inherited the pipe cannot stall it.
#include "host/plugin/probe.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "host/plugin/entry_call.hpp"
#include "weir/files.hpp"

namespace weir::host::internal {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kStageLoading = 'L';
constexpr char kStageEntry = 'E';
constexpr char kResult = 'R';

void WriteAll(int fd, const void* data, size_t size) noexcept {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent gave up on us; nothing useful left to do
    p += n;
    size -= static_cast<size_t>(n);
  }
}

/// The child side. Never returns.
[[noreturn]] void RunChild(int fd, const std::string& path) noexcept {
  // A crash reporter or blocked signals inherited from the host would hide the plugin's crash;
  // the child must die by the signal itself so the parent can name it.
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS}) {
    ::signal(sig, SIG_DFL);
  }
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_UNBLOCK, &all, nullptr);

  std::string reason;
  try {
    WriteAll(fd, &kStageLoading, 1);
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      reason = CannotLoadReason(::dlerror(), path);
    } else if (void* symbol = ::dlsym(handle, WEIR_ENTRY_SYMBOL); symbol == nullptr) {
      reason = "cannot be loaded: the dynamic linker does not find " WEIR_ENTRY_SYMBOL;
    } else {
      WriteAll(fd, &kStageEntry, 1);
      weir_plugin descriptor{};
      weir_plugin_entry_fn entry = nullptr;
      std::memcpy(&entry, &symbol, sizeof entry);
      reason = CallEntry(entry, &descriptor).message();  // empty when OK
    }
  } catch (...) {
    reason = "could not be probed: out of memory in the probe process";
  }
  const uint32_t size = static_cast<uint32_t>(std::min<size_t>(reason.size(), 65536));
  WriteAll(fd, &kResult, 1);
  WriteAll(fd, &size, sizeof size);
  WriteAll(fd, reason.data(), size);
  ::_exit(0);  // no atexit handlers, no flushing of the host's inherited stdio buffers
}

/// What the parent learned from the pipe.
struct ChildReport {
  char stage = 0;  ///< last stage byte seen, 0 if none
  bool complete = false;
  std::string reason;

  /// Parses everything received so far.
  void Parse(const std::string& bytes) {
    for (size_t i = 0; i < bytes.size(); ++i) {
      if (bytes[i] == kStageLoading || bytes[i] == kStageEntry) {
        stage = bytes[i];
      } else if (bytes[i] == kResult) {
        uint32_t size = 0;
        if (bytes.size() - i - 1 < sizeof size) return;
        std::memcpy(&size, bytes.data() + i + 1, sizeof size);
        if (bytes.size() - i - 1 - sizeof size < size) return;
        reason.assign(bytes, i + 1 + sizeof size, size);
        complete = true;
        return;
      }
    }
  }
};

/// Waits for `pid` until `deadline`. Returns true when reaped; false when it is still running.
/// `*status` is left at -1 when the status cannot be known (SIGCHLD ignored by the host).
bool WaitUntil(pid_t pid, Clock::time_point deadline, int* status) {
  for (;;) {
    pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      *status = -1;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

std::string SignalName(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : std::string("signal");
}

std::string Where(char stage) {
  return stage == kStageEntry ? "in its entry function"
                              : "while being loaded (in a static constructor or a dependency)";
}

}  // namespace

Status ProbeInChild(const fs::path& path, int timeout_ms) {
  timeout_ms = std::max(timeout_ms, 0);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Status::Error(std::string("could not be probed: pipe: ") + std::strerror(errno));
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const std::string path_string = path.string();

  std::fflush(nullptr);  // else a plugin calling exit() would flush our buffers a second time
  const pid_t pid = ::fork();
  if (pid < 0) {
    return Status::Error(std::string("could not be probed: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    read_end.reset();  // close() only: async-signal-safe in the forked child
    RunChild(write_end.get(), path_string);
  }
  write_end.reset();

  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string received;
  ChildReport report;
  bool eof = false;
  while (!report.complete && !eof) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{read_end.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (r < 0 && errno != EINTR) {
      eof = true;  // cannot read any more; judge by the exit status
    }
    if (r <= 0) continue;
    char buffer[4096];
    ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof = true;
    } else {
      received.append(buffer, static_cast<size_t>(n));
      report.Parse(received);
    }
  }

  const std::string timeout_reason =
      report.stage == kStageEntry
          ? "entry function did not return within " + std::to_string(timeout_ms) + " ms"
          : "did not finish loading within " + std::to_string(timeout_ms) +
                " ms (a static constructor or a dependency hangs)";
  int status = 0;
  if (!report.complete && !eof) {
    KillAndReap(pid);
    return Status::Error(timeout_reason);
  }
  if (!WaitUntil(pid, deadline, &status)) {
    // _exit() cannot hang, so this child closed our pipe itself and then hung (or it reported
    // and something else keeps it alive): either way it is killed.
    KillAndReap(pid);
    if (!report.complete) return Status::Error(timeout_reason);
  }
  if (report.complete) {
    return report.reason.empty() ? Status::OK() : Status::Error(report.reason);
  }
  if (status != -1 && WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return Status::Error("crashed with " + SignalName(sig) + " (signal " + std::to_string(sig) +
                         ") " + Where(report.stage));
  }
  if (status != -1 && WIFEXITED(status)) {
    const std::string code = std::to_string(WEXITSTATUS(status));
    return Status::Error(report.stage == kStageEntry
                             ? "called exit(" + code +
                                   ") in its entry function instead of returning"
                             : "exited with status " + code + " " + Where(report.stage));
  }
  return Status::Error("probe process ended without reporting " + Where(report.stage));
}

}  // namespace weir::host::internal
