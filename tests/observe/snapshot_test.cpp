// tests/observe/snapshot_test.cpp — BuildSnapshot against a real SQLite state store filled
// through the StateStore interface: phase, lag, watermark, runs, ledger, next run.
#include <gtest/gtest.h>

#include "observe/observe.hpp"
#include "observe_test_util.hpp"
#include "schedule/schedule.hpp"
#include "temp_dir.hpp"

namespace weir::host {
namespace {

using observe_test::AddRun;
using observe_test::MakePipeline;
using observe_test::MustOpenStore;

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = MustOpenStore(dir_.path() / "state.db");
    ASSERT_NE(store_, nullptr);
  }
  StatusSnapshot Snap(const std::vector<Pipeline>& ps, int64_t now_ms,
                      SnapshotOptions options = {}) {
    auto snap = BuildSnapshot(*store_, ps, now_ms, options);
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    return snap.ok() ? std::move(snap).value() : StatusSnapshot{};
  }
  bool HasRunMetrics() {
    return store_->SetRunMetrics(1 << 30, {{"x", 1}}).code() != WEIR_NOT_IMPLEMENTED;
  }
  RunRecord Run(int64_t id) {
    auto r = store_->GetRun(id);
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? **r : RunRecord{};
  }

  test::TempDir dir_{"weir-observe"};
  std::unique_ptr<StateStore> store_;
};

