// tests/plugins/good/file_destination_plugin.cpp — the `file-destination` plugin: one durable
// NDJSON file per batch, named by the idempotency key.
//
// Built as build/plugins/libweir-file-destination.so. Config:
//
//   {"dir": "/tmp/out", "delay_ms": 0, "fail_first_writes": 0, "fail_retryable": true}
//
// Write() stores the batch bytes, unchanged, in `<dir>/<stream>/<key>.ndjson`, where <key> is
// weir::KeyFileName() of the idempotency key (weir/files.hpp): every byte outside
// [A-Za-z0-9._-] replaced by '_' (a key that needed changing, or is too long for a file name,
// also gets a hash of the original key appended, so two different keys never share a file).
// The write is atomic and durable before Write() returns: a hidden temp file in the same
// directory is written and fsynced, then hard-linked to the final name (which fails if the name
// exists, so a concurrent writer can never clobber another) and the directory is fsynced.
// Replaying a key whose file already holds the same bytes is a no-op; different bytes are an
// idempotency violation and a non-retryable error. Because every Write() is already durable,
// Flush() has nothing left to do and returns OK.
//
// A crash can leave `.tmp.*` files behind in a stream directory; they are never mistaken for
// output (output files end in `.ndjson`) and may be deleted at any time no run is active.
//
// Test knobs: `delay_ms` sleeps between writing the temp file and linking it into place
// (polling cancellation), widening the window a crash test can hit; `fail_first_writes: N`
// makes the first N Write() calls of this instance fail with "injected failure k of N",
// retryable unless `fail_retryable` is false.
#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "file_util.hpp"
#include "weir/config_json.hpp"
#include "weir/files.hpp"
#include "weir/plugin.hpp"

namespace weir::testplugins {
namespace {

constexpr const char* kDestinationSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "file-destination",
  "description": "Writes each batch durably to <dir>/<stream>/<idempotency key>.ndjson.",
  "type": "object",
  "additionalProperties": false,
  "required": ["dir"],
  "properties": {
    "dir": {
      "type": "string",
      "minLength": 1,
      "description": "Output directory; created when missing."
    },
    "delay_ms": {
      "type": "integer",
      "minimum": 0,
      "maximum": 3600000,
      "default": 0,
      "description": "Sleep between writing a batch and linking it into place; for crash tests."
    },
    "fail_first_writes": {
      "type": "integer",
      "minimum": 0,
      "maximum": 1000000,
      "default": 0,
      "description": "Fail the first N writes of each instance; for retry tests."
    },
    "fail_retryable": {
      "type": "boolean",
      "default": true,
      "description": "Whether the injected failures are retryable."
    }
  }
})json";

constexpr int64_t kMaxDelayMs = 3600000;
constexpr int64_t kMaxInjectedFailures = 1000000;
/// Creates `dir` and any missing parents, fsyncing each parent whose entries changed.
Status MakeDirs(const std::string& dir, std::string_view what) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::OK();
    return Status::Error(std::string(what) + " '" + dir + "': exists and is not a directory");
  }
  const size_t slash = dir.find_last_of('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
  if (slash != std::string::npos && slash + 1 == dir.size()) {  // trailing slash
    return MakeDirs(dir.substr(0, slash), what);
  }
  WEIR_RETURN_NOT_OK(MakeDirs(parent, what));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    const int err = errno;
    return Status::Error(ErrnoMessage(what, dir, err), IsRetryableErrno(err));
  }
  if (int err = FsyncDir(parent); err != 0) {
    return Status::Error(ErrnoMessage("fsync of directory", parent, err), true);
  }
  return Status::OK();
}

/// Reads a whole (small) file; returns 0 or the errno.
int ReadFile(const std::string& path, std::string* out) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno;
  return PreadAll(fd.get(), 0, static_cast<size_t>(st.st_size), out);
}

