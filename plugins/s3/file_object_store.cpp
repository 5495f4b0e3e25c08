// plugins/s3/file_object_store.cpp — MakeFileObjectStore(): the ObjectStore of file:// URLs.
//
// A key is a relative path below the root ("demo/mp_master_event/2026/11/22/10/x.json.gz").
// Put is atomic and durable before it returns: the bytes go to a hidden temp file in the
// object's own directory (".weir-tmp-<name>.<pid>.<n>"), which is fsynced and renamed over the
// final name (an identical overwrite on replay; with if_none_match it is hard-linked instead,
// which refuses an existing name, and an existing object counts as success as on S3), then the
// directory is fsynced. Directories created on the way are fsynced into their parents. A crash
// can leave temp files behind; List never returns them and any may be deleted while no export
// runs. Keys with empty, "." or ".." segments, or a segment starting with ".weir-tmp-", are
// refused so nothing can escape the root or collide with temp files.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "object_store.hpp"
#include "weir/files.hpp"

namespace weir::s3 {
namespace {

constexpr std::string_view kTempPrefix = ".weir-tmp-";

/// Errors that may pass by themselves (a full disk gets space, an interrupted call succeeds).
bool IsRetryableErrno(int err) {
  return err == EINTR || err == EAGAIN || err == EIO || err == ENOSPC || err == EDQUOT ||
         err == EMFILE || err == ENFILE || err == ENOMEM || err == EBUSY;
}

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  return Status::Error(what + " '" + path + "': " + std::strerror(err), IsRetryableErrno(err))
      .WithVendorCode(err);
}

int FsyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  if (::fsync(fd.get()) != 0) return errno;
  return 0;
}

int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

/// The key's segments are safe path components (see the banner).
Status ValidateKey(const std::string& key) {
  if (key.empty() || key.size() > 4096) {
    return Status::Error("file store: invalid object key '" + key.substr(0, 200) +
                         "' (empty or longer than 4096 bytes)");
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    std::string_view seg(key.data() + start, end - start);
    if (seg.empty() || seg == "." || seg == ".." || seg.size() > 255 ||
        seg.substr(0, kTempPrefix.size()) == kTempPrefix ||
        seg.find('\0') != std::string_view::npos) {
      return Status::Error("file store: invalid object key '" + key.substr(0, 200) +
                           "' (empty, '.', '..', over-long or reserved path segment)");
    }
    start = end + 1;
  }
  return Status::OK();
}

class FileObjectStore final : public ObjectStore {
 public:
  FileObjectStore(std::string root, Hooks hooks)
      : root_(std::move(root)), hooks_(std::move(hooks)) {}

