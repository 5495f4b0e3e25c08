// host/run/backfill.cpp — the backfill loop over the day windows of the ledger, built on the
// run session shared with the incremental run (run_core.hpp).
#include "run/backfill.hpp"

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "run/run_core.hpp"

namespace weir::host {
namespace {

using internal::BatchMode;
using internal::RunSession;

class Backfill {
 public:
  Backfill(RunSession& s, const BackfillOptions& opt) : s_(s), opt_(opt) {}

  Status Run(BackfillOutcome& result) {
    const Pipeline& p = s_.pipeline();
    WEIR_ASSIGN_OR_RETURN(StartCut cut, s_.EnsureStartCut());
    if (cut.watermark.empty()) {
      return Status::InvalidConfig(
          "pipeline '" + p.name + "' starts at the beginning (start \"" + cut.mode +
          "\"): its incremental export already covers all history, so there is nothing to "
          "backfill; backfill needs a pipeline with start \"now\" that has not run before");
    }
    cut_ = cut.watermark;
    // A batch left pending by a killed run first: same mode, window, bound and key.
    WEIR_ASSIGN_OR_RETURN(PipelineState st, s_.store().LoadPipeline(p.name, p.stream));
    if (st.pending) {
      s_.log().warn("replaying batch {} left pending by an interrupted run (same key, same "
                    "records)",
                    st.pending->batch_seq);
      WEIR_RETURN_NOT_OK(s_.ProcessBatch(*st.pending, BatchMode::kReplay));
    }
    WEIR_ASSIGN_OR_RETURN(std::vector<BackfillWindow> windows,
                          s_.store().ListBackfill(p.name, p.stream));
    int worked = 0;
    for (BackfillWindow& w : windows) {
      if (w.status == "done") continue;
      if (opt_.max_windows > 0 && worked >= opt_.max_windows) break;
      if (s_.Cancelled()) return Status::Cancelled("backfill cancelled");
      if (s_.Stopping()) return Status::Cancelled("backfill stopped after its last window");
      ++worked;
      WEIR_RETURN_NOT_OK(w.status == "redo" ? Redo(w) : Export(w));
      ++result.windows_done;
    }
    return Status::OK();
  }

 private:
  /// Marks the window ended (done, failed or back to pending) with the time spent.
  Status EndWindow(BackfillWindow& w, const std::string& status, const std::string& error,
                   int64_t began) {
    w.status = status;
    w.error = error;
    w.ended_at_ms = s_.NowMs();
    w.duration_ms += w.ended_at_ms - began;
    Status st = s_.store().UpdateBackfillWindow(w);
    if (opt_.on_window) opt_.on_window(w);
    return st;
  }

  Status Export(BackfillWindow& w) {
    const Pipeline& p = s_.pipeline();
    const int64_t began = s_.NowMs();
    w.status = "running";
    w.attempts += 1;
    w.started_at_ms = began;
    w.run_id = s_.out().run_id;
    w.error.clear();
    WEIR_RETURN_NOT_OK(s_.store().UpdateBackfillWindow(w));
    s_.set_progress_label(opt_.window_label ? opt_.window_label(w) : " " + w.day);
    s_.log().info("window {} [{} ms, {} ms): attempt {}, from cursor {}", w.day,
                  w.window_start_ms, w.window_end_ms, w.attempts,
                  internal::HexPreview(w.cursor_wm));
    Status s = [&]() -> Status {
      std::string cursor = w.cursor_wm;
      while (true) {
        if (s_.Cancelled()) return Status::Cancelled("backfill cancelled");
        WEIR_ASSIGN_OR_RETURN(PipelineState st, s_.store().LoadPipeline(p.name, p.stream));
        Intent intent;
        intent.pipeline = p.name;
        intent.stream = p.stream;
        intent.batch_seq = st.next_batch_seq;
        intent.from_wm = cursor;
        intent.mode = WEIR_READ_WINDOW;
        intent.window_start_ms = w.window_start_ms;
        intent.window_end_ms = w.window_end_ms;
        intent.bound_wm = cut_;
        intent.run_id = s_.out().run_id;
        const uint64_t before = s_.out().batches;
        const uint64_t rows_before = s_.out().rows;
        WEIR_RETURN_NOT_OK(s_.ProcessBatch(intent, BatchMode::kNew));
        if (s_.out().batches == before) return Status::OK();  // the window is exhausted
        w.rows += s_.out().rows - rows_before;
        w.batches += 1;
        WEIR_ASSIGN_OR_RETURN(std::vector<BackfillWindow> now,
                              s_.store().ListBackfill(p.name, p.stream));
        for (const BackfillWindow& n : now) {
          if (n.window_start_ms == w.window_start_ms) cursor = n.cursor_wm;
        }
      }
    }();
    return Ended(w, s, began, "pending");
  }

