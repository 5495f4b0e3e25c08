// plugins/snowflake/stage.cpp — gzip NDJSON stage files for the `stage` load method.
#include "snowflake/stage.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "weir/json.hpp"

namespace weir::snowflake {
namespace {

constexpr size_t kMaxKeyChars = 160;

bool IsFileNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

/// FNV-1a, 64 bit: a stable hash keeping sanitized names distinct.
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}


std::string ErrnoText(int err) { return std::strerror(err); }

/// Owns a file descriptor; closes it once.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Close(); }
  int get() const { return fd_; }
  /// Closes now; returns 0 or the errno of close().
  int Close() {
    if (fd_ < 0) return 0;
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

}  // namespace

std::string StageFileName(std::string_view key) {
  std::string name;
  bool changed = false;
  for (char c : key) {
    changed = changed || !IsFileNameChar(c);
    name.push_back(IsFileNameChar(c) ? c : '_');
  }
  if (name.size() > kMaxKeyChars) {
    name.resize(kMaxKeyChars);
    changed = true;
  }
  if (changed || name.empty()) {
    char hash[24];
    std::snprintf(hash, sizeof hash, ".x%016llx", static_cast<unsigned long long>(Fnv1a(key)));
    name += hash;
  }
  return name + ".ndjson.gz";
}

std::string StagedRowsToNdjson(const StagedRows& rows, const std::vector<std::string>& columns) {
  std::string out;
  for (size_t r = 0; r < rows.rows(); ++r) {
    out.push_back('{');
    for (size_t c = 0; c < rows.columns() && c < columns.size(); ++c) {
      if (c > 0) out.push_back(',');
      weir::AppendJsonString(out, columns[c]);
      out.push_back(':');
      if (auto f = rows.field(r, c)) {
        weir::AppendJsonString(out, *f);
      } else {
        out += "null";
      }
    }
    out += "}\n";
  }
  return out;
}

Result<std::string> Gzip(std::string_view data) {
  z_stream z{};
  // windowBits 15 + 16: a gzip wrapper; deflate writes its header with mtime 0.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Error("snowflake: gzip: deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(data.size())) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const size_t written = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Status::Error("snowflake: gzip: deflate did not finish");
  out.resize(written);
  return out;
}

Status WriteStageFile(const std::string& path, const StagedRows& rows,
                      const std::vector<std::string>& columns) {
  WEIR_ASSIGN_OR_RETURN(std::string gz, Gzip(StagedRowsToNdjson(rows, columns)));
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    const int err = errno;
    return Status::Error("snowflake: cannot create stage file '" + temp + "': " + ErrnoText(err),
                         err == EINTR || err == EAGAIN);
  }
  size_t done = 0;
  int err = 0;
  while (done < gz.size()) {
    const ssize_t n = ::write(fd.get(), gz.data() + done, gz.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (err == 0 && ::fsync(fd.get()) != 0) err = errno;
  if (const int closed = fd.Close(); err == 0) err = closed;
  if (err == 0 && ::rename(temp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(temp.c_str());
    return Status::Error("snowflake: cannot write stage file '" + path + "': " + ErrnoText(err),
                         err == ENOSPC || err == EINTR);
  }
  return Status::OK();
}

}  // namespace weir::snowflake
