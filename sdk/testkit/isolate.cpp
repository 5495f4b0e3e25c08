// sdk/testkit/isolate.cpp — RunIsolated(): fork, pipe, poll with a deadline, waitpid.
#include "isolate.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <thread>

namespace weir::testkit::internal {
namespace {

// Frames on the pipe: one type byte, a 4-byte little-endian length, the payload.
constexpr char kStepFrame = 'S';
constexpr char kResultFrame = 'R';

void WriteFully(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the parent is gone; nothing sensible to do in the child
    }
    done += static_cast<size_t>(n);
  }
}

void SendFrame(int fd, char type, const std::string& payload) {
  std::string frame(1, type);
  const auto len = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) frame.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  frame += payload;
  WriteFully(fd, frame);
}

const char* SignalName(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGABRT:
      return "SIGABRT";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGKILL:
      return "SIGKILL";
    case SIGTERM:
      return "SIGTERM";
    case SIGPIPE:
      return "SIGPIPE";
    case SIGSYS:
      return "SIGSYS";
    default:
      return nullptr;
  }
}

char OutcomeByte(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return 'P';
    case Outcome::kFail:
      return 'F';
    case Outcome::kSkip:
      return 'S';
  }
  return 'F';
}

[[noreturn]] void RunChild(int fd, const CheckBody& body) {
  // The host (or a test framework) may have installed crash handlers; the parent must see the
  // plugin's crash as the signal it is.
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);
  Verdict verdict;
  try {
    verdict = body([fd](const std::string& step) { SendFrame(fd, kStepFrame, step); });
  } catch (const std::exception& e) {
    verdict = Verdict::Fail(std::string("the conformance kit threw: ") + e.what());
  } catch (...) {
    verdict = Verdict::Fail("the conformance kit threw a non-standard exception");
  }
  SendFrame(fd, kResultFrame, std::string(1, OutcomeByte(verdict.outcome)) + verdict.detail);
  // _exit: no atexit handlers, no stdio flush of buffers inherited from the parent, no
  // destructors of the plugin's globals (they belong to the parent's test run, not this check).
  ::_exit(0);
}

}  // namespace

CheckResult RunIsolated(const std::string& name, int timeout_ms, const CheckBody& body) {
  CheckResult result{name, Outcome::kFail, ""};
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    result.detail = std::string("cannot create a pipe: ") + std::strerror(errno);
    return result;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    result.detail = std::string("cannot fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return result;
  }
  if (pid == 0) {
    ::close(fds[0]);
    RunChild(fds[1], body);
  }
  ::close(fds[1]);

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto remaining_ms = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() < 0 ? 0 : static_cast<int>(left.count());
  };

  std::string received;
  bool timed_out = false;
  char buf[4096];
  while (true) {
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms());
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready == 0) {
      timed_out = true;
      break;
    }
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0) break;  // EOF: the child exited (or closed the pipe)
    received.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);

  int wstatus = 0;
  bool reaped = false;
  while (!timed_out) {
    const pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) {
      reaped = true;
      break;
    }
    if (r < 0 && errno != EINTR) break;
    if (remaining_ms() == 0) {
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!reaped) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
  }

  // Decode the frames the child managed to send.
  std::string last_step;
  bool have_verdict = false;
  size_t pos = 0;
  while (pos + 5 <= received.size()) {
    const char type = received[pos];
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i) {
      len |= static_cast<uint32_t>(static_cast<uint8_t>(received[pos + 1 + static_cast<size_t>(i)]))
             << (8 * i);
    }
    if (pos + 5 + len > received.size()) break;
    std::string payload = received.substr(pos + 5, len);
    pos += 5 + len;
    if (type == kStepFrame) {
      last_step = std::move(payload);
    } else if (type == kResultFrame && !payload.empty()) {
      have_verdict = true;
      result.outcome = payload[0] == 'P'   ? Outcome::kPass
                       : payload[0] == 'S' ? Outcome::kSkip
                                           : Outcome::kFail;
      result.detail = payload.substr(1);
    }
  }
  const std::string during = last_step.empty() ? "" : " during: " + last_step;

  if (timed_out) {
    result.outcome = Outcome::kFail;
    result.detail = "timed out after " + std::to_string(timeout_ms) + " ms" + during;
  } else if (WIFSIGNALED(wstatus)) {
    const int sig = WTERMSIG(wstatus);
    const char* sig_name = SignalName(sig);
    result.outcome = Outcome::kFail;
    result.detail = std::string("crashed with ") +
                    (sig_name != nullptr ? sig_name : "signal " + std::to_string(sig)) + during;
  } else if (!have_verdict) {
    result.outcome = Outcome::kFail;
    result.detail = "the check process exited with status " +
                    std::to_string(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1) +
                    " before reporting (did the plugin call exit()?)" + during;
  }
  return result;
}

}  // namespace weir::testkit::internal
