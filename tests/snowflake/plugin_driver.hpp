// tests/snowflake/plugin_driver.hpp — drives the real libweir-snowflake.so through the C ABI,
// the way the host does: open with a config and a fake host, write NDJSON batches under
// idempotency keys, flush, close.
//
//   SnowflakeDriver d(config_json);
//   ASSERT_TRUE(d.opened()) << d.open_status().ToString();
//   weir::Status s = d.Write("events", "p.events.000000000001", {R"({"event":"a",...})"});
#ifndef WEIR_TESTS_SNOWFLAKE_PLUGIN_DRIVER_HPP
#define WEIR_TESTS_SNOWFLAKE_PLUGIN_DRIVER_HPP

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "weir/plugin.hpp"
#include "weir/testkit.hpp"

namespace weir::snowflake::testing {

/// The plugin, loaded once per process (the ABI calls the entry function once).
inline const weir_plugin& SnowflakePlugin() {
  static std::unique_ptr<weir::testkit::PluginLibrary> lib = [] {
    std::string error;
    auto l = weir::testkit::PluginLibrary::Load(WEIR_SNOWFLAKE_SO, &error);
    if (l == nullptr) ADD_FAILURE() << "cannot load " << WEIR_SNOWFLAKE_SO << ": " << error;
    return l;
  }();
  static const weir_plugin empty{};
  return lib == nullptr ? empty : lib->descriptor();
}

/// One destination instance of the plugin.
class SnowflakeDriver {
 public:
  explicit SnowflakeDriver(const std::string& config) {
    const weir_destination_vtable* vt = SnowflakePlugin().destination;
    if (vt == nullptr) {
      open_status_ = Status::Error("plugin not loaded");
      return;
    }
    weir_error err{};
    const weir_status rc =
        vt->open(config.data(), config.size(), host_.services(), &instance_, &err);
    if (rc != WEIR_OK) open_status_ = Status::FromError(rc, &err);
  }
  ~SnowflakeDriver() {
    if (instance_ != nullptr) SnowflakePlugin().destination->close(instance_);
  }
  SnowflakeDriver(const SnowflakeDriver&) = delete;
  SnowflakeDriver& operator=(const SnowflakeDriver&) = delete;

  bool opened() const { return instance_ != nullptr; }
  const Status& open_status() const { return open_status_; }
  weir::testkit::FakeHost& host() { return host_; }

  Status Check() {
    weir_error err{};
    const weir_status rc = SnowflakePlugin().destination->check(instance_, &err);
    return rc == WEIR_OK ? Status::OK() : Status::FromError(rc, &err);
  }

  /// Writes `records` (one canonical record each, no newline) as one batch; `times` are the
  /// per-record event times the host would pass (0 when not given).
  Status Write(const std::string& stream, const std::string& key,
               const std::vector<std::string>& records, uint64_t batch_seq = 1,
               const std::string& pipeline = "test") {
    BatchBuilder builder;
    for (size_t i = 0; i < records.size(); ++i) builder.Add(records[i], 0, i + 1);
    builder.set_high_watermark("wm");
    weir_batch batch{};
    builder.Release(&batch);
    weir_write_request req{};
    req.struct_size = sizeof req;
    req.pipeline = pipeline.c_str();
    req.project = "demo";
    req.stream = stream.c_str();
    req.batch_seq = batch_seq;
    req.idempotency_key = key.c_str();
    req.batch = &batch;
    weir_error err{};
    weir_status rc = SnowflakePlugin().destination->write(instance_, &req, &err);
    batch.release(&batch);
    if (rc != WEIR_OK) return Status::FromError(rc, &err);
    rc = SnowflakePlugin().destination->flush(instance_, &err);
    return rc == WEIR_OK ? Status::OK() : Status::FromError(rc, &err);
  }

 private:
  weir::testkit::FakeHost host_;
  weir_instance* instance_ = nullptr;
  Status open_status_;
};

}  // namespace weir::snowflake::testing

#endif  // WEIR_TESTS_SNOWFLAKE_PLUGIN_DRIVER_HPP
