// examples/hello-destination/hello_destination.cpp — a complete, small weir destination plugin.
//
// Writes every batch to `<dir>/<stream>/<idempotency_key>.ndjson`, exactly the NDJSON bytes the
// source produced (stream and key made safe, bounded file names by weir::KeyFileName). It shows
// the three things every destination must get right:
//   - configuration: parse and validate the JSON config in Open(), name the bad field;
//   - idempotency: a replayed key (same key, same records, after a crash) is a no-op;
//   - durability: Flush() returns OK only once everything written so far survives a power cut.
// A file appears under its final name only complete (temp file, fsync, rename), so "the final
// name exists" means "this key was written". The rename itself becomes durable when the
// directory is fsync'd, which Flush() does for every directory Write() touched.
//
// Built out of tree against the installed SDK (see README.md and docs/writing-a-plugin.md):
//   find_package(weir REQUIRED)
//   weir_add_plugin(NAME hello-destination SOURCES hello_destination.cpp)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "weir/files.hpp"
#include "weir/plugin.hpp"

namespace hello {

/// The config's JSON Schema, shown by the host (`weir plugins list`) and used to validate
/// pipeline files before a run.
constexpr const char kConfigSchema[] = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "hello-destination",
  "type": "object",
  "properties": {
    "dir": {
      "type": "string",
      "minLength": 1,
      "description": "Receives <stream>/<idempotency_key>.ndjson; created if its parent exists"
    }
  },
  "required": ["dir"],
  "additionalProperties": false
})json";

// ---------------------------------------------------------------------------------------------
// Configuration: {"dir": "<path>"}
//
// A real plugin would use a JSON library; this example parses its one string field by hand so
// that it builds with nothing but the weir SDK.

struct Config {
  std::string dir;
};

/// Reads JSON tokens from the config text. Only what {"dir": "..."} needs: punctuation and
/// strings (with escapes). Every error says what was expected and at which byte offset.
class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : text_(text) {}

  /// Skips whitespace; consumes `c` and returns true if it comes next.
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }

  /// Parses a JSON string; `what` names it in the error ("'dir'", "a field name").
  weir::Result<std::string> String(const std::string& what) {
    if (!Consume('"')) return Fail(what + " must be a string");
    std::string out;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in " + what);
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ == text_.size()) break;
      switch (const char e = text_[pos_++]) {
        case '"': case '\\': case '/': out.push_back(e); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          WEIR_ASSIGN_OR_RETURN(const unsigned cp, Hex4(what));
          AppendUtf8(cp, out);
          break;
        }
        default: return Fail("invalid escape '\\" + std::string(1, e) + "' in " + what);
      }
    }
    return Fail("unterminated string in " + what);
  }

  /// An InvalidConfig status naming the problem and where it is.
  weir::Status Fail(const std::string& problem) const {
    return weir::Status::InvalidConfig("config: " + problem + " (at byte " +
                                       std::to_string(pos_) + ")");
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // \uXXXX. Surrogate pairs (characters outside the Basic Multilingual Plane) are refused to
  // keep the example short; write such characters unescaped (JSON text is UTF-8).
  weir::Result<unsigned> Hex4(const std::string& what) {
    if (text_.size() - pos_ < 4) return Fail("truncated \\u escape in " + what);
    unsigned cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      cp <<= 4;
      if (h >= '0' && h <= '9') cp |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') cp |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') cp |= static_cast<unsigned>(h - 'A' + 10);
      else return Fail("invalid \\u escape in " + what);
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) return Fail("\\u surrogate escapes are not supported");
    if (cp == 0) return Fail("\\u0000 is not allowed in " + what);
    return cp;
  }

  static void AppendUtf8(unsigned cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

weir::Result<Config> ParseConfig(std::string_view text) {
  JsonReader in(text);
  if (!in.Consume('{')) return in.Fail("expected a JSON object like {\"dir\": \"/path\"}");
  Config config;
  bool have_dir = false;
  if (!in.Consume('}')) {
    do {
      WEIR_ASSIGN_OR_RETURN(std::string key, in.String("a field name"));
      if (!in.Consume(':')) return in.Fail("expected ':' after \"" + key + "\"");
      if (key != "dir") return in.Fail("unknown field '" + key + "' (the only field is 'dir')");
      if (have_dir) return in.Fail("field 'dir' given twice");
      WEIR_ASSIGN_OR_RETURN(config.dir, in.String("'dir'"));
      have_dir = true;
    } while (in.Consume(','));
    if (!in.Consume('}')) return in.Fail("expected ',' or '}'");
  }
  if (!in.AtEnd()) return in.Fail("unexpected text after the config object");
  if (!have_dir) return weir::Status::InvalidConfig("config: missing required field 'dir'");
  if (config.dir.empty()) return weir::Status::InvalidConfig("config: 'dir' must not be empty");
  while (config.dir.size() > 1 && config.dir.back() == '/') config.dir.pop_back();
  return config;
}

// ---------------------------------------------------------------------------------------------
// Files

/// The system call that just failed as a Status: "<action><path>: <strerror>", with errno as
/// the vendor code. Running out of space or an I/O error may pass (the host retries); a
/// permission or path problem will not. Reads errno before anything can overwrite it.
weir::Status Errno(std::string_view action, const std::string& path) {
  const int err = errno;
  const bool transient = err == EINTR || err == EAGAIN || err == EIO || err == ENOSPC ||
                         err == EDQUOT;
  return weir::Status::Error(std::string(action) + path + ": " +
                                 std::error_code(err, std::generic_category()).message(),
                             transient)
      .WithVendorCode(err);
}

/// Deletes a temporary file unless Keep() was called (after it was renamed into place).
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  ~TempFileGuard() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  void Keep() { path_.clear(); }

 private:
  std::string path_;
};

