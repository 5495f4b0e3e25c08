// host/observe/snapshot.cpp — BuildSnapshot: reads a pipeline's state, runs, ledger and next
// fire from the state store into a PipelineStatus (definitions of phase and lag: observe.hpp).
#include <algorithm>

#include "observe/observe.hpp"
#include "observe/observe_internal.hpp"
#include "schedule/schedule.hpp"

namespace weir::host {
namespace {

using observe_internal::EndedCaughtUp;
using observe_internal::Hex;
using observe_internal::Metric;

bool NotImplemented(const Status& s) { return s.code() == WEIR_NOT_IMPLEMENTED; }

}  // namespace

RunHistory CountRunHistory(const std::vector<RunRecord>& runs) {
  RunHistory h;
  for (const RunRecord& r : runs) {
    ++h.runs_counted;
    ++h.runs[{r.kind, r.status}];
    h.rows += r.rows;
    h.bytes += r.bytes;
    h.batches += r.batches;
    h.retries += Metric(r, "host.retries", 0);
    if (r.ended_at_ms <= 0) continue;  // still running: no duration yet
    const double seconds =
        static_cast<double>(std::max<int64_t>(0, r.ended_at_ms - r.started_at_ms)) / 1000.0;
    ++h.duration_count;
    h.duration_sum_seconds += seconds;
    for (size_t i = 0; i < kRunDurationBucketCount; ++i) {
      if (seconds <= kRunDurationBuckets[i]) ++h.duration_buckets[i];
    }
  }
  return h;
}

namespace {

/// Fills one PipelineStatus; a part that cannot be read is reported in `error` and skipped.
void ReadPipeline(StateStore& store, const Pipeline& p, int64_t now_ms,
                  const SnapshotOptions& options, PipelineStatus& ps) {
  std::vector<std::string> problems;
  auto state = store.LoadPipeline(p.name, p.stream);
  if (state.ok()) {
    ps.watermark_hex = Hex(state->watermark);
    ps.committed_rows = state->committed_rows;
    ps.committed_batches = state->committed_batches;
    ps.pending_batch = state->pending.has_value();
  } else {
    problems.push_back("state: " + state.status().message());
  }

  // The history window; the recent runs are its newest part (or their own read when the
  // window is smaller than what the page shows).
  const int recent = std::max(0, options.runs_per_pipeline);
  const int history = options.history_runs;
  const int want = history <= 0 ? 0 : std::max(history, recent);
  auto runs = store.ListRuns(p.name, want <= 0 ? 0 : want + 1);
  std::vector<RunRecord> all;
  if (runs.ok()) {
    all = std::move(runs).value();
    if (want > 0 && static_cast<int>(all.size()) > want) {
      all.resize(static_cast<size_t>(want));
      ps.history.truncated = true;
    }
  } else {
    problems.push_back("runs: " + runs.status().message());
  }
  const bool truncated = ps.history.truncated;
  if (history > 0 && static_cast<int>(all.size()) > history) {
    ps.history = CountRunHistory(std::vector<RunRecord>(all.begin(), all.begin() + history));
    ps.history.truncated = true;
  } else {
    ps.history = CountRunHistory(all);
    ps.history.truncated = truncated;
  }
  ps.recent_runs.assign(all.begin(), all.begin() + std::min<size_t>(all.size(), recent));
  if (!all.empty()) ps.last_run = all.front();

  const RunRecord* latest_finished = nullptr;
  const RunRecord* latest_caught_up = nullptr;
  for (const RunRecord& r : all) {  // newest first
    if (r.ended_at_ms <= 0) continue;
    if (latest_finished == nullptr && r.kind != "backfill") latest_finished = &r;
    if (ps.last_success_ms == 0 && (r.status == "succeeded" || r.status == "no_data")) {
      ps.last_success_ms = r.ended_at_ms;
    }
    // Lag and catching-up describe the incremental export; a backfill step's "caught up"
    // means only that its ledger is finished.
    if (r.kind != "backfill" && latest_caught_up == nullptr && EndedCaughtUp(r)) {
      latest_caught_up = &r;
    }
    if (latest_caught_up != nullptr && ps.last_success_ms != 0) break;
  }
  if (latest_caught_up != nullptr) {
    ps.lag_ms = std::max<int64_t>(0, now_ms - latest_caught_up->ended_at_ms);
  }

  auto ledger = store.ListBackfill(p.name, p.stream);
  if (ledger.ok()) {
    ps.backfill = std::move(ledger).value();
  } else if (!NotImplemented(ledger.status())) {
    problems.push_back("backfill ledger: " + ledger.status().message());
  }
  ps.backfill_total = static_cast<int>(ps.backfill.size());
  ps.backfill_done =
      static_cast<int>(std::count_if(ps.backfill.begin(), ps.backfill.end(),
                                     [](const BackfillWindow& w) { return w.status == "done"; }));

  if (p.schedule.kind != Schedule::Kind::kNone) {
    auto last_fire = store.GetLastFire(p.name);
    int64_t last = 0;
    if (last_fire.ok()) {
      last = *last_fire;
    } else if (!NotImplemented(last_fire.status())) {
      problems.push_back("last fire: " + last_fire.status().message());
    }
    if (last <= 0) {
      ps.next_run_ms = now_ms;  // never fired: `weir serve` fires it as soon as it can
    } else {
      auto next = NextFire(p.schedule, last);
      if (next.ok() && next->has_value()) ps.next_run_ms = **next;
      // Unknown (NextFire not available, or a schedule it refuses): stays 0; the pipeline
      // file's validation is where a bad schedule is reported.
    }
  }

  const bool ledger_open = ps.backfill_done < ps.backfill_total;
  const bool stopped_early =
      latest_finished != nullptr && Metric(*latest_finished, "host.caught_up", 1) == 0;
  if (all.empty() && ps.backfill.empty()) {
    ps.phase = "new";
  } else if (ledger_open || stopped_early || latest_caught_up == nullptr) {
    ps.phase = "catching-up";
  } else {
    ps.phase = "incremental";
  }

  for (size_t i = 0; i < problems.size(); ++i) {
    ps.error += (i ? "; " : "") + problems[i];
  }
}

}  // namespace

Result<StatusSnapshot> BuildSnapshot(StateStore& store, const std::vector<Pipeline>& pipelines,
                                     int64_t now_ms, const SnapshotOptions& options) {
  StatusSnapshot snap;
  snap.now_ms = now_ms;
  snap.pipelines.reserve(pipelines.size());
  for (const Pipeline& p : pipelines) {
    PipelineStatus ps;
    ps.pipeline = p;
    ReadPipeline(store, p, now_ms, options, ps);
    if (!ps.error.empty()) snap.errors.push_back("pipeline '" + p.name + "': " + ps.error);
    snap.pipelines.push_back(std::move(ps));
  }
  return snap;
}

}  // namespace weir::host
