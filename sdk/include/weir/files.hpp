// sdk/include/weir/files.hpp — POSIX file helpers for plugins that write files.
//
// Header-only, C++17, no dependencies beyond POSIX. Two things every file-writing plugin
// otherwise writes for itself:
//   - weir::KeyFileName(): an idempotency key (or any string) as one safe file name component;
//   - weir::UniqueFd: a move-only owner of a file descriptor, with a Close() that reports the
//     error close() may be the first to see on a written file.
//
//   const std::string path = dir + "/" + weir::KeyFileName(request.idempotency_key) + ".ndjson";
//   weir::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
//   if (!fd.valid()) return Errno("creating", temp);   // Errno, ErrnoStatus: the plugin's own
//   ...write, fsync...                                 // errno-to-Status helpers
//   if (int err = fd.Close(); err != 0) return ErrnoStatus("closing", temp, err);
#ifndef WEIR_FILES_HPP
#define WEIR_FILES_HPP

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>

namespace weir {

namespace internal {

/// Bytes KeyFileName() keeps as they are: [A-Za-z0-9._-] (POSIX's portable file name set).
constexpr bool IsPortableFileNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

/// FNV-1a, 64 bit. Part of KeyFileName()'s output, so it must never change.
constexpr uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace internal

/// Longest part of a key that KeyFileName() keeps before the hash (NAME_MAX is 255 bytes,
/// leaving room for the hash and a caller's suffix such as ".ndjson.gz" or a temp marker).
constexpr size_t kKeyFileNameMaxKeyChars = 160;

/// Turns `key` (an idempotency key, a stream name, any bytes) into one file name component.
///
/// Every byte outside [A-Za-z0-9._-] becomes '_' and the result is cut to 160 bytes. If
/// anything was replaced or cut, or the key is empty, ".", or "..", ".x" and 16 lower-case hex
/// digits of a 64-bit FNV-1a hash of the original key are appended. So:
///   - deterministic: the same key gives the same name in every process, on every platform,
///     in every release (names are how plugins recognise replayed batches);
///   - distinct keys give distinct names, barring a 64-bit hash collision (or a key crafted to
///     look like another key's hashed name; host-made keys are plain and never need a hash);
///   - a plain key (only [A-Za-z0-9._-], 1 to 160 bytes, not "." or "..") is returned as is;
///   - the result is 1 to 178 (160 + 18) bytes from [A-Za-z0-9._-], never "." or "..", and
///     contains no '/': a safe name on any POSIX file system, with room left for a suffix.
/// The caller adds its own extension (".ndjson", ".ndjson.gz"). Never throws except
/// std::bad_alloc. \since 0.1
inline std::string KeyFileName(std::string_view key) {
  std::string name;
  name.reserve(key.size() < kKeyFileNameMaxKeyChars ? key.size() : kKeyFileNameMaxKeyChars);
  bool changed = false;
  for (char c : key) {
    if (name.size() == kKeyFileNameMaxKeyChars) {
      changed = true;  // cut
      break;
    }
    const bool keep = internal::IsPortableFileNameChar(c);
    changed = changed || !keep;
    name.push_back(keep ? c : '_');
  }
  if (changed || name.empty() || name == "." || name == "..") {
    static constexpr char kHex[] = "0123456789abcdef";
    const uint64_t h = internal::Fnv1a64(key);
    name += ".x";
    for (int shift = 60; shift >= 0; shift -= 4) name.push_back(kHex[(h >> shift) & 0xf]);
  }
  return name;
}

/// Owns one POSIX file descriptor (or none, when negative) and closes it on destruction.
/// Move-only; not thread-safe (like the descriptor number it wraps). \since 0.1
class UniqueFd {
 public:
  UniqueFd() = default;
  /// Takes ownership of `fd`; a negative value (a failed open()) means "no descriptor".
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  /// Closes the descriptor, ignoring close()'s result: use Close() where that matters.
  ~UniqueFd() { reset(); }

  /// The descriptor, still owned by this object; -1 when there is none.
  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }

  /// Gives up ownership without closing: returns the descriptor (or -1) and holds none.
  [[nodiscard]] int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

  /// Closes the current descriptor, if any, ignoring close()'s result, and takes `fd`.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

  /// Closes now and returns 0, or close()'s errno. On a file just written, close() can be the
  /// first call to report a deferred write error (EIO, ENOSPC, EDQUOT on NFS), so check it
  /// before treating the file as complete. The descriptor is released either way (close() is
  /// never retried: on Linux the number may already be reused after EINTR). 0 when none.
  [[nodiscard]] int Close() noexcept {
    if (fd_ < 0) return 0;
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_ = -1;
};

}  // namespace weir

#endif  // WEIR_FILES_HPP
