// host/run/service_runner.cpp — open, run until cancelled, close: a plugin service in the host.
#include "run/service_runner.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <thread>

#include "run/host_context.hpp"
#include "weir/json.hpp"

namespace weir::host {

std::string MetricsJson(const std::map<std::string, double>& metrics) {
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : metrics) {
    if (!std::isfinite(value)) continue;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    if (!first) out += ",";
    first = false;
    out += JsonQuote(name);
    out += ":";
    out += buf;
  }
  out += "}\n";
  return out;
}

namespace {

/// Writes `text` to `path` through a temp file and rename, so readers see whole files only.
bool WriteFileAtomically(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << text;
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

/// Writes the metrics map every interval on its own thread, and once more when stopped.
class MetricsWriter {
 public:
  MetricsWriter(std::filesystem::path path, int64_t interval_ms,
                const std::map<std::string, double>* metrics, std::mutex* mu,
                std::shared_ptr<spdlog::logger> logger)
      : path_(std::move(path)),
        interval_ms_(interval_ms),
        metrics_(metrics),
        mu_(mu),
        logger_(std::move(logger)) {
    if (path_.empty()) return;
    Write();
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(stop_mu_);
      while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_),
                                [this] { return stop_; })) {
        Write();
      }
    });
  }
  ~MetricsWriter() {
    if (path_.empty()) return;
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    thread_.join();
    Write();
  }
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;

 private:
  void Write() {
    std::string text;
    {
      std::lock_guard<std::mutex> lock(*mu_);
      text = MetricsJson(*metrics_);
    }
    if (!WriteFileAtomically(path_, text) && !warned_) {
      warned_ = true;
      logger_->warn("cannot write the metrics file {}", path_.string());
    }
  }

  std::filesystem::path path_;
  int64_t interval_ms_;
  const std::map<std::string, double>* metrics_;
  std::mutex* mu_;
  std::shared_ptr<spdlog::logger> logger_;
  bool warned_ = false;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

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
  {
    MetricsWriter writer(options.metrics_file, std::max<int64_t>(options.metrics_interval_ms, 10),
                         &metrics, &metrics_mu, logger);
    st = plugin.service->run(instance, &run_err);
  }
  Status result = st == WEIR_OK ? Status::OK()
                                : Status::FromError(st, &run_err)
                                      .WithContext("service '" + plugin.name + "' failed");
  plugin.service->close(instance);
  logger->info("service '{}' stopped", plugin.name);
  return result;
}

}  // namespace weir::host