class FileDestination final : public Destination {
 public:
  static Result<std::unique_ptr<FileDestination>> Open(std::string_view config, Host host) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    WEIR_RETURN_NOT_OK(ParseConfigObject(
        parser, config, {"dir", "delay_ms", "fail_first_writes", "fail_retryable"}, &obj));
    auto d = std::unique_ptr<FileDestination>(new FileDestination(host));
    WEIR_ASSIGN_OR_RETURN(d->dir_, RequiredString(obj, "config.", "dir"));
    WEIR_ASSIGN_OR_RETURN(d->delay_ms_, OptionalInt(obj, "config.", "delay_ms", 0, 0, kMaxDelayMs));
    WEIR_ASSIGN_OR_RETURN(d->fail_first_writes_, OptionalInt(obj, "config.", "fail_first_writes", 0,
                                                             0, kMaxInjectedFailures));
    WEIR_ASSIGN_OR_RETURN(d->fail_retryable_, OptionalBool(obj, "config.", "fail_retryable", true));
    while (d->dir_.size() > 1 && d->dir_.back() == '/') d->dir_.pop_back();
    return d;
  }

  /// Creates the directory, then writes, fsyncs and removes a probe file in it; the error says
  /// which of those steps failed.
  Status Check() override {
    WEIR_RETURN_NOT_OK(
        MakeDirs(dir_, "check: cannot create directory").WithContext("file-destination"));
    const std::string probe =
        dir_ + "/.weir-probe." + std::to_string(::getpid()) + "." + std::to_string(next_temp_id_++);
    {
      UniqueFd fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      int err = fd.valid() ? WriteAll(fd.get(), "probe\n") : errno;
      if (err == 0 && ::fsync(fd.get()) != 0) err = errno;
      if (err != 0) {
        if (fd.valid()) ::unlink(probe.c_str());
        return Status::Error(
            ErrnoMessage("file-destination: check: cannot write probe file", probe, err),
            IsRetryableErrno(err));
      }
    }
    if (::unlink(probe.c_str()) != 0) {
      const int err = errno;
      return Status::Error(
          ErrnoMessage("file-destination: check: cannot remove probe file", probe, err),
          IsRetryableErrno(err));
    }
    return Status::OK();
  }

  Status Write(const WriteRequest& request) override {
    ++write_calls_;
    if (write_calls_ <= fail_first_writes_) {
      return Status::Error("file-destination: injected failure " + std::to_string(write_calls_) +
                               " of " + std::to_string(fail_first_writes_),
                           fail_retryable_);
    }
    if (request.batch.raw()->format != WEIR_FORMAT_NDJSON) {
      return Status::NotImplemented("file-destination: batch format " +
                                    std::to_string(request.batch.raw()->format) +
                                    " is not supported (only NDJSON)");
    }
    if (request.idempotency_key.empty()) {
      return Status::Error("file-destination: the write request has an empty idempotency key");
    }
    if (request.stream.empty() || request.stream[0] == '.' ||
        request.stream.find_first_of("/\\") != std::string_view::npos) {
      return Status::Error("file-destination: stream name '" + std::string(request.stream) +
                           "' cannot be used as a directory name");
    }
    const std::string stream_dir = dir_ + "/" + std::string(request.stream);
    const std::string name = weir::KeyFileName(request.idempotency_key) + ".ndjson";
    const std::string final_path = stream_dir + "/" + name;
    const std::string_view data = request.batch.data();
    const std::string key(request.idempotency_key);

    if (::access(final_path.c_str(), F_OK) == 0) return CompareExisting(final_path, key, data);

    WEIR_RETURN_NOT_OK(
        MakeDirs(stream_dir, "cannot create directory").WithContext("file-destination"));
    const std::string temp_path = stream_dir + "/.tmp." + name + "." + std::to_string(::getpid()) +
                                  "." + std::to_string(next_temp_id_++);
    {
      UniqueFd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      if (!fd.valid()) {
        const int err = errno;
        return Status::Error(ErrnoMessage("file-destination: cannot create", temp_path, err),
                             IsRetryableErrno(err));
      }
      int err = WriteAll(fd.get(), data);
      if (err == 0 && ::fsync(fd.get()) != 0) err = errno;
      if (err != 0) {
        ::unlink(temp_path.c_str());
        return Status::Error(ErrnoMessage("file-destination: cannot write", temp_path, err),
                             IsRetryableErrno(err));
      }
    }
    if (delay_ms_ > 0) {
      Status s = SleepPollingCancel(host_, delay_ms_, "file-destination write");
      if (!s.ok()) {
        ::unlink(temp_path.c_str());
        return s;
      }
    }
    // link() instead of rename(): it refuses to replace an existing file, so two writers of
    // the same key can never silently overwrite each other's bytes.
    if (::link(temp_path.c_str(), final_path.c_str()) != 0) {
      const int err = errno;
      ::unlink(temp_path.c_str());
      if (err == EEXIST) return CompareExisting(final_path, key, data);
      return Status::Error(
          ErrnoMessage("file-destination: cannot link '" + temp_path + "' to", final_path, err),
          IsRetryableErrno(err));
    }
    ::unlink(temp_path.c_str());
    if (int err = FsyncDir(stream_dir); err != 0) {
      return Status::Error(
          ErrnoMessage("file-destination: cannot fsync directory", stream_dir, err), true);
    }
    host_.Counter("file_destination.records", static_cast<double>(request.batch.count()));
    host_.Debug("file-destination: wrote " + std::to_string(request.batch.count()) +
                " records to " + final_path);
    return Status::OK();
  }

  /// Every Write() is durable before it returns (fsync of the file and of its directory), so
  /// there is nothing to flush.
  Status Flush() override { return Status::OK(); }

 private:
  explicit FileDestination(Host host) : host_(host) {}

  /// A replay: identical bytes make the write a no-op; anything else is a violation.
  Status CompareExisting(const std::string& path, const std::string& key, std::string_view data) {
    std::string existing;
    if (int err = ReadFile(path, &existing); err != 0) {
      return Status::Error(ErrnoMessage("file-destination: cannot read existing", path, err),
                           IsRetryableErrno(err));
    }
    if (existing != data) {
      return Status::Error("file-destination: idempotency violation: key '" + key +
                           "' was already written to '" + path + "' with different content (" +
                           std::to_string(existing.size()) + " bytes on disk, " +
                           std::to_string(data.size()) +
                           " bytes now); a replayed key must carry exactly the same records");
    }
    host_.Counter("file_destination.replays", 1);
    host_.Debug("file-destination: key '" + key + "' already written with identical content");
    return Status::OK();
  }

  Host host_;
  std::string dir_;
  int64_t delay_ms_ = 0;
  int64_t fail_first_writes_ = 0;
  bool fail_retryable_ = true;
  int64_t write_calls_ = 0;
  uint64_t next_temp_id_ = 0;
};

}  // namespace
}  // namespace weir::testplugins

WEIR_PLUGIN((weir::PluginInfo{
                "file-destination",
                "1.0.0",
                "Writes each batch atomically and durably to <dir>/<stream>/<idempotency "
                "key>.ndjson; a replayed key is a no-op; for tests and the quick start",
                {"events", "users", "identities"},
                weir::testplugins::kDestinationSchema}),
            weir::NoSource, weir::testplugins::FileDestination)