  Status Put(const std::string& key, std::string_view body, const PutOptions& options) override {
    WEIR_RETURN_NOT_OK(ValidateKey(key));
    const std::string path = root_ + "/" + key;
    const size_t slash = path.find_last_of('/');
    const std::string dir = path.substr(0, slash);
    const std::string name = path.substr(slash + 1);
    WEIR_RETURN_NOT_OK(MakeDirs(dir));
    const std::string temp = dir + "/" + std::string(kTempPrefix) + name + "." +
                             std::to_string(::getpid()) + "." + std::to_string(next_temp_++);
    {
      // Owner only (0600, 0700 for directories): exported rows are the customer's data.
      UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (!fd.valid()) return ErrnoStatus("file store: cannot create", temp, errno);
      int err = WriteAll(fd.get(), body);
      if (err == 0 && ::fsync(fd.get()) != 0) err = errno;
      if (const int closed = fd.Close(); err == 0) err = closed;
      if (err != 0) {
        ::unlink(temp.c_str());
        return ErrnoStatus("file store: cannot write", temp, err);
      }
    }
    if (options.if_none_match) {
      // link() refuses an existing name: the first copy of a deterministic object stays.
      const int rc = ::link(temp.c_str(), path.c_str());
      const int err = rc == 0 ? 0 : errno;
      ::unlink(temp.c_str());
      if (err == EEXIST) {
        if (hooks_.counter) hooks_.counter("s3.objects_existing", 1);
        return Status::OK();
      }
      if (err != 0) return ErrnoStatus("file store: cannot link into place", path, err);
    } else if (::rename(temp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      return ErrnoStatus("file store: cannot rename into place", path, err);
    }
    if (int err = FsyncDir(dir); err != 0) {
      return ErrnoStatus("file store: cannot fsync directory", dir, err);
    }
    return Status::OK();
  }

  Status Delete(const std::string& key) override {
    WEIR_RETURN_NOT_OK(ValidateKey(key));
    const std::string path = root_ + "/" + key;
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT) return Status::OK();
      return ErrnoStatus("file store: cannot delete", path, errno);
    }
    const std::string dir = path.substr(0, path.find_last_of('/'));
    if (int err = FsyncDir(dir); err != 0) {
      return ErrnoStatus("file store: cannot fsync directory", dir, err);
    }
    return Status::OK();
  }

  Result<std::optional<std::string>> Get(const std::string& key) override {
    WEIR_RETURN_NOT_OK(ValidateKey(key));
    const std::string path = root_ + "/" + key;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
      return ErrnoStatus("file store: cannot open", path, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("file store: cannot stat", path, errno);
    std::string out(static_cast<size_t>(st.st_size), '\0');
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n =
          ::pread(fd.get(), out.data() + done, out.size() - done, static_cast<off_t>(done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("file store: cannot read", path, errno);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    out.resize(done);
    return std::optional<std::string>(std::move(out));
  }

  Result<std::vector<std::string>> List(const std::string& prefix) override {
    std::vector<std::string> keys;
    // Walk the deepest directory the prefix names fully, then filter by the whole prefix.
    const size_t slash = prefix.find_last_of('/');
    const std::string dir_key = slash == std::string::npos ? "" : prefix.substr(0, slash);
    WEIR_RETURN_NOT_OK(Walk(dir_key, prefix, &keys));
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  std::string Describe() const override { return "file://" + root_; }

 private:
  /// Appends every object key below `dir_key` (a directory key, "" for the root) that starts
  /// with `prefix`.
  Status Walk(const std::string& dir_key, const std::string& prefix,
              std::vector<std::string>* keys) {
    const std::string dir = dir_key.empty() ? (root_.empty() ? "/" : root_) : root_ + "/" + dir_key;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::OK();
      return ErrnoStatus("file store: cannot list", dir, errno);
    }
    std::vector<std::pair<std::string, bool>> entries;
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == ".." || name.rfind(kTempPrefix, 0) == 0) continue;
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st {};
        is_dir = ::stat((dir + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      }
      entries.emplace_back(std::move(name), is_dir);
    }
    ::closedir(d);
    for (const auto& [name, is_dir] : entries) {
      const std::string key = dir_key.empty() ? name : dir_key + "/" + name;
      if (is_dir) {
        // Descend only where keys below could still match the prefix.
        const std::string as_dir = key + "/";
        if (as_dir.compare(0, std::min(as_dir.size(), prefix.size()), prefix, 0,
                           std::min(as_dir.size(), prefix.size())) == 0) {
          WEIR_RETURN_NOT_OK(Walk(key, prefix, keys));
        }
      } else if (key.compare(0, prefix.size(), prefix) == 0) {
        keys->push_back(key);
      }
    }
    return Status::OK();
  }

  /// Creates `dir` and missing parents, fsyncing each parent that gained an entry.
  Status MakeDirs(const std::string& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return Status::OK();
      return Status::Error("file store: '" + dir + "' exists and is not a directory");
    }
    const size_t slash = dir.find_last_of('/');
    const std::string parent = slash == 0 ? "/" : dir.substr(0, slash);
    if (slash != std::string::npos && parent != dir) WEIR_RETURN_NOT_OK(MakeDirs(parent));
    if (::mkdir(dir.c_str(), 0700) != 0) {
      // EEXIST: another worker just made it and may not have fsynced the parent yet; this
      // object's durability must not depend on that, so fsync the parent here too.
      if (errno != EEXIST) return ErrnoStatus("file store: cannot create directory", dir, errno);
    }
    if (int err = FsyncDir(parent); err != 0) {
      return ErrnoStatus("file store: cannot fsync directory", parent, err);
    }
    return Status::OK();
  }

  std::string root_;
  Hooks hooks_;
  std::atomic<uint64_t> next_temp_{0};
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> MakeFileObjectStore(const std::filesystem::path& root,
                                                         Hooks hooks) {
  std::string r = root.string();
  if (r.empty() || r[0] != '/') {
    return Status::InvalidConfig("file store: the root '" + r + "' must be an absolute path");
  }
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (r == "/") r.clear();  // keys then join as "/<key>"
  return std::unique_ptr<ObjectStore>(new FileObjectStore(std::move(r), std::move(hooks)));
}

}  // namespace weir::s3
