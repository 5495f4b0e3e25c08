// host/state/state_store.hpp — the host's durable state: watermarks, batch intents, runs.
//
// The run loop (host/run) is written against this interface only. The embedded default is
// SQLite (sqlite_state_store.cpp: WAL, synchronous=FULL, versioned migrations); a PostgreSQL
// implementation shared by many hosts comes later and must fit the same interface, so nothing
// here assumes one process or one file.
//
// Effectively-once protocol (DESIGN.md §4), as the run loop uses it:
//   auto st = store.LoadPipeline(p, s);          // watermark, next batch seq, pending intent
//   if (st->pending) replay it; else read a new batch after st->watermark and
//   store.RecordIntent(intent);                  // durable BEFORE any destination write
//   ... destination write + flush (durable) ...
//   store.CommitIntent(intent, rows, bytes);     // one transaction: watermark, intent, run
#ifndef WEIR_HOST_STATE_STATE_STORE_HPP
#define WEIR_HOST_STATE_STATE_STORE_HPP

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "weir/plugin.hpp"

namespace weir::host {

/// A batch the host has promised to write: persisted before the destination sees it, replayed
/// with exactly the same bounds and key after a crash.
struct Intent {
  std::string pipeline;
  std::string stream;
  uint64_t batch_seq = 0;      ///< 1, 2, 3, ... per (pipeline, stream)
  std::string from_wm;         ///< opaque source watermark bytes (exclusive)
  std::string to_wm;           ///< opaque source watermark bytes (inclusive)
  int32_t mode = WEIR_READ_RANGE;  ///< WEIR_READ_RANGE or WEIR_READ_WINDOW (backfill)
  int64_t window_start_ms = 0;     ///< WINDOW only
  int64_t window_end_ms = 0;       ///< WINDOW only
  std::string bound_wm;            ///< WINDOW only
  uint64_t rows = 0;           ///< rows the source returned for this batch
  uint64_t bytes = 0;          ///< bytes of the batch
  int64_t run_id = 0;          ///< run that recorded it
  int64_t created_at_ms = 0;   ///< set by the store
};

/// Where a (pipeline, stream) stands.
struct PipelineState {
  std::string watermark;            ///< committed watermark; empty = from the beginning
  uint64_t next_batch_seq = 1;      ///< seq for the next new intent
  std::optional<Intent> pending;    ///< an intent recorded but not committed (crash, failure)
  uint64_t committed_rows = 0;      ///< totals over all committed batches
  uint64_t committed_batches = 0;
};

/// One row of run history.
struct RunRecord {
  int64_t id = 0;
  std::string pipeline;
  std::string kind;     ///< "incremental" (weir run), later "backfill", "scheduled"
  std::string status;   ///< running | succeeded | no_data | failed | cancelled | interrupted
  int64_t started_at_ms = 0;
  int64_t ended_at_ms = 0;  ///< 0 while running
  uint64_t rows = 0;
  uint64_t bytes = 0;
  uint64_t batches = 0;
  std::string error;     ///< last error message for failed runs; never contains secrets
  std::string log_path;  ///< per-run log file
  int64_t pid = 0;       ///< process that ran it
  /// What the host and plugins counted in this run (e.g. "host.retries"); set at its end.
  std::map<std::string, double> metrics;
};

/// One calendar-day window of a backfill (DESIGN.md §7), a row of the backfill ledger.
/// Keyed by (pipeline, stream, window_start_ms).
struct BackfillWindow {
  std::string pipeline;
  std::string stream;
  std::string day;              ///< "YYYY-MM-DD", the calendar day in the pipeline's zone
  int64_t window_start_ms = 0;  ///< local midnight of `day`, UTC ms (inclusive)
  int64_t window_end_ms = 0;    ///< next local midnight, UTC ms (exclusive); 23h/25h days too
  /// pending (planned, not started) | running | done | failed | redo (asked to be re-exported)
  std::string status = "pending";
  std::string cursor_wm;        ///< watermark of the last committed batch within the window
  uint64_t rows = 0;            ///< committed rows / bytes / batches of this window
  uint64_t bytes = 0;
  uint64_t batches = 0;
  int64_t started_at_ms = 0;    ///< when the window's latest attempt started; 0 = never
  int64_t ended_at_ms = 0;      ///< when it last ended (done or failed); 0 = not yet
  int64_t duration_ms = 0;      ///< time spent in it over all attempts
  std::string error;            ///< last error (failed windows); never contains secrets
  int64_t run_id = 0;           ///< run of the latest attempt
  int attempts = 0;             ///< attempts started
  int redo_count = 0;           ///< times it was re-exported with --redo
};

/// The cut between history (backfill) and the incremental export of a (pipeline, stream):
/// the incremental exports records after `watermark`; backfill windows only records at or
/// before it (bound_wm = watermark; DESIGN.md §3). Fixed once, at first use.
struct StartCut {
  std::string watermark;  ///< empty = the beginning: the incremental exports all history
  std::string mode;       ///< "beginning" | "now" (how it was chosen)
  int64_t set_at_ms = 0;
};

/// Held while one process runs a pipeline; released by the destructor (and by the OS if the
/// process dies, so a kill -9 never leaves a pipeline locked).
class PipelineLock {
 public:
  virtual ~PipelineLock() = default;
};

/// Thread-compatible: one StateStore per thread; several processes may share the same
/// database (SQLite WAL handles readers; writers wait on busy_timeout).
class StateStore {
 public:
  virtual ~StateStore() = default;

