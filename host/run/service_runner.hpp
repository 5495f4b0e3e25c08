// host/run/service_runner.hpp — runs a plugin's service (ABI 1.1) in the foreground.
//
// `weir service run NAME --config FILE` uses it to run, for example, the sdk-source collector
// until SIGINT/SIGTERM; `weir serve` runs the same command as a supervised child, with
// --metrics-file so it can show the service's counters on /metrics.
//
//   std::atomic<bool> stop{false};
//   Status s = RunService(*registry.Find("sdk-source"), config_json, {&stop});
#ifndef WEIR_HOST_RUN_SERVICE_RUNNER_HPP
#define WEIR_HOST_RUN_SERVICE_RUNNER_HPP

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "plugin/loader.hpp"
#include "weir/plugin.hpp"

namespace weir::host {

struct ServiceOptions {
  /// Set to true to stop the service (the plugin sees it through is_cancelled()).
  const std::atomic<bool>* cancel = nullptr;
  /// Optional log file in addition to stderr.
  std::filesystem::path log_file;
  /// Optional: the plugin's metrics (what it reported through the host's metric() service,
  /// counters summed) are written here as one JSON object of names to numbers, every
  /// `metrics_interval_ms` and once more when the service stops; each write is a temp file
  /// renamed into place, so a reader never sees a torn file. `weir serve` reads it.
  std::filesystem::path metrics_file;
  int64_t metrics_interval_ms = 1000;
};

/// The metrics map as the JSON object a metrics file holds (non-finite values are left out).
std::string MetricsJson(const std::map<std::string, double>& metrics);

/// Opens the service with `config_json` (secrets already resolved), runs it until `cancel`,
/// closes it. Returns the plugin's failure, if any, prefixed with the plugin's name.
Status RunService(const LoadedPlugin& plugin, const std::string& config_json,
                  const ServiceOptions& options);

}  // namespace weir::host

#endif  // WEIR_HOST_RUN_SERVICE_RUNNER_HPP
