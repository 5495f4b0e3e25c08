// host/run/service_runner.cpp — open, run until cancelled, close: a plugin service in the host.
#include "run/service_runner.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "run/host_context.hpp"

namespace weir::host {

Status RunService(const LoadedPlugin& plugin, const std::string& config_json,
                  const ServiceOptions& options) {
  if (plugin.service == nullptr) {
    return Status::NotImplemented("plugin '" + plugin.name + "' offers no service (kinds: " +
                                  plugin.KindsString() + ")");
  }
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!options.log_file.empty()) {
    try {
      sinks.push_back(
          std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.log_file.string()));
    } catch (const std::exception& e) {
      return Status::Error("cannot open log file " + options.log_file.string() + ": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("service:" + plugin.name, sinks.begin(),
                                                 sinks.end());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l [%n] %v", spdlog::pattern_time_type::utc);
  logger->flush_on(spdlog::level::info);
  std::map<std::string, double> metrics;
  std::mutex metrics_mu;
  HostContext ctx(logger, plugin.name, options.cancel, &metrics, &metrics_mu);

  weir_instance* instance = nullptr;
  weir_error err{};
  weir_status st = plugin.service->open(config_json.data(), config_json.size(), ctx.services(),
                                        &instance, &err);
  if (st != WEIR_OK) {
    return Status::FromError(st, &err).WithContext("starting service '" + plugin.name + "'");
  }
  logger->info("service '{}' {} started", plugin.name, plugin.version);
  weir_error run_err{};
  st = plugin.service->run(instance, &run_err);
  Status result = st == WEIR_OK ? Status::OK()
                                : Status::FromError(st, &run_err)
                                      .WithContext("service '" + plugin.name + "' failed");
  plugin.service->close(instance);
  logger->info("service '{}' stopped", plugin.name);
  return result;
}

}  // namespace weir::host
