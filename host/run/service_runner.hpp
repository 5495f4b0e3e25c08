// host/run/service_runner.hpp — runs a plugin's service (ABI 1.1) in the foreground.
//
// `weir service run NAME --config FILE` uses it to run, for example, the sdk-source collector
// until SIGINT/SIGTERM; `weir serve` will run the same services next to its schedules.
//
//   std::atomic<bool> stop{false};
//   Status s = RunService(*registry.Find("sdk-source"), config_json, {&stop});
#ifndef WEIR_HOST_RUN_SERVICE_RUNNER_HPP
#define WEIR_HOST_RUN_SERVICE_RUNNER_HPP

#include <atomic>
#include <filesystem>
#include <string>

#include "plugin/loader.hpp"
#include "weir/plugin.hpp"

namespace weir::host {

struct ServiceOptions {
  /// Set to true to stop the service (the plugin sees it through is_cancelled()).
  const std::atomic<bool>* cancel = nullptr;
  /// Optional log file in addition to stderr.
  std::filesystem::path log_file;
};

/// Opens the service with `config_json` (secrets already resolved), runs it until `cancel`,
/// closes it. Returns the plugin's failure, if any, prefixed with the plugin's name.
Status RunService(const LoadedPlugin& plugin, const std::string& config_json,
                  const ServiceOptions& options);

}  // namespace weir::host

#endif  // WEIR_HOST_RUN_SERVICE_RUNNER_HPP