  /// Takes the per-pipeline lock without blocking. Fails with a message naming the pipeline
  /// and the holder's pid when another process runs it. `pipeline` must match [A-Za-z0-9_.-]+
  /// (1-200 characters; it names a lock file). A second lock of the same name in the same
  /// process also fails. A forked child shares the lock until it execs or exits.
  virtual Result<std::unique_ptr<PipelineLock>> TryLockPipeline(const std::string& pipeline) = 0;

  /// Watermark, next batch seq and pending intent (if any) of (pipeline, stream). A pipeline
  /// never seen before has an empty watermark, next_batch_seq 1 and no pending intent.
  virtual Result<PipelineState> LoadPipeline(const std::string& pipeline,
                                             const std::string& stream) = 0;

  /// Durably records an intent (fsync'd before return). Fails if (pipeline, stream) already
  /// has a pending intent or if intent.batch_seq != next_batch_seq.
  virtual Status RecordIntent(const Intent& intent) = 0;

  /// In ONE transaction: sets the watermark to intent.to_wm (RANGE intents; a WINDOW intent
  /// instead sets its ledger window's cursor_wm to to_wm and adds rows/bytes/1 batch to that
  /// window, leaving the stream watermark alone), marks the intent committed,
  /// advances next_batch_seq, and adds rows/bytes/1 batch to run `run_id`'s counters.
  /// Fails if that intent is not the pending one (pipeline, stream, batch_seq, from_wm, to_wm,
  /// mode and window must match) or if run `run_id` does not exist; then nothing changes.
  /// intent.rows / intent.bytes are the counts added (they replace the recorded ones).
  virtual Status CommitIntent(const Intent& intent, int64_t run_id) = 0;

  /// Forgets the watermark and any pending intent of (pipeline, stream) so the next run starts
  /// from the beginning (operator's `weir pipeline reset`). The batch seq keeps counting (a
  /// pending one is skipped) so idempotency keys never repeat. Run history stays.
  virtual Status ResetPipeline(const std::string& pipeline, const std::string& stream) = 0;

  /// Run history.
  virtual Result<int64_t> StartRun(const std::string& pipeline, const std::string& kind,
                                   int64_t pid) = 0;
  virtual Status SetRunLogPath(int64_t run_id, const std::string& log_path) = 0;
  /// Sets the final status (and error, for failed runs) and the end time. `status` must be one
  /// of the final statuses; fails if the run does not exist or has already ended.
  virtual Status FinishRun(int64_t run_id, const std::string& status,
                           const std::string& error) = 0;
  /// Marks runs of `pipeline` still 'running' as 'interrupted' (their process died). Call only
  /// while holding the pipeline lock. Returns how many were marked.
  virtual Result<int> MarkInterruptedRuns(const std::string& pipeline) = 0;
  /// Newest first; `pipeline` empty = all pipelines; `limit` <= 0 = no limit.
  virtual Result<std::vector<RunRecord>> ListRuns(const std::string& pipeline, int limit) = 0;
  virtual Result<std::optional<RunRecord>> GetRun(int64_t run_id) = 0;

