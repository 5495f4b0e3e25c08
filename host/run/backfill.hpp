// host/run/backfill.hpp — backfill: export a pipeline's history before its start cut, by day.
//
// The ledger (StateStore::PlanBackfill) holds one window per calendar day in the pipeline's
// zone. RunBackfill() takes the same pipeline lock as an incremental run, replays a pending
// intent first (incremental or window: same bounds, same key), then works through the windows
// in day order whose status is not 'done':
//   pending/running/failed: attempts+1, WINDOW reads from the window's cursor with
//     bound_wm = the start cut until the window is empty, committing each batch into the ledger;
//   redo: every committed batch of the window is read again exactly (same to_wm) and written
//     again under its own idempotency key; nothing is committed; redo_count+1.
// A pipeline whose start cut is empty (start "beginning") is refused: its incremental export
// already covers all history.
//
//   BackfillOptions opt;
//   opt.run.logs_dir = data_dir / "logs";
//   opt.max_windows = 1;                       // weir backfill --step
//   BackfillOutcome out = RunBackfill(pipeline, registry, *store, opt);
//   return out.run.exit_code;                  // 6 while windows remain after a step
#ifndef WEIR_HOST_RUN_BACKFILL_HPP
#define WEIR_HOST_RUN_BACKFILL_HPP

#include <cstdint>
#include <functional>
#include <string>

#include "pipeline/pipeline.hpp"
#include "plugin/loader.hpp"
#include "run/runner.hpp"
#include "state/state_store.hpp"

namespace weir::host {

struct BackfillOptions {
  RunOptions run;  ///< logs_dir, progress, echo_logs, cancel, stop; kind defaults to "backfill"
  /// Windows to work on in this call (0 = all that are not done). --step uses 1.
  int max_windows = 0;
  /// Called after each window ends (done or failed), e.g. for a progress line.
  std::function<void(const BackfillWindow&)> on_window;
  /// What the live progress line shows before the rows of the window being exported (default
  /// " DAY"); the CLI puts its days-done bar here.
  std::function<std::string(const BackfillWindow&)> window_label;
  BackfillOptions() { run.kind = "backfill"; }
};

struct BackfillOutcome {
  RunOutcome run;          ///< the run; exit_code 6 (kExitMoreToDo) when windows remain
  int windows_done = 0;    ///< windows finished (exported or redone) by this call
  int windows_left = 0;    ///< windows of the ledger still not done afterwards
  int windows_total = 0;   ///< windows in the ledger
};

/// Works through the backfill ledger of `pipeline` (see the banner). Never throws.
BackfillOutcome RunBackfill(const Pipeline& pipeline, const PluginRegistry& registry,
                            StateStore& store, const BackfillOptions& options);

}  // namespace weir::host

#endif  // WEIR_HOST_RUN_BACKFILL_HPP
