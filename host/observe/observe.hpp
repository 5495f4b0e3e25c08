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
#include <utility>
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

/// Upper bounds (seconds) of the weir_run_duration_seconds histogram buckets; +Inf is implied.
inline constexpr double kRunDurationBuckets[] = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800};
inline constexpr size_t kRunDurationBucketCount =
    sizeof(kRunDurationBuckets) / sizeof(kRunDurationBuckets[0]);

/// Totals over the run history a snapshot read (SnapshotOptions::history_runs newest runs of
/// the pipeline): what the Prometheus counters and the histogram report.
struct RunHistory {
  uint64_t runs_counted = 0;  ///< runs read (running ones included)
  bool truncated = false;     ///< the pipeline has more runs than were read
  /// (kind, status) -> number of runs.
  std::map<std::pair<std::string, std::string>, uint64_t> runs;
  uint64_t rows = 0;  ///< rows / bytes / batches committed by those runs
  uint64_t bytes = 0;
  uint64_t batches = 0;
  double retries = 0;  ///< sum of the runs' "host.retries" metric
  /// Finished runs' durations: cumulative counts per kRunDurationBuckets bound (not +Inf).
  uint64_t duration_buckets[kRunDurationBucketCount] = {};
  uint64_t duration_count = 0;  ///< finished runs (the +Inf bucket)
  double duration_sum_seconds = 0;
};

/// One pipeline's state as an operator reads it.
struct PipelineStatus {
  Pipeline pipeline;
  std::string phase;          ///< new | catching-up | incremental
  std::string watermark_hex;  ///< committed watermark as hex ("" = start)
  uint64_t committed_rows = 0;
  uint64_t committed_batches = 0;
  bool pending_batch = false;  ///< a batch awaits replay
  /// now - end of the latest run that ended caught up (ms); -1 if never caught up.
  int64_t lag_ms = -1;
  std::optional<RunRecord> last_run;
  int64_t last_success_ms = 0;  ///< end of the latest succeeded/no_data run; 0 = never
  /// Next scheduled fire (UTC ms): 0 = manual schedule or unknown; now_ms = due (never fired).
  int64_t next_run_ms = 0;
  std::vector<BackfillWindow> backfill;  ///< the ledger, by day
  std::vector<RunRecord> recent_runs;    ///< newest first
  RunHistory history;                    ///< totals over the history window
  /// The ledger's progress: windows done / all windows (0/0 = no backfill planned).
  int backfill_done = 0;
  int backfill_total = 0;
  /// Why a part of this pipeline's state could not be read (also listed in errors).
  std::string error;
};

struct StatusSnapshot {
  int64_t now_ms = 0;
  std::vector<PipelineStatus> pipelines;
  std::vector<std::string> errors;  ///< pipeline files that did not load, etc.
  std::optional<ServeLive> serve;
};

struct SnapshotOptions {
  int runs_per_pipeline = 50;  ///< how many recent runs each PipelineStatus carries
  /// How many of each pipeline's newest runs the history totals (RunHistory) count; <= 0 = all.
  /// The Prometheus run counters are monotonic as long as a pipeline has fewer runs than this.
  int history_runs = 10000;
};

/// Reads everything the renderings need. Never changes the store.
///
/// Per pipeline: LoadPipeline (watermark, committed rows/batches, pending), ListRuns (newest
/// first), ListBackfill and GetLastFire; a store that answers NotImplemented for the latter
/// (or for run metrics) counts as "nothing recorded". A pipeline whose state cannot be read
/// gets PipelineStatus::error and a line in errors; the snapshot itself still succeeds.
///
/// phase: "new" = no run and no ledger; "catching-up" = a ledger window is not done, or the
/// latest finished run stopped before it was caught up (metric host.caught_up == 0), or no run
/// ever ended caught up; else "incremental". A run "ended caught up" when its status is
/// succeeded or no_data and its host.caught_up metric is absent or non-zero.
/// lag_ms = now_ms - ended_at_ms of the newest run that ended caught up (-1 if none).
/// next_run_ms = NextFire(schedule, last fire); now_ms when never fired (serve fires it at
/// once); 0 for a manual schedule or when it cannot be computed.
Result<StatusSnapshot> BuildSnapshot(StateStore& store, const std::vector<Pipeline>& pipelines,
                                     int64_t now_ms, const SnapshotOptions& options);

/// The totals of `runs` (what BuildSnapshot puts into PipelineStatus::history, minus
/// `truncated`): counts by (kind, status), rows/bytes/batches, host.retries, and the duration
/// histogram of the finished runs (ended_at_ms > 0).
RunHistory CountRunHistory(const std::vector<RunRecord>& runs);

/// The Prometheus text exposition format (version 0.0.4); `promtool check metrics` clean.
std::string RenderPrometheus(const StatusSnapshot& snapshot);
/// One self-contained HTML page (no external assets) with an inline SVG rows-per-run chart.
std::string RenderStatusHtml(const StatusSnapshot& snapshot);
/// The snapshot as one JSON object.
std::string RenderStatusJson(const StatusSnapshot& snapshot);

/// The ledger's progress as text: "12/30 days" ("-" when no backfill was planned).
std::string BackfillProgress(const PipelineStatus& status);

/// Splits "HOST:PORT" ("127.0.0.1:9464", "localhost:0", "[::1]:8080") into a numeric address
/// and a port. HOST must be a numeric IPv4/IPv6 address or "localhost" (= 127.0.0.1): names
/// are refused, so the server never binds something a resolver chose.
Result<std::pair<std::string, uint16_t>> ParseListenAddress(const std::string& address);

/// A small HTTP/1.1 server (Boost.Beast) on its own thread, for /healthz, /metrics, /status.
/// One connection = one request: every response carries "Connection: close". Requests larger
/// than kMaxRequestHeaderBytes (line + headers) get 431, bodies over kMaxRequestBodyBytes 413,
/// malformed ones 400; a connection idle for 10 s is closed. HEAD responses carry the
/// handler's headers and Content-Length without the body. A handler that throws yields 500.
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};
using HttpHandler =
    std::function<HttpResponse(const std::string& method, const std::string& target)>;

inline constexpr uint32_t kMaxRequestHeaderBytes = 16 * 1024;
inline constexpr uint64_t kMaxRequestBodyBytes = uint64_t{64} * 1024;

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  /// Binds `address` ("127.0.0.1:8080"; port 0 = any free port; see ParseListenAddress) and
  /// serves `handler` until Stop() or destruction. The handler is called from the server
  /// thread only, one request at a time. Fails (InvalidConfig) for a bad address and (Error)
  /// when the address cannot be bound, naming it.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& address, HttpHandler handler);
  /// The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  /// Closes the listener and every connection and joins the server thread. Idempotent; a
  /// request being handled is finished first. Must not be called from the handler.
  virtual void Stop() = 0;
};

}  // namespace weir::host

#endif  // WEIR_HOST_OBSERVE_OBSERVE_HPP
