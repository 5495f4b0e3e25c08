// host/serve/scheduler.hpp — what `weir serve` runs next: due times, per-project FIFO queues
// and the concurrency limit (DESIGN.md §7, §8).
//
// The scheduler is a plain state machine driven by the daemon loop: Tick(now) enqueues the
// pipelines that are due and starts queued steps while their project has a free slot;
// OnStepExit(pid, exit, now) tells it a step's child process ended. It never reads a clock,
// never forks and never touches SQLite itself: the clock is the `now` argument, steps start
// through a StepLauncher, and schedule state goes through a ScheduleStateAccess, so unit tests
// drive it with fakes and a controlled clock.
//
// Rules (docs/operating.md, "Running weir serve"):
//   - due = NextFire(schedule, last_fire); last_fire 0 (never) = due now. Launching a
//     scheduled step records last_fire = now (not the slot), so a daemon that was down across
//     several slots runs a missed fire once, not once per slot. Manual schedules never fire.
//   - a pipeline whose backfill ledger has windows not done gets backfill steps (also with a
//     manual schedule); when both kinds are wanted they alternate.
//   - at most `project_concurrency` running steps per project, one per pipeline; the rest wait
//     in their project's FIFO queue. A step that exits kExitMoreToDo (6) is queued again at
//     the back right away, so pipelines of a project take turns and none starves.
//   - a pipeline whose catch-up was interrupted (a previous daemon stopped or died while its
//     step ran, or the step stopped at its batch limit) resumes at once on start.
//   - a failed step (nonzero exit, signal) is retried after a backoff (5 s doubling to 10 min);
//     a step that died without finishing its run row gets it finished as failed with the
//     reason ("killed by signal 11 (SIGSEGV)").
//
//   Scheduler s({.project_concurrency = 1}, &state, &launcher, NextFire, log);
//   s.SetPipelines(specs, now);
//   s.Tick(now);                      // every tick
//   s.OnStepExit(pid, exit, now);     // when a child is reaped
#ifndef WEIR_HOST_SERVE_SCHEDULER_HPP
#define WEIR_HOST_SERVE_SCHEDULER_HPP

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/pipeline.hpp"
#include "serve/child_process.hpp"
#include "weir/plugin.hpp"

namespace weir::host::serve {

enum class StepKind { kIncremental, kBackfill };
const char* StepKindName(StepKind kind);  ///< "scheduled run" | "backfill step"

/// What the scheduler needs to know of a pipeline.
struct PipelineSpec {
  std::string name;
  std::string project;
  std::string stream;
  Schedule schedule;
};

/// One step to start as a child process.
struct StepRequest {
  std::string pipeline;
  StepKind kind = StepKind::kIncremental;
};

/// Starts a step; returns the child's pid (> 0).
class StepLauncher {
 public:
  virtual ~StepLauncher() = default;
  virtual Result<int64_t> Launch(const StepRequest& step) = 0;
};

/// The schedule state the scheduler reads and writes (a StateStore in the daemon).
class ScheduleStateAccess {
 public:
  virtual ~ScheduleStateAccess() = default;
  /// When the pipeline last fired (UTC ms), 0 = never.
  virtual Result<int64_t> GetLastFire(const std::string& pipeline) = 0;
  virtual Status SetLastFire(const std::string& pipeline, int64_t fired_at_ms) = 0;
  /// Whether the backfill ledger of (pipeline, stream) has windows that are not done.
  virtual Result<bool> BackfillPending(const std::string& pipeline, const std::string& stream) = 0;
  /// Whether a pipeline seen for the first time (daemon start, added file) was interrupted in
  /// the middle of catching up (its latest run was cancelled, interrupted, failed or stopped at
  /// its batch limit), so it continues right away instead of waiting for its next slot.
  virtual Result<bool> ResumeOnStart(const std::string& pipeline) = 0;
  /// Finishes runs still 'running' of process `pid` as failed with `error`; returns how many.
  virtual Result<int> FailRunsOfProcess(int64_t pid, const std::string& error) = 0;
};

using NextFireFn = std::function<Result<std::optional<int64_t>>(const Schedule&, int64_t)>;
/// level: 0 debug, 1 info, 2 warn, 3 error.
using SchedulerLogFn = std::function<void(int level, const std::string& message)>;

struct SchedulerOptions {
  int project_concurrency = 1;
  int64_t retry_initial_ms = 5000;
  int64_t retry_max_ms = 600000;
};

class Scheduler {
 public:
  Scheduler(SchedulerOptions options, ScheduleStateAccess* state, StepLauncher* launcher,
            NextFireFn next_fire, SchedulerLogFn log);

  /// Replaces the set of pipelines (start, SIGHUP). Kept pipelines keep their queue place and
  /// running step; removed ones leave the queue (a running step finishes and is forgotten);
  /// every due time is recomputed from the last fire.
  void SetPipelines(const std::vector<PipelineSpec>& pipelines, int64_t now_ms);

  /// Enqueues what is due and starts what fits. No-op once Stop() was called.
  void Tick(int64_t now_ms);

  /// A step's child process ended. Returns false if `pid` is not a step of this scheduler.
  bool OnStepExit(int64_t pid, const ChildExit& exit, int64_t now_ms);

  /// Stops firing: clears the queues; running steps are left to finish (OnStepExit still works).
  void Stop();

  /// Pids of the running steps.
  std::vector<int64_t> RunningPids() const;
  /// pipeline -> "scheduled run" / "backfill step".
  std::map<std::string, std::string> Running() const;
  /// Queued pipelines, project by project, each in start order.
  std::vector<std::string> Queued() const;
  /// Next due time of a pipeline's schedule (nullopt: manual, unknown or schedule error).
  std::optional<int64_t> NextDue(const std::string& pipeline) const;
  /// serve.steps_started, serve.steps_succeeded, serve.steps_more_to_do, serve.steps_failed,
  /// serve.children_crashed, serve.fires.
  const std::map<std::string, double>& counters() const { return counters_; }

 private:
  enum class State { kIdle, kQueued, kRunning };
  struct Entry {
    PipelineSpec spec;
    State state = State::kIdle;
    bool removed = false;  ///< gone from the files while its step ran
    int64_t last_fire_ms = 0;
    std::optional<int64_t> next_due_ms;
    bool continue_incremental = false;  ///< the last incremental step said "more to do"
    bool continue_backfill = false;
    std::optional<StepKind> last_kind;
    int failures = 0;
    int64_t retry_after_ms = 0;
    int64_t pid = 0;
    StepKind running_kind = StepKind::kIncremental;
  };

  void ComputeNextDue(Entry& e);
  bool DueIncremental(const Entry& e, int64_t now_ms) const;
  bool WantsBackfill(Entry& e);
  void Enqueue(Entry& e);
  void StartWhatFits(int64_t now_ms);
  void Log(int level, const std::string& message) const;

  SchedulerOptions options_;
  ScheduleStateAccess* state_;
  StepLauncher* launcher_;
  NextFireFn next_fire_;
  SchedulerLogFn log_;
  bool stopping_ = false;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::deque<std::string>> queues_;  ///< project -> pipelines
  std::map<std::string, int> running_per_project_;
  std::map<std::string, double> counters_;
  bool warned_backfill_ = false;
  bool warned_last_fire_ = false;
};

}  // namespace weir::host::serve

#endif  // WEIR_HOST_SERVE_SCHEDULER_HPP
