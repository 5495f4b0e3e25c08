// tests/s3/plugin/test_util.hpp — helpers for s3_plugin_test: temp dirs, reading back exported
// objects (gzip through zlib, zstd through libzstd — independent of the libdeflate writer),
// synthetic canonical records, and an RAII driver of the s3 plugin through its C vtable the way
// the host calls it.
#ifndef WEIR_TESTS_S3_PLUGIN_TEST_UTIL_HPP
#define WEIR_TESTS_S3_PLUGIN_TEST_UTIL_HPP

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "temp_dir.hpp"
#include "weir/plugin.hpp"
#include "weir/testkit.hpp"

namespace weir::s3_test {

/// A fresh directory under $TMPDIR (weir-s3-test-XXXXXX), removed with its contents. path() is
/// the string form: these tests build configs and messages by concatenation.
class TempDir : public weir::test::TempDir {
 public:
  TempDir() : weir::test::TempDir("weir-s3-test") {}
  const std::string& path() const { return str(); }
};

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);
/// A JSON string literal for `s`.
std::string JsonString(const std::string& s);

/// Every regular file below `dir` as relative path → bytes (temp files included, so a test
/// sees any leftover).
std::map<std::string, std::string> ReadTree(const std::string& dir);

/// Inflates exactly one gzip member that spans all of `gz`; fails the test otherwise.
std::string Gunzip(std::string_view gz);
/// Decompresses one zstd frame spanning all of `zst`.
std::string Unzstd(std::string_view zst);
/// Decompresses by the object name's extension (.json.gz, .json.zst, .json).
std::string DecodeObject(const std::string& name, std::string_view bytes);
/// Splits NDJSON into lines (without '\n'); the text must end with '\n'.
std::vector<std::string> Lines(std::string_view ndjson);

/// One synthetic canonical event with the given index and event time (ms UTC).
std::string EventJson(int index, int64_t time_ms, int payload_bytes = 40);

/// A batch as a source hands it over: owns its records and releases them on destruction.
class OwnedBatch {
 public:
  OwnedBatch() = default;
  ~OwnedBatch() { weir_batch_release(&batch_); }
  OwnedBatch(const OwnedBatch&) = delete;
  OwnedBatch& operator=(const OwnedBatch&) = delete;

  void Add(const std::string& json, int64_t event_time_ms);
  /// Freezes the records into the weir_batch (call once, after the last Add).
  const weir_batch* Finish();
  const std::vector<std::string>& records() const { return records_; }

 private:
  BatchBuilder builder_;
  std::vector<std::string> records_;
  uint64_t next_seq_ = 1;
  weir_batch batch_{};
};

/// The s3 plugin (loaded once per process) and one open destination instance.
class S3Instance {
 public:
  /// Opens an instance with `config`; check status() before use.
  explicit S3Instance(const std::string& config);
  ~S3Instance();
  S3Instance(const S3Instance&) = delete;
  S3Instance& operator=(const S3Instance&) = delete;

  /// The open() outcome.
  const Status& status() const { return open_status_; }
  Status Check();
  Status Write(const weir_batch* batch, uint64_t batch_seq, const std::string& stream = "events",
               const std::string& pipeline = "demo", const std::string& project = "proj");
  Status Flush();
  testkit::FakeHost& host() { return host_; }

  /// The plugin's descriptor (loads the plugin on first use).
  static const weir_plugin& Descriptor();
  /// The outcome of open() alone (the instance, if any, is closed again).
  static Status OpenStatus(const std::string& config);

 private:
  testkit::FakeHost host_;
  weir_instance* instance_ = nullptr;
  Status open_status_;
};

}  // namespace weir::s3_test

#endif  // WEIR_TESTS_S3_PLUGIN_TEST_UTIL_HPP