  Status Redo(BackfillWindow& w) {
    const Pipeline& p = s_.pipeline();
    const int64_t began = s_.NowMs();
    w.status = "running";
    w.started_at_ms = began;
    w.run_id = s_.out().run_id;
    w.error.clear();
    // Still 'redo' in the ledger until it is done, so a killed redo is redone next time.
    BackfillWindow marker = w;
    marker.status = "redo";
    WEIR_RETURN_NOT_OK(s_.store().UpdateBackfillWindow(marker));
    s_.set_progress_label((opt_.window_label ? opt_.window_label(w) : " " + w.day) + " (redo)");
    Status s = [&]() -> Status {
      WEIR_ASSIGN_OR_RETURN(std::vector<Intent> intents,
                            s_.store().ListWindowIntents(p.name, p.stream, w.window_start_ms));
      s_.log().info("window {}: redoing its {} committed batch(es) with their own keys", w.day,
                    intents.size());
      for (Intent& in : intents) {
        if (s_.Cancelled()) return Status::Cancelled("backfill cancelled");
        WEIR_RETURN_NOT_OK(s_.ProcessBatch(std::move(in), BatchMode::kRewrite));
      }
      return Status::OK();
    }();
    if (s.ok()) w.redo_count += 1;
    if (!s.ok() && s.code() != WEIR_CANCELLED) {
      // A failed redo keeps the window's exported data; it stays asked-for.
      (void)EndWindow(w, "redo", s.ToString(), began);
      return s;
    }
    return Ended(w, s, began, "redo");
  }

  /// Ends the window after an attempt: done, failed, or (cancelled) `resume_status` so the
  /// next backfill carries on with it.
  Status Ended(BackfillWindow& w, const Status& s, int64_t began,
               const std::string& resume_status) {
    if (s.ok()) {
      WEIR_RETURN_NOT_OK(EndWindow(w, "done", "", began));
      s_.log().info("window {} done: {} rows in {} batches", w.day, w.rows, w.batches);
      return Status::OK();
    }
    if (s.code() == WEIR_CANCELLED) {
      // Not a failure of the window: it resumes from its cursor next time.
      (void)EndWindow(w, resume_status, "", began);
      return s;
    }
    (void)EndWindow(w, "failed", s.ToString(), began);
    return s;
  }

  RunSession& s_;
  const BackfillOptions& opt_;
  std::string cut_;
};

}  // namespace

BackfillOutcome RunBackfill(const Pipeline& pipeline, const PluginRegistry& registry,
                            StateStore& store, const BackfillOptions& options) {
  BackfillOutcome result;
  try {
    RunSession session(pipeline, registry, store, options.run);
    if (!session.Begin()) {
      result.run = session.out();
      return result;
    }
    Backfill backfill(session, options);
    Status s = session.Setup();
    if (s.ok()) s = backfill.Run(result);
    auto ledger = store.ListBackfill(pipeline.name, pipeline.stream);
    if (ledger.ok()) {
      result.windows_total = static_cast<int>(ledger->size());
      for (const BackfillWindow& w : *ledger) result.windows_left += w.status != "done";
    } else if (s.ok()) {
      s = ledger.status();
    }
    session.out().caught_up = result.windows_left == 0;
    // The final progress line: the totals under the label of no window in particular.
    if (options.window_label) session.set_progress_label(options.window_label(BackfillWindow{}));
    result.run = session.Finish(s);
    return result;
  } catch (const std::exception& e) {
    result.run.status = "failed";
    result.run.error = Status::Error(std::string("internal error: ") + e.what());
    result.run.exit_code = kExitRunFailed;
    return result;
  }
}

}  // namespace weir::host
