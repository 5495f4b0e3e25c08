// tests/sdk_source/store/store_test_util.hpp — helpers shared by the store tests: a temporary
// directory, a settable clock, opening/appending/reading that throw on failure (gtest reports
// the exception as the test's failure), and small record builders.
#ifndef WEIR_TESTS_SDK_SOURCE_STORE_STORE_TEST_UTIL_HPP
#define WEIR_TESTS_SDK_SOURCE_STORE_STORE_TEST_UTIL_HPP

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "store/store.hpp"
#include "temp_dir.hpp"

namespace weir::sdksource::testing {

/// A fresh directory under TMPDIR (weir-store-XXXXXX), removed with everything in it.
class TempDir : public weir::test::TempDir {
 public:
  TempDir() : weir::test::TempDir("weir-store") {}
};

/// A clock the test moves by hand (ms since the epoch).
class FakeClock {
 public:
  explicit FakeClock(int64_t start_ms) : now_(std::make_shared<std::atomic<int64_t>>(start_ms)) {}
  void Set(int64_t ms) { now_->store(ms); }
  std::function<int64_t()> Fn() const {
    auto now = now_;
    return [now] { return now->load(); };
  }

 private:
  std::shared_ptr<std::atomic<int64_t>> now_;
};

inline StoreOptions Options(const std::filesystem::path& dir, uint64_t segment_bytes = 64 << 20) {
  StoreOptions o;
  o.dir = dir;
  o.segment_bytes = segment_bytes;
  o.group_commit_window = std::chrono::microseconds(0);
  return o;
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) throw std::runtime_error(std::string(what) + ": " + r.status().ToString());
  return std::move(r).value();
}

inline std::unique_ptr<Store> MustOpen(const StoreOptions& o) {
  return Must(Store::Open(o), "Store::Open");
}
inline std::unique_ptr<Store> MustOpenReadOnly(const StoreOptions& o) {
  return Must(Store::OpenReadOnly(o), "Store::OpenReadOnly");
}
inline SeqRange MustAppend(Store& store, std::vector<Record> records) {
  return Must(store.Append(std::move(records)), "Store::Append");
}

/// A record read back, owning its JSON.
struct Row {
  uint64_t seq = 0;
  int64_t ingest_ms = 0;
  int64_t event_ms = 0;
  std::string json;
  bool operator==(const Row&) const = default;
};

inline std::vector<Row> MustRead(const Store& store, Stream stream, const ReadBounds& bounds) {
  ReadResult result;
  Status st = store.Read(stream, bounds, result);
  if (!st.ok()) throw std::runtime_error("Store::Read: " + st.ToString());
  std::vector<Row> rows;
  for (const StoredRecord& r : result.records) {
    rows.push_back({r.seq, r.ingest_time_ms, r.event_time_ms, std::string(r.json)});
  }
  return rows;
}

/// Every record of `stream`, read in small batches to exercise resumption.
inline std::vector<Row> ReadAll(const Store& store, Stream stream) {
  std::vector<Row> all;
  ReadBounds b;
  b.max_records = 37;
  while (true) {
    auto rows = MustRead(store, stream, b);
    if (rows.empty()) return all;
    b.after_seq = rows.back().seq;
    all.insert(all.end(), rows.begin(), rows.end());
  }
}

/// {"event":"e","n":<n>,"pad":"xxx…"} (pad makes records bigger for rollover tests).
inline std::string EventJson(int n, size_t pad = 0) {
  return R"({"event":"e","n":)" + std::to_string(n) + R"(,"pad":")" + std::string(pad, 'x') +
         R"("})";
}

inline ProfileOp Op(ProfileOp::Kind kind, std::string argument) {
  ProfileOp op;
  op.kind = kind;
  op.argument_json = std::move(argument);
  return op;
}

/// The segment files of `stream`, sorted by name.
inline std::vector<std::filesystem::path> SegmentFiles(const std::filesystem::path& dir,
                                                       Stream stream) {
  std::vector<std::filesystem::path> files;
  const auto sdir = dir / StreamName(stream);
  if (!std::filesystem::exists(sdir)) return files;
  for (const auto& e : std::filesystem::directory_iterator(sdir)) {
    if (e.path().extension() == ".seg") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace weir::sdksource::testing

#endif  // WEIR_TESTS_SDK_SOURCE_STORE_STORE_TEST_UTIL_HPP
