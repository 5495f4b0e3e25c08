// tests/plugins/good/ndjson_file.cpp — NdjsonFile: incremental line index of an append-only file.
#include "ndjson_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

namespace weir::testplugins {

Status NdjsonFile::Refresh(UniqueFd* fd) {
  UniqueFd file(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.valid()) {
    const int err = errno;
    return Status::Error(ErrnoMessage("file-source: cannot open", path_, err),
                         IsRetryableErrno(err));
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    const int err = errno;
    return Status::Error(ErrnoMessage("file-source: cannot stat", path_, err), true);
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::Error("file-source: '" + path_ + "' is not a regular file");
  }
  if (have_identity_ && (st.st_dev != dev_ || st.st_ino != ino_)) {
    // Replaced (e.g. rewritten and renamed into place): index the new file from scratch. Its
    // first lines must be the old ones for the watermarks to keep their meaning; that is the
    // writer's promise, as with appending.
    ends_.clear();
  }
  have_identity_ = true;
  dev_ = st.st_dev;
  ino_ = st.st_ino;

  const uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t scanned = ends_.empty() ? 0 : ends_.back();
  if (size < scanned) {
    return Status::Error("file-source: '" + path_ + "' shrank from at least " +
                         std::to_string(scanned) + " to " + std::to_string(size) +
                         " bytes; the file must be append-only");
  }
  // Index from the end of the last complete line; an unfinished tail is rescanned next time.
  std::string chunk;
  constexpr size_t kChunk = 1 << 16;
  while (scanned < size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, size - scanned));
    if (int err = PreadAll(file.get(), scanned, want, &chunk); err != 0) {
      return Status::Error(ErrnoMessage("file-source: cannot read", path_, err), true);
    }
    const char* begin = chunk.data();
    const char* p = begin;
    const char* end = begin + chunk.size();
    while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))) !=
           nullptr) {
      ++p;
      ends_.push_back(scanned + static_cast<uint64_t>(p - begin));
    }
    scanned += want;
  }
  *fd = std::move(file);
  return Status::OK();
}

}  // namespace weir::testplugins
