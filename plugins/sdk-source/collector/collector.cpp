// plugins/sdk-source/collector/collector.cpp — wires the config, the stores and the HTTP server.
#include "collector/collector.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "collector/collector_config.hpp"
#include "collector/handler.hpp"
#include "collector/http_server.hpp"
#include "store/store.hpp"

namespace weir::sdksource {
namespace {

/// How many of a project's most recent events the collector remembers the insert_id of.
/// About 80 bytes each (a 128-bit digest, not the id), so at most ~40 MB per project.
constexpr size_t kDedupeWindow = 500'000;

/// The insert_id of a canonical event record (its raw JSON string bytes, escapes included:
/// the same id always has the same canonical bytes), or empty. Canonical events are written
/// `{"event":…,"time":…,"distinct_id":…,"insert_id":"…","properties":…}`, and a `"` inside a
/// string is escaped, so the first `,"insert_id":"` is the top-level key.
std::string_view InsertIdOf(std::string_view json) {
  constexpr std::string_view kKey = ",\"insert_id\":\"";
  const size_t at = json.find(kKey);
  if (at == std::string_view::npos) return {};
  const size_t start = at + kKey.size();
  for (size_t i = start; i < json.size(); ++i) {
    if (json[i] == '\\') {
      ++i;
    } else if (json[i] == '"') {
      return json.substr(start, i - start);
    }
  }
  return {};
}

/// Two independent 64-bit hashes of an insert_id: 128 bits, so that two different ids of one
/// project colliding (which would drop a real event) is not a practical concern.
struct IdKey {
  uint64_t a = 0;
  uint64_t b = 0;
  bool operator==(const IdKey& o) const { return a == o.a && b == o.b; }
};
struct IdKeyHash {
  size_t operator()(const IdKey& k) const noexcept { return static_cast<size_t>(k.a); }
};
IdKey KeyOf(std::string_view id) {
  uint64_t fnv = 0xcbf29ce484222325ULL;  // FNV-1a 64
  for (unsigned char c : id) fnv = (fnv ^ c) * 0x100000001b3ULL;
  return {static_cast<uint64_t>(std::hash<std::string_view>{}(id)), fnv};
}

/// The insert_ids of a project's recent events, so that a request re-sent after its answer
/// was lost (the collector died between the fsync and the answer; a client timed out) does
/// not store its events a second time: every destination then sees each acknowledged event
/// once (S3 writes records as they are; only the warehouse MERGE could hide a duplicate).
/// An id is reserved before the append and marked durable after it, so a concurrent request
/// carrying the same id waits for the first one's outcome instead of being acknowledged early.
struct RecentIds {
  enum class State : uint8_t { kInFlight, kDurable };
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<IdKey, State, IdKeyHash> ids;
  std::deque<IdKey> order;  ///< oldest first, for eviction past kDedupeWindow

  /// Under `mu`.
  void Remember(const IdKey& k, State s) {
    auto [it, inserted] = ids.try_emplace(k, s);
    if (!inserted) {
      it->second = s;
      return;
    }
    order.push_back(k);
    while (order.size() > kDedupeWindow) {
      auto old = ids.find(order.front());
      if (old != ids.end() && old->second == State::kDurable) ids.erase(old);
      order.pop_front();
    }
  }
};

}  // namespace

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
      auto recent = std::make_unique<RecentIds>();
      WEIR_RETURN_NOT_OK(LoadRecentIds(**store, *recent).WithContext(
          "reading the recent insert_ids of project \"" + project.name + "\""));
      recent_.emplace(project.name, std::move(recent));
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
    recent_.clear();
    if (was_running) Log(LogLevel::kInfo, "collector stopped");
  }

 private:
  /// The insert_ids of the store's last kDedupeWindow events (a restart after a crash must
  /// still recognize the re-sent requests whose answers the crash swallowed).
  static Status LoadRecentIds(const Store& store, RecentIds& recent) {
    const uint64_t last = store.LastSeq();
    uint64_t after = last > kDedupeWindow ? last - kDedupeWindow : 0;
    ReadResult result;
    for (;;) {
      ReadBounds bounds;
      bounds.after_seq = after;
      bounds.max_records = 16384;
      WEIR_RETURN_NOT_OK(store.Read(Stream::kEvents, bounds, result));
      if (result.records.empty()) return Status::OK();
      for (const auto& r : result.records) {
        const std::string_view id = InsertIdOf(r.json);
        if (!id.empty()) recent.Remember(KeyOf(id), RecentIds::State::kDurable);
      }
      after = result.records.back().seq;
    }
  }

  Status Append(const std::string& project, std::vector<Record> records) {
    auto it = stores_.find(project);
    if (it == stores_.end()) return Status::Error("no store for project " + project);
    RecentIds& recent = *recent_.at(project);
    // Drop events whose insert_id is already stored (or being stored by another request),
    // reserving the new ones. The first copy of an id within the request is kept.
    std::vector<IdKey> reserved, awaited;
    double deduplicated = 0;
    {
      std::lock_guard<std::mutex> lock(recent.mu);
      std::vector<Record> kept;
      kept.reserve(records.size());
      for (auto& r : records) {
        const std::string_view id =
            r.stream == Stream::kEvents ? InsertIdOf(r.json) : std::string_view();
        if (!id.empty()) {
          const IdKey key = KeyOf(id);
          auto found = recent.ids.find(key);
          if (found != recent.ids.end()) {
            deduplicated += 1;
            const bool ours =
                std::find(reserved.begin(), reserved.end(), key) != reserved.end();
            if (found->second == RecentIds::State::kInFlight && !ours) awaited.push_back(key);
            continue;
          }
          recent.Remember(key, RecentIds::State::kInFlight);
          reserved.push_back(key);
        }
        kept.push_back(std::move(r));
      }
      records = std::move(kept);
    }
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
    Status appended = Status::OK();
    if (!records.empty()) {
      auto seqs = it->second->Append(std::move(records));
      if (!seqs.ok()) appended = seqs.status();
    }
    {
      std::unique_lock<std::mutex> lock(recent.mu);
      for (const IdKey& key : reserved) {
        if (appended.ok()) {
          recent.Remember(key, RecentIds::State::kDurable);
        } else {
          recent.ids.erase(key);  // not acknowledged: a retry must be able to store it
        }
      }
      recent.cv.notify_all();
      // A duplicate of an id another request is still storing is acknowledged only once
      // that copy is durable; if that append failed, this request fails too (503, retry).
      recent.cv.wait(lock, [&] {
        for (const IdKey& key : awaited) {
          auto found = recent.ids.find(key);
          if (found != recent.ids.end() && found->second == RecentIds::State::kInFlight) {
            return false;
          }
        }
        return true;
      });
      for (const IdKey& key : awaited) {
        if (appended.ok() && recent.ids.find(key) == recent.ids.end()) {
          appended = Status::Error("an earlier request carrying the same insert_id failed",
                                   /*retryable=*/true);
        }
      }
    }
    if (!appended.ok()) {
      Log(LogLevel::kError,
          "append to project \"" + project + "\" failed: " + appended.message());
      return appended;
    }
    // Counted once durable: these are the records a 2xx acknowledged.
    if (metric_) {
      if (events > 0) metric_("collector.events_accepted", events);
      if (profiles > 0) metric_("collector.profiles_accepted", profiles);
      if (identities > 0) metric_("collector.identities_accepted", identities);
      if (deduplicated > 0) metric_("collector.events_deduplicated", deduplicated);
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
  std::map<std::string, std::unique_ptr<RecentIds>> recent_;  ///< per project, like stores_
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
