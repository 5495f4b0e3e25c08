// tests/plugins/good/ndjson_file.hpp — an index of the complete lines of an append-only file.
//
// The file source addresses records by 1-based line number. This class remembers where each
// complete line (one ending in '\n') ends, so a read after line N seeks straight to it instead
// of rescanning the file. Each Refresh() reopens the path and indexes only the bytes appended
// since the last one; a trailing line without its '\n' is not counted until it is finished.
// A file that shrank is an error (the watermarks handed out would no longer mean anything);
// a file replaced by a new inode is re-indexed from the start.
//
//   weir::testplugins::NdjsonFile file("/data/events.ndjson");
//   weir::testplugins::UniqueFd fd;
//   WEIR_RETURN_NOT_OK(file.Refresh(&fd));
//   for (uint64_t line = 1; line <= file.line_count(); ++line) { ... file.LineStart(line) ... }
#ifndef WEIR_TESTS_PLUGINS_GOOD_NDJSON_FILE_HPP
#define WEIR_TESTS_PLUGINS_GOOD_NDJSON_FILE_HPP

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "file_util.hpp"
#include "weir/plugin.hpp"

namespace weir::testplugins {

class NdjsonFile {
 public:
  explicit NdjsonFile(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }

  /// Opens the path (leaving the descriptor in `*fd` for the caller's reads) and indexes any
  /// complete lines appended since the previous call. Fails naming the path when the file
  /// cannot be opened or has shrunk.
  Status Refresh(UniqueFd* fd);

  /// Number of complete lines indexed so far.
  uint64_t line_count() const { return ends_.size(); }
  /// Byte offset where 1-based `line` starts. Requires 1 <= line <= line_count().
  uint64_t LineStart(uint64_t line) const { return line == 1 ? 0 : ends_[line - 2]; }
  /// Byte offset just past the '\n' that ends 1-based `line`.
  uint64_t LineEnd(uint64_t line) const { return ends_[line - 1]; }

 private:
  std::string path_;
  bool have_identity_ = false;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  /// ends_[i] is the offset just past the '\n' of line i + 1.
  std::vector<uint64_t> ends_;
};

}  // namespace weir::testplugins

#endif  // WEIR_TESTS_PLUGINS_GOOD_NDJSON_FILE_HPP
