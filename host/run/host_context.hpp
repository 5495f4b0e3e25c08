// host/run/host_context.hpp — the host-services table (plugin.h) the host gives each plugin
// instance: log into the run's spdlog logger tagged with the plugin, metrics into a shared map,
// cancellation from an atomic flag, secrets from the environment.
#ifndef WEIR_HOST_RUN_HOST_CONTEXT_HPP
#define WEIR_HOST_RUN_HOST_CONTEXT_HPP

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "weir/plugin.h"

namespace weir::host {

/// What the host-services table points at: one per plugin instance, outlives it.
class HostContext {
 public:
  HostContext(std::shared_ptr<spdlog::logger> logger, std::string plugin,
              const std::atomic<bool>* cancel, std::map<std::string, double>* metrics,
              std::mutex* metrics_mu)
      : logger_(std::move(logger)),
        plugin_(std::move(plugin)),
        cancel_(cancel),
        metrics_(metrics),
        metrics_mu_(metrics_mu) {
    services_.struct_size = sizeof(services_);
    services_.host_data = this;
    services_.log = &Log;
    services_.metric = &Metric;
    services_.is_cancelled = &IsCancelled;
    services_.get_secret = &GetSecret;
  }
  const weir_host_services* services() const { return &services_; }
  bool cancelled() const { return cancel_ != nullptr && cancel_->load(); }

 private:
  static void Log(void* data, int32_t level, const char* message, size_t len) noexcept {
    try {
      auto* self = static_cast<HostContext*>(data);
      std::string_view m(message == nullptr ? "" : message, message == nullptr ? 0 : len);
      while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.remove_suffix(1);
      spdlog::level::level_enum lvl = spdlog::level::info;
      switch (level) {
        case WEIR_LOG_TRACE: lvl = spdlog::level::trace; break;
        case WEIR_LOG_DEBUG: lvl = spdlog::level::debug; break;
        case WEIR_LOG_INFO: lvl = spdlog::level::info; break;
        case WEIR_LOG_WARN: lvl = spdlog::level::warn; break;
        default: lvl = spdlog::level::err; break;
      }
      self->logger_->log(lvl, "[{}] {}", self->plugin_, m);
    } catch (...) {  // logging must never throw into a plugin
    }
  }
  static void Metric(void* data, const char* name, int32_t kind, double value) noexcept {
    try {
      auto* self = static_cast<HostContext*>(data);
      if (name == nullptr) return;
      std::lock_guard<std::mutex> lock(*self->metrics_mu_);
      double& slot = (*self->metrics_)[name];
      slot = kind == WEIR_METRIC_GAUGE ? value : slot + value;
    } catch (...) {
    }
  }
  static int32_t IsCancelled(void* data) noexcept {
    return static_cast<HostContext*>(data)->cancelled() ? 1 : 0;
  }
  static weir_status GetSecret(void* data, const char* name, const char** out_value,
                               size_t* out_len) noexcept {
    try {
      auto* self = static_cast<HostContext*>(data);
      if (name == nullptr || out_value == nullptr || out_len == nullptr) return WEIR_ERROR;
      std::lock_guard<std::mutex> lock(self->secrets_mu_);
      auto it = self->secrets_.find(name);
      if (it == self->secrets_.end()) {
        const char* v = std::getenv(name);
        if (v == nullptr) return WEIR_ERROR;
        it = self->secrets_.emplace(name, v).first;  // map nodes are stable: pointer stays valid
      }
      *out_value = it->second.data();
      *out_len = it->second.size();
      return WEIR_OK;
    } catch (...) {
      return WEIR_ERROR;
    }
  }

  std::shared_ptr<spdlog::logger> logger_;
  std::string plugin_;
  const std::atomic<bool>* cancel_;
  std::map<std::string, double>* metrics_;
  std::mutex* metrics_mu_;
  std::mutex secrets_mu_;
  std::map<std::string, std::string> secrets_;
  weir_host_services services_{};
};

}  // namespace weir::host

#endif  // WEIR_HOST_RUN_HOST_CONTEXT_HPP
