// plugins/snowflake/stage.cpp — gzip NDJSON stage files for the `stage` load method.
#include "snowflake/stage.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "weir/files.hpp"
#include "weir/json.hpp"

namespace weir::snowflake {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

}  // namespace

std::string StageFileName(std::string_view key) { return weir::KeyFileName(key) + ".ndjson.gz"; }

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
