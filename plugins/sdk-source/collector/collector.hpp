// plugins/sdk-source/collector/collector.hpp — the sdk-source collector: an HTTP server speaking
// the Mixpanel, Segment and native ingestion protocols, writing into one durable Store per
// project (data_dir/<project>). docs/sdk-source.md describes endpoints, config and errors.
//
// Used by the standalone `weir-collector` executable and, through the plugin ABI's service
// capability, by `weir serve`.
//
//   auto collector = weir::sdksource::Collector::Start(config_json, [](auto level, auto msg) {
//     std::fprintf(stderr, "%.*s\n", int(msg.size()), msg.data());
//   });
//   if (!collector.ok()) return collector.status();   // bad config, store locked, port taken
//   uint16_t port = (*collector)->port();
//   ...
//   (*collector)->Stop();                                // graceful; also done by the destructor
#ifndef WEIR_SDK_SOURCE_COLLECTOR_COLLECTOR_HPP
#define WEIR_SDK_SOURCE_COLLECTOR_COLLECTOR_HPP

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "collector/log.hpp"
#include "weir/plugin.hpp"

namespace weir::sdksource {

/// Receives the collector's ingest counters as increments (cumulative by the receiver):
/// collector.requests (every request answered), collector.events_accepted,
/// collector.profiles_accepted, collector.identities_accepted (records stored durably),
/// collector.rejected (requests answered 4xx) and collector.errors (answered 5xx). Called from
/// any collector thread, possibly concurrently; must be thread-safe. Inside the host the
/// sdk-source plugin forwards them to the host's metric() service (`weir serve` shows them on
/// /metrics). An empty function discards them.
using MetricFn = std::function<void(const char* name, double increment)>;

/// A running collector. Not copyable. Port(), Stop() and the destructor may be called from any
/// thread except the collector's own (a LogFn callback must not call Stop()).
class Collector {
 public:
  /// Parses `config_json` (see collector_config.hpp; ${ENV} references must already be
  /// resolved), opens every project's store for writing (creating it if needed; cutting a torn
  /// tail left by a crash) and starts listening. Returns once requests are being accepted.
  /// Fails with InvalidConfig for a bad configuration, or with the store's or the socket's
  /// error (a store held by another writer, an address in use).
  static Result<std::unique_ptr<Collector>> Start(std::string_view config_json, LogFn log,
                                                  MetricFn metric = {});

  /// Stops (see Stop()).
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  /// The port actually bound (useful with "listen": "…:0").
  uint16_t port() const;

  /// Stops accepting connections, answers the requests already being handled (each 2xx still
  /// means durable), closes the stores and returns. Idempotent.
  void Stop();

  class Impl;

 private:
  explicit Collector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_COLLECTOR_COLLECTOR_HPP
