// tests/testkit/test_util.hpp — helpers for the conformance-kit and file-plugin tests.
//
// A mkdtemp()-based temporary directory, file helpers, the test plugins loaded once per
// process (the ABI allows one entry call per process), and thin RAII wrappers that drive a
// source or destination instance through the raw C vtables the way the host does.
#ifndef WEIR_TESTS_TESTKIT_TEST_UTIL_HPP
#define WEIR_TESTS_TESTKIT_TEST_UTIL_HPP

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "weir/plugin.hpp"
#include "weir/testkit.hpp"

namespace weir::testkit_test {

/// A fresh directory under $TMPDIR (weir-testkit-XXXXXX), removed with its contents. path() is
/// the string form: these tests build configs and messages by concatenation.
class TempDir : public weir::test::TempDir {
 public:
  TempDir() : weir::test::TempDir("weir-testkit") {}
  const std::string& path() const { return str(); }
};

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

inline void AppendFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << content;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Names of the entries of `dir` (not recursive), sorted.
inline std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// A JSON string literal for `s` (enough escaping for file paths in configs).
inline std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

/// The 8-byte big-endian watermark file-source uses for `line`.
inline std::string LineWm(uint64_t line) {
  std::string wm(8, '\0');
  for (int i = 7; i >= 0; --i, line >>= 8)
    wm[static_cast<size_t>(i)] = static_cast<char>(line & 0xff);
  return wm;
}

/// The descriptor of the plugin at `so_path`, loaded and negotiated once per process.
inline const weir_plugin& Plugin(const std::string& so_path) {
  static std::map<std::string, std::unique_ptr<testkit::PluginLibrary>> loaded;
  auto it = loaded.find(so_path);
  if (it == loaded.end()) {
    std::string error;
    auto lib = testkit::PluginLibrary::Load(so_path, &error);
    if (!lib) throw std::runtime_error(error);
    it = loaded.emplace(so_path, std::move(lib)).first;
  }
  return it->second->descriptor();
}

inline Status ToStatus(weir_status st, weir_error* err) {
  return st == WEIR_OK ? Status::OK() : Status::FromError(st, err);
}

/// What a read returned, copied out of the batch.
struct ReadResult {
  Status status;
  std::vector<std::string> records;  // without '\n'
  std::vector<int64_t> times;
  std::vector<uint64_t> seqs;
  std::string data;
  std::string high_watermark;
};

/// An open source instance (raw vtable); closed on destruction.
class SourceInstance {
 public:
  explicit SourceInstance(const weir_plugin& plugin) : vt_(plugin.source) {}
  Status Open(const std::string& config, testkit::FakeHost& host) {
    weir_error err{};
    return ToStatus(vt_->open(config.data(), config.size(), host.services(), &instance_, &err),
                    &err);
  }
  ~SourceInstance() {
    if (instance_ != nullptr) vt_->close(instance_);
  }
  SourceInstance(const SourceInstance&) = delete;
  SourceInstance& operator=(const SourceInstance&) = delete;

  Status Check() {
    weir_error err{};
    return ToStatus(vt_->check(instance_, &err), &err);
  }

  ReadResult Read(const weir_read_request& request) {
    ReadResult r;
    weir_batch batch{};
    weir_error err{};
    r.status = ToStatus(vt_->read(instance_, &request, &batch, &err), &err);
    if (!r.status.ok()) return r;
    BatchView view(&batch);
    for (size_t i = 0; i < view.count(); ++i) {
      r.records.emplace_back(view.record(i));
      r.times.push_back(view.event_time_ms(i));
      r.seqs.push_back(view.ingest_seq(i));
    }
    r.data = std::string(view.data());
    r.high_watermark = std::string(view.high_watermark());  // HEAD: set with no records
    weir_batch_release(&batch);
    return r;
  }

  /// RANGE read of `stream` after `from` (up to `to` when non-empty).
  ReadResult Range(const std::string& from, const std::string& to = "", uint64_t max_records = 0,
                   uint64_t max_bytes = 0, const char* stream = "events") {
    weir_read_request req{};
    req.struct_size = sizeof(req);
    req.mode = WEIR_READ_RANGE;
    req.stream = stream;
    req.from_wm = {reinterpret_cast<const uint8_t*>(from.data()), from.size()};
    req.to_wm = {reinterpret_cast<const uint8_t*>(to.data()), to.size()};
    req.max_records = max_records;
    req.max_bytes = max_bytes;
    return Read(req);
  }

  /// WINDOW read of events with [start, end) after `from`, before `bound` when non-empty.
  ReadResult Window(int64_t start, int64_t end, const std::string& from = "",
                    const std::string& bound = "", uint64_t max_records = 0) {
    weir_read_request req{};
    req.struct_size = sizeof(req);
    req.mode = WEIR_READ_WINDOW;
    req.stream = "events";
    req.from_wm = {reinterpret_cast<const uint8_t*>(from.data()), from.size()};
    req.max_records = max_records;
    req.window_start_ms = start;
    req.window_end_ms = end;
    req.bound_wm = {reinterpret_cast<const uint8_t*>(bound.data()), bound.size()};
    return Read(req);
  }

 private:
  const weir_source_vtable* vt_;
  weir_instance* instance_ = nullptr;
};

/// An open destination instance (raw vtable); closed on destruction.
class DestinationInstance {
 public:
  explicit DestinationInstance(const weir_plugin& plugin) : vt_(plugin.destination) {}
  Status Open(const std::string& config, testkit::FakeHost& host) {
    weir_error err{};
    return ToStatus(vt_->open(config.data(), config.size(), host.services(), &instance_, &err),
                    &err);
  }
  ~DestinationInstance() {
    if (instance_ != nullptr) vt_->close(instance_);
  }
  DestinationInstance(const DestinationInstance&) = delete;
  DestinationInstance& operator=(const DestinationInstance&) = delete;

  Status Check() {
    weir_error err{};
    return ToStatus(vt_->check(instance_, &err), &err);
  }
  Status Flush() {
    weir_error err{};
    return ToStatus(vt_->flush(instance_, &err), &err);
  }
  /// Writes `records` (one JSON object each, no '\n') as one batch under `key`.
  Status Write(const std::string& key, const std::vector<std::string>& records,
               const char* stream = "events") {
    BatchBuilder builder;
    for (size_t i = 0; i < records.size(); ++i) {
      builder.Add(records[i], 1000 * static_cast<int64_t>(i), i + 1);
    }
    builder.set_high_watermark(LineWm(records.size()));
    weir_batch batch{};
    builder.Release(&batch);
    weir_write_request req{};
    req.struct_size = sizeof(req);
    req.pipeline = "p";
    req.project = "proj";
    req.stream = stream;
    req.batch_seq = 1;
    req.idempotency_key = key.c_str();
    req.batch = &batch;
    weir_error err{};
    Status s = ToStatus(vt_->write(instance_, &req, &err), &err);
    weir_batch_release(&batch);
    return s;
  }

 private:
  const weir_destination_vtable* vt_;
  weir_instance* instance_ = nullptr;
};

}  // namespace weir::testkit_test

#endif  // WEIR_TESTS_TESTKIT_TEST_UTIL_HPP