TEST(Snapshot, NewPipelineHasNoLagAndManualScheduleHasNoNextRun) {
  test::TempDir dir("weir-observe");
  auto store = MustOpenStore(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  auto snap = BuildSnapshot(*store, {MakePipeline("fresh")}, 1'800'000'000'000, {});
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  ASSERT_EQ(snap->pipelines.size(), 1u);
  const PipelineStatus& ps = snap->pipelines[0];
  EXPECT_EQ(ps.phase, "new");
  EXPECT_EQ(ps.lag_ms, -1);
  EXPECT_EQ(ps.watermark_hex, "");
  EXPECT_FALSE(ps.last_run.has_value());
  EXPECT_EQ(ps.last_success_ms, 0);
  EXPECT_EQ(ps.next_run_ms, 0);
  EXPECT_EQ(ps.backfill_total, 0);
  EXPECT_TRUE(snap->errors.empty());
}

TEST_F(SnapshotTest, RunsGiveWatermarkLagLastSuccessAndIncrementalPhase) {
  const int64_t r1 = AddRun(*store_, "demo", "events", {100, 50}, "succeeded");
  const int64_t r2 = AddRun(*store_, "demo", "events", {7}, "failed", "destination said no");
  const RunRecord first = Run(r1);
  const int64_t now = first.ended_at_ms + 65'000;
  StatusSnapshot snap = Snap({MakePipeline("demo")}, now);
  ASSERT_EQ(snap.pipelines.size(), 1u);
  const PipelineStatus& ps = snap.pipelines[0];
  // 157 rows committed: the watermark is the big-endian offset 157 = 0x9d.
  EXPECT_EQ(ps.watermark_hex, "000000000000009d");
  EXPECT_EQ(ps.committed_rows, 157u);
  EXPECT_EQ(ps.committed_batches, 3u);
  EXPECT_FALSE(ps.pending_batch);
  ASSERT_TRUE(ps.last_run.has_value());
  EXPECT_EQ(ps.last_run->id, r2);
  EXPECT_EQ(ps.last_run->status, "failed");
  // The failed run did not end caught up: lag and last success come from run 1.
  EXPECT_EQ(ps.last_success_ms, first.ended_at_ms);
  EXPECT_EQ(ps.lag_ms, 65'000);
  EXPECT_EQ(ps.phase, "incremental");
  ASSERT_EQ(ps.recent_runs.size(), 2u);
  EXPECT_EQ(ps.recent_runs[0].id, r2);  // newest first
  EXPECT_EQ(ps.recent_runs[1].id, r1);
  EXPECT_EQ(ps.history.runs_counted, 2u);
  EXPECT_EQ(ps.history.rows, 157u);
  EXPECT_EQ(ps.history.bytes, 1570u);
  EXPECT_EQ((ps.history.runs.at({"incremental", "succeeded"})), 1u);
  EXPECT_EQ((ps.history.runs.at({"incremental", "failed"})), 1u);
  EXPECT_EQ(ps.history.duration_count, 2u);
}

TEST_F(SnapshotTest, OnlyFailedRunsMeanCatchingUpAndNoLag) {
  AddRun(*store_, "demo", "events", {5}, "failed", "boom", {}, /*leave_pending=*/true);
  StatusSnapshot snap = Snap({MakePipeline("demo")}, 1'900'000'000'000);
  const PipelineStatus& ps = snap.pipelines[0];
  EXPECT_EQ(ps.phase, "catching-up");
  EXPECT_EQ(ps.lag_ms, -1);
  EXPECT_EQ(ps.last_success_ms, 0);
  EXPECT_TRUE(ps.pending_batch);
  EXPECT_EQ(ps.watermark_hex, "");  // the only batch is pending, not committed
}

TEST_F(SnapshotTest, RunningRunIsLastRunButNotASuccess) {
  const int64_t done = AddRun(*store_, "demo", "events", {3}, "no_data");
  const int64_t running = AddRun(*store_, "demo", "events", {4}, "running");
  StatusSnapshot snap = Snap({MakePipeline("demo")}, Run(done).ended_at_ms + 1000);
  const PipelineStatus& ps = snap.pipelines[0];
  EXPECT_EQ(ps.last_run->id, running);
  EXPECT_EQ(ps.last_run->status, "running");
  EXPECT_EQ(ps.lag_ms, 1000);
  EXPECT_EQ(ps.history.duration_count, 1u);  // the running one has no duration yet
  EXPECT_EQ(ps.history.runs_counted, 2u);
}

TEST_F(SnapshotTest, StepThatStoppedEarlyMeansCatchingUp) {
  if (!HasRunMetrics()) GTEST_SKIP() << "this state store keeps no run metrics yet";
  const int64_t r1 = AddRun(*store_, "demo", "events", {10}, "succeeded");
  AddRun(*store_, "demo", "events", {10}, "succeeded", "",
         {{"host.caught_up", 0}, {"host.retries", 3}});
  StatusSnapshot snap = Snap({MakePipeline("demo")}, Run(r1).ended_at_ms + 500);
  const PipelineStatus& ps = snap.pipelines[0];
  EXPECT_EQ(ps.phase, "catching-up");
  // Lag counts from the last run that ended caught up (run 1), not from the bounded step.
  EXPECT_EQ(ps.lag_ms, 500);
  EXPECT_EQ(ps.history.retries, 3);
  // A later run that catches up makes it incremental again.
  const int64_t r3 = AddRun(*store_, "demo", "events", {}, "no_data", "", {{"host.caught_up", 1}});
  snap = Snap({MakePipeline("demo")}, Run(r3).ended_at_ms + 10);
  EXPECT_EQ(snap.pipelines[0].phase, "incremental");
  EXPECT_EQ(snap.pipelines[0].lag_ms, 10);
}

TEST_F(SnapshotTest, RecentRunsAreLimitedButHistoryCountsAll) {
  for (int i = 0; i < 7; ++i) AddRun(*store_, "demo", "events", {uint64_t(i + 1)}, "succeeded");
  SnapshotOptions opt;
  opt.runs_per_pipeline = 3;
  StatusSnapshot snap = Snap({MakePipeline("demo")}, 2'000'000'000'000, opt);
  const PipelineStatus& ps = snap.pipelines[0];
  ASSERT_EQ(ps.recent_runs.size(), 3u);
  EXPECT_EQ(ps.recent_runs[0].rows, 7u);
  EXPECT_EQ(ps.history.runs_counted, 7u);
  EXPECT_FALSE(ps.history.truncated);
  EXPECT_EQ(ps.history.rows, 28u);
  opt.history_runs = 4;
  snap = Snap({MakePipeline("demo")}, 2'000'000'000'000, opt);
  EXPECT_EQ(snap.pipelines[0].history.runs_counted, 4u);
  EXPECT_TRUE(snap.pipelines[0].history.truncated);
  EXPECT_EQ(snap.pipelines[0].history.rows, 7u + 6 + 5 + 4);
}

TEST_F(SnapshotTest, PipelinesAreIndependent) {
  AddRun(*store_, "a", "events", {1}, "succeeded");
  StatusSnapshot snap = Snap({MakePipeline("a"), MakePipeline("b", "other")}, 2'000'000'000'000);
  ASSERT_EQ(snap.pipelines.size(), 2u);
  EXPECT_EQ(snap.pipelines[0].phase, "incremental");
  EXPECT_EQ(snap.pipelines[1].phase, "new");
  EXPECT_EQ(snap.pipelines[1].history.runs_counted, 0u);
}

TEST_F(SnapshotTest, LedgerWithOpenWindowsIsCatchingUpAndShowsProgress) {
  std::vector<BackfillWindow> windows;
  for (int d = 1; d <= 4; ++d) {
    BackfillWindow w;
    w.pipeline = "demo";
    w.stream = "events";
    w.day = "2026-11-0" + std::to_string(d);
    w.window_start_ms = 1'793'491'200'000 + int64_t(d - 1) * 86'400'000;
    w.window_end_ms = w.window_start_ms + 86'400'000;
    windows.push_back(w);
  }
  auto planned = store_->PlanBackfill(windows);
  if (!planned.ok() && planned.status().code() == WEIR_NOT_IMPLEMENTED) {
    GTEST_SKIP() << "this state store keeps no backfill ledger yet";
  }
  ASSERT_TRUE(planned.ok()) << planned.status().ToString();
  EXPECT_EQ(*planned, 4);
  for (int i = 0; i < 3; ++i) {
    BackfillWindow w = windows[static_cast<size_t>(i)];
    w.status = i == 2 ? "failed" : "done";
    w.error = i == 2 ? "window failed: <b>disk full</b>" : "";
    w.attempts = 1;
    ASSERT_TRUE(store_->UpdateBackfillWindow(w).ok());
  }
  StatusSnapshot snap = Snap({MakePipeline("demo")}, 2'000'000'000'000);
  const PipelineStatus& ps = snap.pipelines[0];
  EXPECT_EQ(ps.phase, "catching-up");  // no run at all, yet not new: a ledger exists
  EXPECT_EQ(ps.backfill_total, 4);
  EXPECT_EQ(ps.backfill_done, 2);
  EXPECT_EQ(BackfillProgress(ps), "2/4 days");
  ASSERT_EQ(ps.backfill.size(), 4u);
  EXPECT_EQ(ps.backfill[2].status, "failed");
  EXPECT_EQ(ps.backfill[3].status, "pending");
}

TEST_F(SnapshotTest, NextRunComesFromTheLastFire) {
  Pipeline p = MakePipeline("demo");
  p.schedule.kind = Schedule::Kind::kEvery;
  p.schedule.every_seconds = 2 * 3600;
  const int64_t now = 1'800'000'000'000;
  // Never fired: serve fires it as soon as it runs.
  StatusSnapshot snap = Snap({p}, now);
  EXPECT_EQ(snap.pipelines[0].next_run_ms, now);
  Status s = store_->SetLastFire("demo", now - 3'600'000);
  if (s.code() == WEIR_NOT_IMPLEMENTED) GTEST_SKIP() << "this state store keeps no last fire";
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto expected = NextFire(p.schedule, now - 3'600'000);
  if (!expected.ok() && expected.status().code() == WEIR_NOT_IMPLEMENTED) {
    GTEST_SKIP() << "NextFire is not built yet";
  }
  ASSERT_TRUE(expected.ok() && expected->has_value());
  snap = Snap({p}, now);
  EXPECT_EQ(snap.pipelines[0].next_run_ms, **expected);
  EXPECT_GT(snap.pipelines[0].next_run_ms, now - 3'600'000);
  EXPECT_LE(snap.pipelines[0].next_run_ms, now + 3'600'000);
}

TEST(RunHistoryCount, HistogramBucketsAreCumulative) {
  std::vector<RunRecord> runs(4);
  const int64_t durations_ms[] = {50, 2000, 100'000, 0};
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].kind = "scheduled";
    runs[i].status = i == 3 ? "running" : "succeeded";
    runs[i].started_at_ms = 1'000'000;
    runs[i].ended_at_ms = i == 3 ? 0 : 1'000'000 + durations_ms[i];
    runs[i].rows = 10 * (i + 1);
    runs[i].metrics["host.retries"] = static_cast<double>(i);
  }
  RunHistory h = CountRunHistory(runs);
  const uint64_t expected[kRunDurationBucketCount] = {1, 1, 1, 2, 2, 2, 2, 3, 3};
  for (size_t i = 0; i < kRunDurationBucketCount; ++i) {
    EXPECT_EQ(h.duration_buckets[i], expected[i]) << "le=" << kRunDurationBuckets[i];
  }
  EXPECT_EQ(h.duration_count, 3u);
  EXPECT_DOUBLE_EQ(h.duration_sum_seconds, 102.05);
  EXPECT_EQ(h.rows, 100u);
  EXPECT_EQ(h.retries, 6);
  EXPECT_EQ((h.runs.at({"scheduled", "succeeded"})), 3u);
  EXPECT_EQ((h.runs.at({"scheduled", "running"})), 1u);
}

}  // namespace
}  // namespace weir::host
