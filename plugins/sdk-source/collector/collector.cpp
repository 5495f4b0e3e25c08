// plugins/sdk-source/collector/collector.cpp — wires the config, the stores and the HTTP server.
#include "collector/collector.hpp"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/collector_config.hpp"
#include "collector/handler.hpp"
#include "collector/http_server.hpp"
#include "store/store.hpp"

namespace weir::sdksource {

class Collector::Impl {
 public:
  Impl(CollectorConfig config, LogFn log, MetricFn metric)
      : config_(std::move(config)), log_(std::move(log)), metric_(std::move(metric)) {}

  ~Impl() { Stop(); }

  Status Start() {
    for (const auto& project : config_.projects) {
      StoreOptions options;
      options.dir = config_.data_dir / project.name;
      options.retention_days = config_.retention_days;
      auto store = Store::Open(options);
      if (!store.ok()) {
        return store.status().WithContext("opening the store of project \"" + project.name +
                                          "\" in " + options.dir.string());
      }
      stores_.emplace(project.name, std::move(store).value());
    }

    ServerOptions options;
    options.address = config_.listen_address;
    options.port = config_.listen_port;
    options.io_threads = config_.threads;
    options.workers = config_.workers;
    options.max_body_bytes = config_.limits.max_body_bytes;
    options.max_header_bytes = config_.limits.max_header_bytes;
    HttpServer::Handlers handlers;
    handlers.handle = [this](const HttpRequestView& request) {
      HttpResponse response = HandleRequest(
          request, config_,
          [this](const std::string& project, std::vector<Record> records) {
            return Append(project, std::move(records));
          },
          [this] { return BrokenProjects(); });
      Count(response.status);
      return response;
    };
    handlers.body_too_large = [this](const HttpRequestView& request) {
      HttpResponse response = HandleBodyTooLarge(request, config_);
      Count(response.status);
      return response;
    };
    WEIR_ASSIGN_OR_RETURN(server_, HttpServer::Start(options, std::move(handlers), log_));
    Log(LogLevel::kInfo, "collector listening on " + config_.listen_address + ":" +
                             std::to_string(server_->port()) + " for " +
                             std::to_string(stores_.size()) + " project(s), data in " +
                             config_.data_dir.string());
    if (config_.retention_days > 0) {
      retention_thread_ = std::thread([this] { RetentionLoop(); });
    }
    return Status::OK();
  }

  uint16_t port() const { return server_ ? server_->port() : 0; }

  void Stop() {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;
    bool was_running = server_ != nullptr;
    if (server_) server_->Stop();  // every answered request was durable before its answer
    {
      std::lock_guard<std::mutex> wake(retention_mu_);
      retention_stop_ = true;
    }
    retention_cv_.notify_all();
    if (retention_thread_.joinable()) retention_thread_.join();
    server_.reset();
    stores_.clear();
    if (was_running) Log(LogLevel::kInfo, "collector stopped");
  }

 private:
  Status Append(const std::string& project, std::vector<Record> records) {
    auto it = stores_.find(project);
    if (it == stores_.end()) return Status::Error("no store for project " + project);
    double events = 0, profiles = 0, identities = 0;
    for (const auto& r : records) {
      if (r.stream == Stream::kUsers) {
        profiles += 1;
      } else if (r.stream == Stream::kIdentities) {
        identities += 1;
      } else {
        events += 1;
      }
    }
    auto seqs = it->second->Append(std::move(records));
    if (!seqs.ok()) {
      Log(LogLevel::kError,
          "append to project \"" + project + "\" failed: " + seqs.status().message());
      return seqs.status();
    }
    // Counted once durable: these are the records a 2xx acknowledged.
    if (metric_) {
      if (events > 0) metric_("collector.events_accepted", events);
      if (profiles > 0) metric_("collector.profiles_accepted", profiles);
      if (identities > 0) metric_("collector.identities_accepted", identities);
    }
    return Status::OK();
  }

  /// Per answered request: collector.requests, and collector.rejected (4xx) or .errors (5xx).
  void Count(int status) const {
    if (!metric_) return;
    metric_("collector.requests", 1);
    if (status >= 400 && status < 500) metric_("collector.rejected", 1);
    if (status >= 500) metric_("collector.errors", 1);
  }

  /// The projects whose store refuses appends after a write or fsync failure (for /healthz).
  /// stores_ is fixed between Start and Stop, and the server is stopped before it is cleared.
  std::vector<std::string> BrokenProjects() const {
    std::vector<std::string> broken;
    for (const auto& [project, store] : stores_) {
      if (store->Broken()) broken.push_back(project);
    }
    return broken;
  }

  /// Applies retention at start and then hourly.
  void RetentionLoop() {
    std::unique_lock<std::mutex> lock(retention_mu_);
    while (!retention_stop_) {
      lock.unlock();
      for (auto& [project, store] : stores_) {
        auto deleted = store->ApplyRetention();
        if (!deleted.ok()) {
          Log(LogLevel::kWarn,
              "retention for project \"" + project + "\" failed: " + deleted.status().message());
        } else if (*deleted > 0) {
          Log(LogLevel::kInfo, "retention deleted " + std::to_string(*deleted) +
                                   " segment(s) of project \"" + project + "\"");
        }
      }
      lock.lock();
      retention_cv_.wait_for(lock, std::chrono::hours(1), [this] { return retention_stop_; });
    }
  }

  void Log(LogLevel level, const std::string& message) const {
    if (log_) log_(level, message);
  }

  CollectorConfig config_;
  LogFn log_;
  MetricFn metric_;
  std::map<std::string, std::unique_ptr<Store>> stores_;
  std::unique_ptr<HttpServer> server_;
  std::mutex stop_mu_;
  bool stopped_ = false;
  std::thread retention_thread_;
  std::mutex retention_mu_;
  std::condition_variable retention_cv_;
  bool retention_stop_ = false;
};

Collector::Collector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Collector::~Collector() { Stop(); }

Result<std::unique_ptr<Collector>> Collector::Start(std::string_view config_json, LogFn log,
                                                    MetricFn metric) {
  WEIR_ASSIGN_OR_RETURN(auto config, ParseCollectorConfig(config_json));
  auto impl = std::make_unique<Impl>(std::move(config), std::move(log), std::move(metric));
  WEIR_RETURN_NOT_OK(impl->Start());
  return std::unique_ptr<Collector>(new Collector(std::move(impl)));
}

uint16_t Collector::port() const { return impl_->port(); }

void Collector::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace weir::sdksource
