// plugins/sdk-source/store/file_io.hpp — the store's POSIX file plumbing (private): opening
// (into the SDK's weir::UniqueFd), a read-only memory map, and I/O helpers that turn every
// failure into a weir::Status naming the operation, the file and strerror(errno).
#ifndef WEIR_SDK_SOURCE_STORE_FILE_IO_HPP
#define WEIR_SDK_SOURCE_STORE_FILE_IO_HPP

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weir/files.hpp"
#include "weir/plugin.hpp"

namespace weir::sdksource {

/// "store: <op> <path>: <strerror(err)>".
Status IoError(std::string_view op, const std::filesystem::path& path, int err);

/// open(2) with O_CLOEXEC, retried on EINTR; the error names `path`.
Result<UniqueFd> OpenFile(const std::filesystem::path& path, int flags, int mode = 0600);
/// As OpenFile (without O_CREAT), but a missing file (ENOENT) is not an error: nullopt. For
/// files another process (retention, recovery) may delete at any time.
Result<std::optional<UniqueFd>> OpenIfExists(const std::filesystem::path& path, int flags);
/// Writes all of `data` at the file's current position (retrying short writes and EINTR).
Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path);
/// pwrite(2) of all of `data` at `offset`.
Status PwriteAll(int fd, std::string_view data, uint64_t offset, const std::filesystem::path& path);
/// pread(2) of up to `size` bytes at `offset`; returns how many were read (short at EOF).
Result<size_t> PreadUpTo(int fd, char* out, size_t size, uint64_t offset,
                         const std::filesystem::path& path);
/// fdatasync(2) (enough for appends: the size change is data the file needs to be read back).
Status DataSync(int fd, const std::filesystem::path& path);
/// fsync(2).
Status FullSync(int fd, const std::filesystem::path& path);
/// Opens a directory and fsyncs it, making created/removed names in it durable.
Status SyncDirectory(const std::filesystem::path& dir);
/// The file's size (fstat).
Result<uint64_t> FileSize(int fd, const std::filesystem::path& path);
/// Creates `dir` (and its parents) if missing; the error names the directory.
Status MakeDirectories(const std::filesystem::path& dir);
/// The file names (not paths) in `dir`; an absent directory yields an empty list.
Result<std::vector<std::string>> ListDirectory(const std::filesystem::path& dir);

/// A read-only, shared memory map of a file prefix. The map may extend past the file's end (so
/// a growing segment need not be remapped after every append); only bytes below the file size
/// observed when the caller indexed them may be touched. Unmaps on destruction; survives the
/// file being unlinked.
class Mapping {
 public:
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping();

  /// Maps the first `capacity` bytes of the open file `fd` (capacity > 0).
  static Result<std::unique_ptr<Mapping>> Map(int fd, uint64_t capacity,
                                              const std::filesystem::path& path);

  const char* data() const { return data_; }
  uint64_t capacity() const { return capacity_; }

 private:
  const char* data_ = nullptr;
  uint64_t capacity_ = 0;
};

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_STORE_FILE_IO_HPP