  // ---- added for schedules, serve and backfill (schema 2). Defaults refuse, so a store that
  // ---- does not have them yet still compiles; the SQLite store implements all of them.

  /// Stores the counters of run `run_id` (replacing earlier ones).
  virtual Status SetRunMetrics(int64_t run_id, const std::map<std::string, double>& metrics) {
    (void)run_id, (void)metrics;
    return Status::NotImplemented("this state store keeps no run metrics");
  }
  /// Marks runs still 'running' whose recorded pid is `pid` as `status` (a final status) with
  /// `error`. `weir serve` calls it when a run's child process died (e.g. "killed by signal 11
  /// (SIGSEGV)"). Returns how many were marked.
  virtual Result<int> FinishRunsOfProcess(int64_t pid, const std::string& status,
                                          const std::string& error) {
    (void)pid, (void)status, (void)error;
    return Status::NotImplemented("this state store cannot finish runs by process");
  }

  /// The start cut of (pipeline, stream), nullopt if none was fixed yet.
  virtual Result<std::optional<StartCut>> GetStartCut(const std::string& pipeline,
                                                      const std::string& stream) {
    (void)pipeline, (void)stream;
    return Status::NotImplemented("this state store keeps no start cut");
  }
  /// Fixes the start cut, once: in one transaction stores it and sets the incremental
  /// watermark to cut.watermark. Fails (changing nothing) if a cut is already set, or if the
  /// (pipeline, stream) has committed or pending batches (then its cut is implicitly "the
  /// beginning" and is recorded as such by the caller).
  virtual Status SetStartCut(const std::string& pipeline, const std::string& stream,
                             const StartCut& cut) {
    (void)pipeline, (void)stream, (void)cut;
    return Status::NotImplemented("this state store keeps no start cut");
  }

  /// Adds the windows not yet in the ledger as 'pending'; windows already there (any status)
  /// are left as they are. Returns how many were added.
  virtual Result<int> PlanBackfill(const std::vector<BackfillWindow>& windows) {
    (void)windows;
    return Status::NotImplemented("this state store keeps no backfill ledger");
  }
  /// The ledger of (pipeline, stream), ordered by window_start_ms.
  virtual Result<std::vector<BackfillWindow>> ListBackfill(const std::string& pipeline,
                                                           const std::string& stream) {
    (void)pipeline, (void)stream;
    return Status::NotImplemented("this state store keeps no backfill ledger");
  }
  /// Writes the bookkeeping fields of an existing window (status, started/ended/duration,
  /// error, run_id, attempts, redo_count). The progress fields (cursor_wm, rows, bytes,
  /// batches) are only ever changed by CommitIntent of a WINDOW intent and by ResetWindow.
  virtual Status UpdateBackfillWindow(const BackfillWindow& window) {
    (void)window;
    return Status::NotImplemented("this state store keeps no backfill ledger");
  }
  /// The committed WINDOW intents of one window, in batch_seq order (what --redo rewrites).
  virtual Result<std::vector<Intent>> ListWindowIntents(const std::string& pipeline,
                                                        const std::string& stream,
                                                        int64_t window_start_ms) {
    (void)pipeline, (void)stream, (void)window_start_ms;
    return Status::NotImplemented("this state store keeps no backfill ledger");
  }

  /// Schedules: when `weir serve` last fired the pipeline (UTC ms), 0 = never.
  virtual Result<int64_t> GetLastFire(const std::string& pipeline) {
    (void)pipeline;
    return Status::NotImplemented("this state store keeps no schedule state");
  }
  virtual Status SetLastFire(const std::string& pipeline, int64_t fired_at_ms) {
    (void)pipeline, (void)fired_at_ms;
    return Status::NotImplemented("this state store keeps no schedule state");
  }
};

/// Opens (creating if needed, migrating if older) the SQLite state database at `path`; its
/// parent directory is created. Lock files live beside it in `<path>.locks/`.
Result<std::unique_ptr<StateStore>> OpenSqliteStateStore(const std::filesystem::path& path);

}  // namespace weir::host

#endif  // WEIR_HOST_STATE_STATE_STORE_HPP
