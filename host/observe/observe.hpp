// host/observe/observe.hpp — what weir shows about its pipelines: one snapshot, rendered as
// `weir status`, Prometheus text (/metrics), one HTML page (/status) and JSON.
//
// A snapshot is built from the state store and the pipeline files; a running `weir serve`
// adds what only it knows (ServeLive: what runs now, what is queued, service counters).
//
//   WEIR_ASSIGN_OR_RETURN(StatusSnapshot snap, BuildSnapshot(store, pipelines, NowMs(), {}));
//   std::string text = RenderPrometheus(snap);
//
// (Interface shared by the serve and observe work; the observe work may grow it.)
#ifndef WEIR_HOST_OBSERVE_OBSERVE_HPP
#define WEIR_HOST_OBSERVE_OBSERVE_HPP

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/pipeline.hpp"
#include "state/state_store.hpp"
#include "weir/plugin.hpp"

namespace weir::host {

/// What only a running `weir serve` knows; filled by the daemon for each snapshot.
struct ServeLive {
  int64_t pid = 0;
  int64_t started_at_ms = 0;
  /// pipeline -> what its child process does now ("scheduled run", "backfill 2026-11-05").
  std::map<std::string, std::string> running;
  /// Pipelines waiting for their project's slot, in the order they will start.
  std::vector<std::string> queued;
  /// Counters of hosted services, by metric name as the plugin reported it
  /// (e.g. "collector.events_accepted"), plus the service's up state ("service.<name>.up").
  std::map<std::string, double> service_metrics;
  /// The daemon's own counters (e.g. "serve.children_crashed", "serve.steps_started").
  std::map<std::string, double> counters;
};

/// One pipeline's state as an operator reads it.
struct PipelineStatus {
  Pipeline pipeline;
  std::string phase;            ///< new | catching-up | incremental
  std::string watermark_hex;    ///< committed watermark as hex ("" = start)
  uint64_t committed_rows = 0;
  uint64_t committed_batches = 0;
  bool pending_batch = false;   ///< a batch awaits replay
  /// now - end of the latest run that ended caught up (ms); -1 if never caught up.
  int64_t lag_ms = -1;
  std::optional<RunRecord> last_run;
  int64_t last_success_ms = 0;  ///< end of the latest succeeded/no_data run; 0 = never
  int64_t next_run_ms = 0;      ///< next scheduled fire (UTC ms); 0 = manual schedule
  std::vector<BackfillWindow> backfill;  ///< the ledger, by day
  std::vector<RunRecord> recent_runs;    ///< newest first
};

struct StatusSnapshot {
  int64_t now_ms = 0;
  std::vector<PipelineStatus> pipelines;
  std::vector<std::string> errors;  ///< pipeline files that did not load, etc.
  std::optional<ServeLive> serve;
};

struct SnapshotOptions {
  int runs_per_pipeline = 50;  ///< how many recent runs each PipelineStatus carries
};

/// Reads everything the renderings need. Never changes the store.
Result<StatusSnapshot> BuildSnapshot(StateStore& store, const std::vector<Pipeline>& pipelines,
                                     int64_t now_ms, const SnapshotOptions& options);

/// The Prometheus text exposition format (version 0.0.4); `promtool check metrics` clean.
std::string RenderPrometheus(const StatusSnapshot& snapshot);
/// One self-contained HTML page (no external assets) with an inline SVG rows-per-run chart.
std::string RenderStatusHtml(const StatusSnapshot& snapshot);
/// The snapshot as one JSON object.
std::string RenderStatusJson(const StatusSnapshot& snapshot);

/// A small HTTP/1.1 server (Boost.Beast) on its own thread, for /healthz, /metrics, /status.
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};
using HttpHandler = std::function<HttpResponse(const std::string& method,
                                               const std::string& target)>;

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  /// Binds `address` ("127.0.0.1:8080"; port 0 = any free port) and serves `handler` until
  /// Stop() or destruction. The handler may be called from the server thread only.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& address,
                                                   HttpHandler handler);
  /// The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  virtual void Stop() = 0;
};

}  // namespace weir::host

#endif  // WEIR_HOST_OBSERVE_OBSERVE_HPP
