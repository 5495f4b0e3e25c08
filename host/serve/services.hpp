// host/serve/services.hpp — the plugin services `weir serve` hosts (e.g. the sdk-source
// collector), each as a supervised child `weir service run PLUGIN --config ... --metrics-file F`.
//
// A service that dies is logged with its exit code or signal and restarted after a capped
// backoff (1 s doubling to 60 s; reset once it stayed up for a minute). Each service child
// writes its plugin's metrics as one small JSON object to its metrics file every second;
// Metrics() merges them (summed by name over services) with "service.<plugin>.up" (1/0) and
// "service.<plugin>.restarts".
//
//   ServiceSupervisor sup(exe, child_args, logs_dir, state_dir, log);
//   sup.Add({"sdk-source", "@/etc/weir/collector.json"});
//   sup.Tick(now);                       // starts / restarts what is due
//   if (!sup.OnExit(pid, exit, now)) ... // not a service
//   sup.StopAll();                       // SIGTERM, wait
#ifndef WEIR_HOST_SERVE_SERVICES_HPP
#define WEIR_HOST_SERVE_SERVICES_HPP

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "serve/child_process.hpp"
#include "serve/scheduler.hpp"

namespace weir::host::serve {

struct ServiceSpec {
  std::string plugin;
  std::string config;  ///< as for `weir service run --config`: JSON text or @FILE
};

/// Parses "PLUGIN=@config.json" (or "PLUGIN={...}"); errors name the option.
Result<ServiceSpec> ParseServiceArg(const std::string& arg);

/// Parses a metrics file: one JSON object of names to numbers.
Result<std::map<std::string, double>> ParseMetricsJson(const std::string& text);

class ServiceSupervisor {
 public:
  ServiceSupervisor(std::filesystem::path exe, std::vector<std::string> child_args,
                    std::filesystem::path logs_dir, std::filesystem::path state_dir,
                    SchedulerLogFn log);
  ~ServiceSupervisor();
  ServiceSupervisor(const ServiceSupervisor&) = delete;
  ServiceSupervisor& operator=(const ServiceSupervisor&) = delete;

  void Add(const ServiceSpec& spec);
  /// Starts the services that are down and due (not while stopping).
  void Tick(int64_t now_ms);
  /// Returns false if `pid` is not a service child.
  bool OnExit(pid_t pid, const ChildExit& exit, int64_t now_ms);
  /// SIGTERM to every service, then waits up to `timeout_ms` (then SIGKILL).
  void StopAll(int64_t timeout_ms);
  std::map<std::string, double> Metrics() const;

 private:
  struct Service {
    ServiceSpec spec;
    std::filesystem::path metrics_file;
    std::filesystem::path log_file;
    pid_t pid = 0;
    int64_t started_at_ms = 0;
    int64_t restart_at_ms = 0;
    int64_t backoff_ms = 0;
    int restarts = 0;
    bool started_once = false;
  };
  std::filesystem::path exe_;
  std::vector<std::string> child_args_;
  std::filesystem::path logs_dir_;
  std::filesystem::path state_dir_;
  SchedulerLogFn log_;
  std::vector<Service> services_;
  bool stopping_ = false;
};

}  // namespace weir::host::serve

#endif  // WEIR_HOST_SERVE_SERVICES_HPP
