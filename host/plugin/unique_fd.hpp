// host/plugin/unique_fd.hpp — a move-only owner of a POSIX file descriptor.
//
// Used by the ELF reader and the probe's pipe so that no early return leaks a descriptor.
// Private to host/plugin.
#ifndef WEIR_HOST_PLUGIN_UNIQUE_FD_HPP
#define WEIR_HOST_PLUGIN_UNIQUE_FD_HPP

#include <unistd.h>

#include <utility>

namespace weir::host::internal {

/// Owns `fd` (or nothing when it is negative) and closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  /// Closes the current descriptor (if any) and takes `fd`.
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace weir::host::internal

#endif  // WEIR_HOST_PLUGIN_UNIQUE_FD_HPP
