// tests/plugins/good/file_util.hpp — POSIX file helpers shared by the file test plugins.
//
// The SDK's weir::UniqueFd (weir/files.hpp) under this namespace, errno-to-message formatting,
// whole-buffer write/read loops that survive EINTR and short transfers, fsync of a directory,
// and a sleep that keeps polling the host's cancellation flag (the `delay_ms` knob both plugins
// offer so tests can interrupt or kill a run in the middle of a call).
#ifndef WEIR_TESTS_PLUGINS_GOOD_FILE_UTIL_HPP
#define WEIR_TESTS_PLUGINS_GOOD_FILE_UTIL_HPP

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include "weir/files.hpp"
#include "weir/plugin.hpp"

namespace weir::testplugins {

/// The test plugins' RAII descriptor is the SDK's (weir/files.hpp).
using weir::UniqueFd;

/// "<what> '<path>': <strerror(err)>".
inline std::string ErrnoMessage(std::string_view what, std::string_view path, int err) {
  return std::string(what) + " '" + std::string(path) + "': " + std::strerror(err);
}

/// Whether an errno from file I/O may go away on its own (disk full, I/O hiccup) as opposed to
/// a permanent setup problem (permissions, read-only file system, a file where a dir belongs).
inline bool IsRetryableErrno(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
    case ENOTDIR:
    case EISDIR:
    case ENAMETOOLONG:
    case ELOOP:
    case EINVAL:
    case ENOENT:
      return false;
    default:
      return true;
  }
}

/// Writes all of `data` to `fd`; returns 0 or the errno of the failure.
inline int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

/// Reads exactly `size` bytes at `offset` into `out` (resized); returns 0, the errno, or EIO
/// when the file ended early (it was truncated under us).
inline int PreadAll(int fd, uint64_t offset, size_t size, std::string* out) {
  out->resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out->data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    done += static_cast<size_t>(n);
  }
  return 0;
}

/// fsyncs a directory so a rename/link/unlink inside it survives a power loss.
inline int FsyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  if (::fsync(fd.get()) != 0) return errno;
  return 0;
}

/// Sleeps `delay_ms`, waking every few milliseconds to check the host's cancellation flag.
/// Returns Cancelled as soon as the host cancels, OK once the delay has passed.
inline Status SleepPollingCancel(const Host& host, int64_t delay_ms, std::string_view what) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(delay_ms);
  while (true) {
    if (host.IsCancelled()) return Status::Cancelled(std::string(what) + " cancelled by host");
    const auto now = Clock::now();
    if (now >= deadline) return Status::OK();
    std::this_thread::sleep_for(
        std::min<Clock::duration>(deadline - now, std::chrono::milliseconds(5)));
  }
}

}  // namespace weir::testplugins

#endif  // WEIR_TESTS_PLUGINS_GOOD_FILE_UTIL_HPP
