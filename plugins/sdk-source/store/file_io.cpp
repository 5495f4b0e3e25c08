// plugins/sdk-source/store/file_io.cpp — POSIX file plumbing for the store (see file_io.hpp).
#include "store/file_io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

namespace weir::sdksource {

Status IoError(std::string_view op, const std::filesystem::path& path, int err) {
  std::string msg = "store: ";
  msg += op;
  msg += " ";
  msg += path.string();
  msg += ": ";
  msg += std::strerror(err);
  return Status::Error(std::move(msg));
}

namespace {

/// open(2) with O_CLOEXEC, retried on EINTR: the descriptor, or -1 with errno set.
int OpenRetrying(const std::filesystem::path& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace

Result<UniqueFd> OpenFile(const std::filesystem::path& path, int flags, int mode) {
  UniqueFd fd(OpenRetrying(path, flags, mode));
  if (!fd.valid()) return IoError("open", path, errno);
  return fd;
}

Result<std::optional<UniqueFd>> OpenIfExists(const std::filesystem::path& path, int flags) {
  UniqueFd fd(OpenRetrying(path, flags, 0));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<UniqueFd>();
    return IoError("open", path, errno);
  }
  return std::optional<UniqueFd>(std::move(fd));
}

Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status PwriteAll(int fd, std::string_view data, uint64_t offset,
                 const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("pwrite", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

Result<size_t> PreadUpTo(int fd, char* out, size_t size, uint64_t offset,
                         const std::filesystem::path& path) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("pread", path, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status DataSync(int fd, const std::filesystem::path& path) {
  if (::fdatasync(fd) != 0) return IoError("fdatasync", path, errno);
  return Status::OK();
}

Status FullSync(int fd, const std::filesystem::path& path) {
  if (::fsync(fd) != 0) return IoError("fsync", path, errno);
  return Status::OK();
}

Status SyncDirectory(const std::filesystem::path& dir) {
  WEIR_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(dir, O_RDONLY | O_DIRECTORY));
  return FullSync(fd.get(), dir);
}

Result<uint64_t> FileSize(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return IoError("fstat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

Status MakeDirectories(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("mkdir", dir, ec.value());
  return Status::OK();
}

Result<std::vector<std::string>> ListDirectory(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return names;
    return IoError("opendir", dir, errno);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, &::closedir);
  while (true) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) {
      if (errno != 0) return IoError("readdir", dir, errno);
      break;
    }
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  return names;
}

Mapping::~Mapping() {
  if (data_ != nullptr) ::munmap(const_cast<char*>(data_), capacity_);
}

Result<std::unique_ptr<Mapping>> Mapping::Map(int fd, uint64_t capacity,
                                              const std::filesystem::path& path) {
  void* p = ::mmap(nullptr, capacity, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return IoError("mmap", path, errno);
  auto m = std::make_unique<Mapping>();
  m->data_ = static_cast<const char*>(p);
  m->capacity_ = capacity;
  return m;
}

}  // namespace weir::sdksource