/// Creates a temp file from `pattern` (ending in XXXXXX), writes `data`, fsyncs and closes it.
/// On success `pattern` holds the file's name and the caller owns the file.
weir::Status WriteSyncedTempFile(std::string& pattern, std::string_view data) {
  weir::UniqueFd fd(::mkstemp(pattern.data()));
  if (fd.get() < 0) return Errno("creating ", pattern);
  TempFileGuard guard(pattern);
  while (!data.empty()) {
    const ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("writing ", pattern);
    data.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd.get()) != 0) return Errno("fsync of ", pattern);
  // close() can be the first to report a deferred write error; UniqueFd::Close() returns it.
  if (fd.Close() != 0) return Errno("closing ", pattern);
  guard.Keep();
  return weir::Status::OK();
}

/// Makes a directory's entries (new files, renames) durable.
weir::Status SyncDir(const std::string& dir) {
  weir::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Errno("opening directory ", dir);
  if (::fsync(fd.get()) != 0) return Errno("fsync of directory ", dir);
  return weir::Status::OK();
}

// ---------------------------------------------------------------------------------------------
// The destination

class HelloDestination : public weir::Destination {
 public:
  /// Called by the host's open(): validates the config, touches nothing on disk.
  static weir::Result<std::unique_ptr<HelloDestination>> Open(std::string_view config,
                                                              weir::Host host) {
    WEIR_ASSIGN_OR_RETURN(Config parsed, ParseConfig(config));
    return std::unique_ptr<HelloDestination>(new HelloDestination(std::move(parsed), host));
  }

  /// Proves `dir` is writable: creates it if needed, then writes, syncs and deletes a probe.
  weir::Status Check() override {
    WEIR_RETURN_NOT_OK(MakeDir(config_.dir).WithContext("check"));
    std::string probe = config_.dir + "/.hello-probe-XXXXXX";
    WEIR_RETURN_NOT_OK(WriteSyncedTempFile(probe, "probe\n").WithContext("check"));
    if (::unlink(probe.c_str()) != 0) return Errno("check: deleting probe file ", probe);
    return weir::Status::OK();
  }

