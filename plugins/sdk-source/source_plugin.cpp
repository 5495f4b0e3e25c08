// plugins/sdk-source/source_plugin.cpp — the `sdk-source` plugin: events, user profile
// snapshots and identity mappings from the store the weir-collector writes.
//
// Built as build/plugins/libweir-sdk-source.so. Config (see source_config.hpp):
//
//   {"data_dir": "/var/lib/weir/sdk-source", "project": "demo"}
//
// Streams: events, users, identities. The watermark is the last record's ingest sequence as
// 8 bytes big-endian (source_watermark.hpp); range and window reads, replay and limits are
// described in source_reader.hpp and docs/sdk-source-plugin.md. open() only validates the
// config; the store is opened read-only by the first check() or read(), so a pipeline can be
// validated before the collector has created the project's store, and check() says so.
//
// The service (ABI 1.1) is the collector: `weir service run sdk-source --config FILE` runs the
// HTTP server that app SDKs send to (collector/collector.hpp, docs/sdk-source.md).
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <thread>

#include "collector/collector.hpp"
#include "source_batch.hpp"
#include "source_config.hpp"
#include "source_reader.hpp"
#include "weir/plugin.hpp"

namespace weir::sdksource {
namespace {

class SdkSource : public Source {
 public:
  /// Validates the config; does no I/O (see the banner).
  static Result<std::unique_ptr<SdkSource>> Open(std::string_view config, Host host) {
    WEIR_ASSIGN_OR_RETURN(SourceConfig parsed, ParseSourceConfig(config));
    return std::make_unique<SdkSource>(std::move(parsed), host);
  }

  SdkSource(SourceConfig config, Host host) : reader_(std::move(config), host) {}

  Status Check() override { return reader_.Check(); }
  Status Read(const ReadRequest& request, BatchBuilder& out) override {
    SourceBatch batch;
    WEIR_RETURN_NOT_OK(reader_.Read(request, batch));
    out = batch.TakeBuilder();
    return Status::OK();
  }

 private:
  SourceReader reader_;
};

/// The collector as a host-run service: Start on open, serve until the host cancels.
class CollectorService : public Service {
 public:
  static Result<std::unique_ptr<CollectorService>> Open(std::string_view config, Host host) {
    auto log = [host](LogLevel level, std::string_view message) {
      switch (level) {
        case LogLevel::kDebug: host.Debug(message); break;
        case LogLevel::kInfo: host.Info(message); break;
        case LogLevel::kWarn: host.Warn(message); break;
        case LogLevel::kError: host.Error(message); break;
      }
    };
    // Ingest counters go to the host's metric() service (`weir serve` shows them on /metrics).
    auto metric = [host](const char* name, double increment) { host.Counter(name, increment); };
    WEIR_ASSIGN_OR_RETURN(std::unique_ptr<Collector> collector,
                          Collector::Start(config, log, metric));
    return std::make_unique<CollectorService>(std::move(collector), host);
  }
  CollectorService(std::unique_ptr<Collector> collector, Host host)
      : collector_(std::move(collector)), host_(host) {}

  Status Run() override {
    while (!host_.IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    collector_->Stop();  // graceful: in-flight requests finish and are acknowledged
    return Status::OK();
  }

 private:
  std::unique_ptr<Collector> collector_;
  Host host_;
};

}  // namespace
}  // namespace weir::sdksource

WEIR_PLUGIN_WITH_SERVICE(
    (weir::PluginInfo{"sdk-source", "0.1.0",
                      "Collects events and profiles from app SDKs (Mixpanel, Segment and native "
                      "HTTP APIs) and reads them back: events, user profile snapshots, identity "
                      "mappings (watermark = ingest sequence)",
                      {"events", "users", "identities"},
                      weir::sdksource::kSourceConfigSchema}),
    weir::sdksource::SdkSource, weir::NoDestination, weir::sdksource::CollectorService)
