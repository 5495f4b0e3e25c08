// host/run/runner.hpp — the effectively-once run loop: intent → read → write → durable → commit.
//
// RunPipeline() runs one pipeline until it is caught up (DESIGN.md §4):
//   1. take the pipeline lock; mark runs left 'running' by a dead process 'interrupted';
//   2. if an intent is pending (a crash between write and commit), replay exactly its
//      (from_wm, to_wm] with the same batch seq, hence the same idempotency key;
//   3. otherwise read the next batch after the committed watermark; none → done;
//   4. record the intent durably, write it to the destination, flush (durable), and commit the
//      watermark plus counters in one state transaction; repeat.
// Retryable plugin errors are retried with exponential backoff and full jitter up to a cap.
//
//   weir::host::RunOptions options;
//   options.logs_dir = data_dir / "logs";
//   RunOutcome out = RunPipeline(pipeline, registry, *store, options);
//   return out.exit_code;
#ifndef WEIR_HOST_RUN_RUNNER_HPP
#define WEIR_HOST_RUN_RUNNER_HPP

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "pipeline/pipeline.hpp"
#include "plugin/loader.hpp"
#include "state/state_store.hpp"
#include "weir/plugin.hpp"

namespace weir::host {

/// Process exit codes of `weir` (documented in docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,              ///< success, including a run that found no new data
  kExitRunFailed = 1,       ///< a run failed: fatal plugin error or retries exhausted
  kExitUsage = 2,           ///< bad command line, bad pipeline file or invalid plugin config
  kExitPlugin = 3,          ///< plugin missing, refused, or of the wrong kind/stream
  kExitState = 4,           ///< the state store cannot be opened or written
  kExitBusy = 5,            ///< the pipeline is already running in another process
  /// Only for bounded steps (`weir run --max-batches N`, `weir backfill --step`): the step
  /// ended at its limit with more work waiting; `weir serve` queues the pipeline again.
  kExitMoreToDo = 6,
  kExitCancelled = 130,     ///< stopped by SIGINT/SIGTERM; the next run resumes
};

struct RunOptions {
  std::filesystem::path logs_dir;         ///< per-run log files go here as run-<id>.log
  bool progress = false;                  ///< live progress line on stderr (a TTY)
  bool echo_logs = true;                  ///< also log to stderr (info and above)
  std::string kind = "incremental";
  /// Stop after this many committed batches (0 = run until caught up). `weir serve` runs
  /// bounded steps so that one pipeline catching up cannot starve the others of its project.
  uint64_t max_batches = 0;
  /// Set to true (e.g. by a signal handler) to stop after the current call returns.
  const std::atomic<bool>* cancel = nullptr;
  /// Set to true to stop gracefully: the batch in flight is written, flushed and committed,
  /// then the run ends as cancelled (plugins are not told to cancel). `weir run` sets it on
  /// the first SIGTERM/SIGINT, `cancel` on the second.
  const std::atomic<bool>* stop = nullptr;
};

struct RunOutcome {
  int64_t run_id = 0;
  std::string status;  ///< succeeded | no_data | failed | cancelled
  uint64_t rows = 0;
  uint64_t bytes = 0;
  uint64_t batches = 0;
  uint64_t replayed = 0;  ///< pending intents replayed at the start
  /// False when the run stopped at max_batches with more data possibly waiting.
  bool caught_up = true;
  Status error;
  int exit_code = kExitOk;
  std::map<std::string, double> metrics;  ///< what plugins and the host counted
  std::filesystem::path log_path;
};

/// Runs `pipeline` to completion. Never throws.
RunOutcome RunPipeline(const Pipeline& pipeline, const PluginRegistry& registry,
                       StateStore& store, const RunOptions& options);

/// The idempotency key of a batch: "<pipeline>.<stream>.<seq, 12 digits>".
std::string IdempotencyKey(const std::string& pipeline, const std::string& stream, uint64_t seq);

/// Opens the source and destination of `pipeline` with their configs and calls check() on
/// each; returns the first failure with the plugin's own message prefixed by which side.
Status CheckPipelinePlugins(const Pipeline& pipeline, const PluginRegistry& registry);

/// Resolves the pipeline's plugins and checks kinds and stream support.
Status ResolvePlugins(const Pipeline& pipeline, const PluginRegistry& registry,
                      const LoadedPlugin** out_source, const LoadedPlugin** out_destination);

}  // namespace weir::host

#endif  // WEIR_HOST_RUN_RUNNER_HPP