  /// Writes the batch under its idempotency key. The file is complete on disk when this
  /// returns; its directory entry is made durable by Flush().
  weir::Status Write(const weir::WriteRequest& request) override {
    if (request.idempotency_key.empty()) return weir::Status::Error("write: empty idempotency key");
    if (request.stream.empty()) return weir::Status::Error("write: empty stream name");
    // weir::KeyFileName (weir/files.hpp) makes any stream or key one safe, bounded file name
    // component: '/' and other unsafe bytes never reach the path, and a long key cannot make
    // the name exceed NAME_MAX (ENAMETOOLONG), even with the ".ndjson" or temporary suffix.
    const std::string key_name = weir::KeyFileName(request.idempotency_key);
    const std::string stream_dir = config_.dir + "/" + weir::KeyFileName(request.stream);
    const std::string path = stream_dir + "/" + key_name + ".ndjson";
    WEIR_RETURN_NOT_OK(MakeDir(config_.dir));
    WEIR_RETURN_NOT_OK(MakeDir(stream_dir));

    // Replay after a crash: the same key always carries the same records, and a file only gets
    // its final name once complete, so an existing file is already the right answer. Its
    // directory is still synced by Flush(): the first attempt may have died before that.
    if (::access(path.c_str(), F_OK) == 0) {
      host_.Info("hello-destination: " + path + " exists, replayed batch skipped");
      unsynced_dirs_.insert(stream_dir);
      return weir::Status::OK();
    }

    std::string temp = stream_dir + "/." + key_name + ".XXXXXX";
    WEIR_RETURN_NOT_OK(WriteSyncedTempFile(temp, request.batch.data()));
    TempFileGuard guard(temp);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      return Errno("renaming the temporary file into place as ", path);
    }
    guard.Keep();
    unsynced_dirs_.insert(stream_dir);
    host_.Counter("hello.records", static_cast<double>(request.batch.count()));
    host_.Counter("hello.bytes", static_cast<double>(request.batch.data().size()));
    return weir::Status::OK();
  }

  /// Syncs every directory that got a new entry since the last successful Flush().
  weir::Status Flush() override {
    while (!unsynced_dirs_.empty()) {
      // Keep a directory queued until its fsync succeeded, so a retried Flush() redoes it.
      WEIR_RETURN_NOT_OK(SyncDir(*unsynced_dirs_.begin()).WithContext("flush"));
      unsynced_dirs_.erase(unsynced_dirs_.begin());
    }
    return weir::Status::OK();
  }

 private:
  HelloDestination(Config config, weir::Host host) : config_(std::move(config)), host_(host) {}

  /// Creates `dir` if it is missing (not its parents) and queues its parent for a sync, since
  /// a new directory entry is durable only once the parent directory is synced.
  weir::Status MakeDir(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0755) == 0) {
      const size_t slash = dir.find_last_of('/');
      if (slash == std::string::npos) {
        unsynced_dirs_.insert(".");
      } else {
        unsynced_dirs_.insert(slash == 0 ? "/" : dir.substr(0, slash));
      }
      return weir::Status::OK();
    }
    if (errno != EEXIST) return Errno("creating directory ", dir);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return weir::Status::Error(dir + " exists but is not a directory");
    }
    return weir::Status::OK();
  }

  Config config_;
  weir::Host host_;
  std::set<std::string> unsynced_dirs_;
};

}  // namespace hello

// The one line that makes this a plugin: it defines the exported entry symbol
// `weir_plugin_entry_v1`, which describes the plugin and routes the host's calls to the class.
WEIR_PLUGIN((weir::PluginInfo{"hello-destination", "1.0.0",
                              "Writes each batch to <dir>/<stream>/<idempotency_key>.ndjson",
                              {"events", "users", "identities"}, hello::kConfigSchema}),
            weir::NoSource, hello::HelloDestination)
