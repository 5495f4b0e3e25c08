// tests/sdk_source/plugin/plugin_test_util.hpp — helpers for the sdk-source plugin tests.
//
// Filling a real store (Store::Open + Append, durable on return) in a temp dir with canonical
// events, profile operations and identity mappings; reading a whole stream back through the
// store itself (the reference the plugin's output is compared with); the plugin's config and
// watermark encoding. The raw-vtable drivers (SourceInstance, FakeHost) come from
// tests/testkit/test_util.hpp.
#ifndef WEIR_TESTS_SDK_SOURCE_PLUGIN_PLUGIN_TEST_UTIL_HPP
#define WEIR_TESTS_SDK_SOURCE_PLUGIN_PLUGIN_TEST_UTIL_HPP

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "store/store.hpp"
#include "test_util.hpp"

namespace weir::sdksource_test {

/// One canonical event (DESIGN.md §2) for index `n` at `time_ms`.
inline std::string EventJson(int n, int64_t time_ms) {
  return R"({"event":"Purchase","time":)" + std::to_string(time_ms) + R"(,"distinct_id":"user-)" +
         std::to_string(n % 7) + R"(","insert_id":"ev-)" + std::to_string(n) +
         R"(","properties":{"n":)" + std::to_string(n) + R"(,"sku":"A-)" +
         std::to_string(n * 31 % 1000) + R"("}})";
}

inline std::string IdentityJson(int n, int64_t time_ms) {
  return R"({"distinct_id":"anon-)" + std::to_string(n) + R"(","user_id":"user-)" +
         std::to_string(n) + R"(","time":)" + std::to_string(time_ms) + "}";
}

inline sdksource::ProfileOp Op(sdksource::ProfileOp::Kind kind, std::string argument_json) {
  sdksource::ProfileOp op;
  op.kind = kind;
  op.argument_json = std::move(argument_json);
  return op;
}

/// A writable store in `dir` (created); throws if it cannot be opened.
inline std::unique_ptr<sdksource::Store> OpenWriter(const std::string& dir) {
  sdksource::StoreOptions options;
  options.dir = dir;
  auto store = sdksource::Store::Open(options);
  if (!store.ok()) throw std::runtime_error("Store::Open: " + store.status().ToString());
  return std::move(store).value();
}

/// Appends `records` durably; throws on failure. Returns the seqs given.
inline sdksource::SeqRange Append(sdksource::Store& store, std::vector<sdksource::Record> records) {
  auto r = store.Append(std::move(records));
  if (!r.ok()) throw std::runtime_error("Store::Append: " + r.status().ToString());
  return r.value();
}

/// Every record of `stream` as the store returns it, read through a read-only handle.
struct StoredCopy {
  std::vector<std::string> json;
  std::vector<uint64_t> seqs;
  std::vector<int64_t> times;
  std::string ndjson;  ///< json + '\n' each, concatenated
};

inline StoredCopy ReadAll(const std::string& dir, sdksource::Stream stream) {
  sdksource::StoreOptions options;
  options.dir = dir;
  auto store = sdksource::Store::OpenReadOnly(options);
  if (!store.ok()) throw std::runtime_error("OpenReadOnly: " + store.status().ToString());
  sdksource::ReadResult result;
  sdksource::ReadBounds bounds;
  auto st = (*store)->Read(stream, bounds, result);
  if (!st.ok()) throw std::runtime_error("Read: " + st.ToString());
  StoredCopy copy;
  for (const auto& r : result.records) {
    copy.json.emplace_back(r.json);
    copy.seqs.push_back(r.seq);
    copy.times.push_back(r.event_time_ms);
    copy.ndjson += std::string(r.json) + "\n";
  }
  return copy;
}

/// The plugin config for the store of `project` under `data_dir`.
inline std::string SourceConfigJson(const std::string& data_dir, const std::string& project) {
  return "{\"data_dir\": " + testkit_test::JsonString(data_dir) +
         ", \"project\": " + testkit_test::JsonString(project) + "}";
}

/// The plugin's watermark for `seq` (8 bytes big-endian).
inline std::string SeqWm(uint64_t seq) { return testkit_test::LineWm(seq); }

}  // namespace weir::sdksource_test

#endif  // WEIR_TESTS_SDK_SOURCE_PLUGIN_PLUGIN_TEST_UTIL_HPP
