// tests/state/state_store_v2_test.cpp — schema 2 of the SQLite state store: run metrics,
// finishing runs by process, the start cut, the backfill ledger (window intents commit into
// their window, share the batch seq and leave the incremental watermark alone), schedule state,
// and migrating a database written with schema 1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/state/sqlite_state_store.hpp"
#include "host/state/state_store.hpp"
#include "state_test_util.hpp"

namespace weir::host {
namespace {

using ::testing::HasSubstr;
using testing::MakeIntent;
using testing::MustOpen;
using testing::TempDir;
using testing::Wm;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT0 = 1'700'000'000'000;

/// The value of a Result, failing the test (and returning T{}) when it is an error.
template <typename T>
T V(Result<T> r) {
  if (!r.ok()) {
    ADD_FAILURE() << r.status().ToString();
    return T{};
  }
  return std::move(r).value();
}

BackfillWindow Window(const std::string& day, int64_t start, int64_t end) {
  BackfillWindow w;
  w.pipeline = "p";
  w.stream = "events";
  w.day = day;
  w.window_start_ms = start;
  w.window_end_ms = end;
  return w;
}

Intent WindowIntent(uint64_t seq, int64_t start, std::string from, std::string to,
                    uint64_t rows, uint64_t bytes, const std::string& bound) {
  Intent in = MakeIntent("p", "events", seq, std::move(from), std::move(to), rows, bytes, 0);
  in.mode = WEIR_READ_WINDOW;
  in.window_start_ms = start;
  in.window_end_ms = start + kDay;
  in.bound_wm = bound;
  return in;
}

TEST(SqliteStateStoreV2, RunMetricsAreStoredReplacedAndReturnedByListAndGet) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  auto run = store->StartRun("p", "incremental", 1);
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(store->SetRunMetrics(*run, {{"host.retries", 3}, {"s3.puts", 2.5}}).ok());
  ASSERT_TRUE(store->SetRunMetrics(*run, {{"host.retries", 4}}).ok());
  auto got = store->GetRun(*run);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->metrics, (std::map<std::string, double>{{"host.retries", 4}}));
  auto list = store->ListRuns("p", 0);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].metrics.at("host.retries"), 4);
  auto missing = store->SetRunMetrics(*run + 100, {{"x", 1}});
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.message(), HasSubstr("no such run"));
}

TEST(SqliteStateStoreV2, FinishRunsOfProcessOnlyTouchesRunningRunsOfThatPid) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  auto a = store->StartRun("p", "scheduled", 111);
  auto b = store->StartRun("q", "scheduled", 111);
  auto c = store->StartRun("p", "scheduled", 222);
  auto done = store->StartRun("p", "scheduled", 111);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && done.ok());
  ASSERT_TRUE(store->FinishRun(*done, "succeeded", "").ok());
  auto n = store->FinishRunsOfProcess(111, "failed", "killed by signal 11 (SIGSEGV)");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(V(store->GetRun(*a))->status, "failed");
  EXPECT_EQ(V(store->GetRun(*a))->error, "killed by signal 11 (SIGSEGV)");
  EXPECT_NE(V(store->GetRun(*a))->ended_at_ms, 0);
  EXPECT_EQ(V(store->GetRun(*b))->status, "failed");
  EXPECT_EQ(V(store->GetRun(*c))->status, "running");
  EXPECT_EQ(V(store->GetRun(*done))->status, "succeeded");
  EXPECT_FALSE(store->FinishRunsOfProcess(222, "running", "").ok());
}

TEST(SqliteStateStoreV2, StartCutIsFixedOnceAndBecomesTheIncrementalWatermark) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  auto none = store->GetStartCut("p", "events");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  StartCut cut{Wm("cut"), "now", 0};
  ASSERT_TRUE(store->SetStartCut("p", "events", cut).ok());
  auto got = store->GetStartCut("p", "events");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->watermark, Wm("cut"));
  EXPECT_EQ((*got)->mode, "now");
  EXPECT_GT((*got)->set_at_ms, 0);
  EXPECT_EQ(store->LoadPipeline("p", "events")->watermark, Wm("cut"));
  // Never changes again.
  auto again = store->SetStartCut("p", "events", StartCut{Wm("other"), "now", 0});
  EXPECT_FALSE(again.ok());
  EXPECT_THAT(again.message(), HasSubstr("already fixed"));
  EXPECT_EQ(store->LoadPipeline("p", "events")->watermark, Wm("cut"));
  EXPECT_FALSE(store->SetStartCut("p", "other", StartCut{"", "sometime", 0}).ok());
}

TEST(SqliteStateStoreV2, StreamWithBatchesTakesOnlyAnEmptyCutAndKeepsItsWatermark) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  auto run = store->StartRun("p", "incremental", 1);
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(store->RecordIntent(MakeIntent("p", "events", 1, "", Wm("a"), 5, 50, *run)).ok());
  auto refused = store->SetStartCut("p", "events", StartCut{Wm("cut"), "now", 0});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("already has batches"));
  ASSERT_TRUE(store->CommitIntent(MakeIntent("p", "events", 1, "", Wm("a"), 5, 50, *run), *run)
                  .ok());
  EXPECT_FALSE(store->SetStartCut("p", "events", StartCut{Wm("cut"), "now", 0}).ok());
  ASSERT_TRUE(store->SetStartCut("p", "events", StartCut{"", "beginning", 0}).ok());
  EXPECT_EQ(store->LoadPipeline("p", "events")->watermark, Wm("a"));
  EXPECT_EQ(V(store->GetStartCut("p", "events"))->mode, "beginning");
}

TEST(SqliteStateStoreV2, PlanBackfillAddsOnlyNewWindowsInDayOrder) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  auto added = store->PlanBackfill({Window("2024-03-02", kT0 + kDay, kT0 + 2 * kDay),
                                    Window("2024-03-01", kT0, kT0 + kDay)});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(*added, 2);
  BackfillWindow w = V(store->ListBackfill("p", "events"))[0];
  w.status = "done";
  w.attempts = 1;
  w.duration_ms = 1234;
  ASSERT_TRUE(store->UpdateBackfillWindow(w).ok());
  added = store->PlanBackfill({Window("2024-03-01", kT0, kT0 + kDay),
                               Window("2024-03-03", kT0 + 2 * kDay, kT0 + 3 * kDay)});
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(*added, 1);
  auto list = store->ListBackfill("p", "events");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].day, "2024-03-01");
  EXPECT_EQ((*list)[0].status, "done");  // kept as it was
  EXPECT_EQ((*list)[0].attempts, 1);
  EXPECT_EQ((*list)[0].duration_ms, 1234);
  EXPECT_EQ((*list)[1].day, "2024-03-02");
  EXPECT_EQ((*list)[1].status, "pending");
  EXPECT_EQ((*list)[2].day, "2024-03-03");
  EXPECT_TRUE(store->ListBackfill("p", "other")->empty());
  EXPECT_FALSE(store->PlanBackfill({Window("bad", kT0, kT0)}).ok());
}

TEST(SqliteStateStoreV2, UpdateBackfillWindowWritesBookkeepingButNotProgress) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PlanBackfill({Window("2024-03-01", kT0, kT0 + kDay)}).ok());
  BackfillWindow w = Window("2024-03-01", kT0, kT0 + kDay);
  w.status = "failed";
  w.error = "source read failed";
  w.started_at_ms = 10;
  w.ended_at_ms = 20;
  w.duration_ms = 10;
  w.run_id = 7;
  w.attempts = 2;
  w.redo_count = 1;
  w.rows = 999;             // progress: ignored
  w.cursor_wm = Wm("x");    // progress: ignored
  ASSERT_TRUE(store->UpdateBackfillWindow(w).ok());
  BackfillWindow got = V(store->ListBackfill("p", "events"))[0];
  EXPECT_EQ(got.status, "failed");
  EXPECT_EQ(got.error, "source read failed");
  EXPECT_EQ(got.started_at_ms, 10);
  EXPECT_EQ(got.ended_at_ms, 20);
  EXPECT_EQ(got.duration_ms, 10);
  EXPECT_EQ(got.run_id, 7);
  EXPECT_EQ(got.attempts, 2);
  EXPECT_EQ(got.redo_count, 1);
  EXPECT_EQ(got.rows, 0u);
  EXPECT_EQ(got.cursor_wm, "");
  w.status = "finished";
  auto bad = store->UpdateBackfillWindow(w);
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(bad.message(), HasSubstr("status must be"));
  BackfillWindow missing = Window("2024-03-09", kT0 + 8 * kDay, kT0 + 9 * kDay);
  EXPECT_THAT(store->UpdateBackfillWindow(missing).message(), HasSubstr("no such window"));
}

TEST(SqliteStateStoreV2, WindowIntentCommitsIntoItsWindowAndSharesTheBatchSeq) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->SetStartCut("p", "events", StartCut{Wm("cut"), "now", 0}).ok());
  ASSERT_TRUE(store->PlanBackfill({Window("d1", kT0, kT0 + kDay)}).ok());
  auto run = store->StartRun("p", "backfill", 1);
  ASSERT_TRUE(run.ok());
  // Incremental batch 1, then window batches 2 and 3, then incremental batch 4.
  ASSERT_TRUE(store->RecordIntent(MakeIntent("p", "events", 1, Wm("cut"), Wm("i1"), 1, 10, *run))
                  .ok());
  ASSERT_TRUE(
      store->CommitIntent(MakeIntent("p", "events", 1, Wm("cut"), Wm("i1"), 1, 10, *run), *run)
          .ok());
  Intent w2 = WindowIntent(2, kT0, "", Wm("w2"), 3, 30, Wm("cut"));
  ASSERT_TRUE(store->RecordIntent(w2).ok());
  auto st = store->LoadPipeline("p", "events");
  ASSERT_TRUE(st->pending.has_value());
  EXPECT_EQ(st->pending->mode, WEIR_READ_WINDOW);
  EXPECT_EQ(st->pending->bound_wm, Wm("cut"));
  EXPECT_EQ(st->pending->window_start_ms, kT0);
  ASSERT_TRUE(store->CommitIntent(w2, *run).ok());
  Intent w3 = WindowIntent(3, kT0, Wm("w2"), Wm("w3"), 4, 40, Wm("cut"));
  ASSERT_TRUE(store->RecordIntent(w3).ok());
  ASSERT_TRUE(store->CommitIntent(w3, *run).ok());
  st = store->LoadPipeline("p", "events");
  EXPECT_EQ(st->watermark, Wm("i1"));  // untouched by window batches
  EXPECT_EQ(st->next_batch_seq, 4u);
  EXPECT_EQ(st->committed_rows, 1u);  // incremental totals only
  EXPECT_EQ(st->committed_batches, 1u);
  BackfillWindow got = V(store->ListBackfill("p", "events"))[0];
  EXPECT_EQ(got.cursor_wm, Wm("w3"));
  EXPECT_EQ(got.rows, 7u);
  EXPECT_EQ(got.bytes, 70u);
  EXPECT_EQ(got.batches, 2u);
  auto r = store->GetRun(*run);
  EXPECT_EQ((*r)->rows, 8u);
  EXPECT_EQ((*r)->batches, 3u);
  auto intents = store->ListWindowIntents("p", "events", kT0);
  ASSERT_TRUE(intents.ok());
  ASSERT_EQ(intents->size(), 2u);
  EXPECT_EQ((*intents)[0].batch_seq, 2u);
  EXPECT_EQ((*intents)[0].from_wm, "");
  EXPECT_EQ((*intents)[0].to_wm, Wm("w2"));
  EXPECT_EQ((*intents)[0].rows, 3u);
  EXPECT_EQ((*intents)[1].batch_seq, 3u);
  EXPECT_EQ((*intents)[1].bound_wm, Wm("cut"));
  EXPECT_TRUE(store->ListWindowIntents("p", "events", kT0 + kDay)->empty());
}

TEST(SqliteStateStoreV2, ResetGoesBackToTheStartCutNotBeforeIt) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->SetStartCut("p", "events", StartCut{Wm("cut"), "now", 0}).ok());
  ASSERT_TRUE(store->SetStartCut("q", "events", StartCut{"", "beginning", 0}).ok());
  auto run = store->StartRun("p", "incremental", 1);
  ASSERT_TRUE(run.ok());
  for (const char* pipeline : {"p", "q"}) {
    const std::string from = std::string(pipeline) == "p" ? Wm("cut") : "";
    Intent in = MakeIntent(pipeline, "events", 1, from, Wm("i1"), 5, 50, *run);
    ASSERT_TRUE(store->RecordIntent(in).ok());
    ASSERT_TRUE(store->CommitIntent(in, *run).ok());
    ASSERT_TRUE(store->ResetPipeline(pipeline, "events").ok());
  }
  // History before the cut belongs to backfill: a reset re-exports from the cut only.
  auto p = store->LoadPipeline("p", "events");
  EXPECT_EQ(p->watermark, Wm("cut"));
  EXPECT_EQ(p->committed_rows, 0u);
  EXPECT_EQ(p->next_batch_seq, 2u);
  EXPECT_EQ(store->LoadPipeline("q", "events")->watermark, "");
}

TEST(SqliteStateStoreV2, WindowIntentWithoutALedgerRowDoesNotCommit) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  auto run = store->StartRun("p", "backfill", 1);
  ASSERT_TRUE(run.ok());
  Intent w = WindowIntent(1, kT0, "", Wm("w"), 3, 30, Wm("cut"));
  ASSERT_TRUE(store->RecordIntent(w).ok());
  auto s = store->CommitIntent(w, *run);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("no window starting at"));
  auto st = store->LoadPipeline("p", "events");
  EXPECT_TRUE(st->pending.has_value());  // nothing changed
  EXPECT_EQ(st->next_batch_seq, 1u);
  EXPECT_EQ(V(store->GetRun(*run))->batches, 0u);
}

TEST(SqliteStateStoreV2, LastFireIsZeroUntilSetThenReplaced) {
  TempDir dir;
  const auto db = dir.path() / "state.db";
  {
    auto store = MustOpen(db);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(V(store->GetLastFire("p")), 0);
    ASSERT_TRUE(store->SetLastFire("p", kT0).ok());
    ASSERT_TRUE(store->SetLastFire("p", kT0 + 60'000).ok());
    ASSERT_TRUE(store->SetLastFire("q", kT0 + 1).ok());
  }
  auto store = MustOpen(db);
  EXPECT_EQ(V(store->GetLastFire("p")), kT0 + 60'000);
  EXPECT_EQ(V(store->GetLastFire("q")), kT0 + 1);
}

// The schema-1 database as a weir of that version created it (the frozen step 1).
constexpr const char* kSchema1 = R"sql(
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL,
  applied_at INTEGER NOT NULL);
INSERT INTO schema_migrations VALUES (1, 'watermarks, intents, runs', 0);
CREATE TABLE watermarks (pipeline TEXT NOT NULL, stream TEXT NOT NULL,
  watermark BLOB NOT NULL DEFAULT x'', next_batch_seq INTEGER NOT NULL DEFAULT 1
  CHECK (next_batch_seq >= 1), committed_rows INTEGER NOT NULL DEFAULT 0,
  committed_batches INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL,
  PRIMARY KEY (pipeline, stream));
CREATE TABLE intents (pipeline TEXT NOT NULL, stream TEXT NOT NULL,
  batch_seq INTEGER NOT NULL CHECK (batch_seq >= 1), from_wm BLOB NOT NULL, to_wm BLOB NOT NULL,
  mode INTEGER NOT NULL, window_start_ms INTEGER NOT NULL DEFAULT 0,
  window_end_ms INTEGER NOT NULL DEFAULT 0, bound_wm BLOB NOT NULL DEFAULT x'',
  rows INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,
  run_id INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('pending', 'committed')), created_at INTEGER NOT NULL,
  committed_at INTEGER, PRIMARY KEY (pipeline, stream, batch_seq),
  FOREIGN KEY (pipeline, stream) REFERENCES watermarks (pipeline, stream) ON DELETE CASCADE);
CREATE UNIQUE INDEX intents_one_pending ON intents (pipeline, stream) WHERE status = 'pending';
CREATE INDEX intents_by_run ON intents (run_id);
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL,
  kind TEXT NOT NULL, status TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER,
  rows INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,
  batches INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
  log_path TEXT NOT NULL DEFAULT '', pid INTEGER NOT NULL DEFAULT 0);
CREATE INDEX runs_by_pipeline ON runs (pipeline, id);
CREATE INDEX runs_running ON runs (pipeline) WHERE status = 'running';
INSERT INTO watermarks VALUES ('p', 'events', x'00ff01', 4, 30, 3, 0);
INSERT INTO intents VALUES ('p', 'events', 3, x'00', x'00ff01', 1, 0, 0, x'', 10, 100, 1,
  'committed', 0, 0);
INSERT INTO runs VALUES (1, 'p', 'incremental', 'succeeded', 5, 6, 30, 300, 3, '', 'l', 42);
INSERT INTO runs VALUES (2, 'p', 'incremental', 'running', 7, NULL, 0, 0, 0, '', '', 43);
)sql";

TEST(SqliteStateStoreV2, Schema1DatabaseIsMigratedKeepingItsData) {
  TempDir dir;
  const auto db = dir.path() / "state.db";
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(raw, kSchema1, nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_close(raw);
  }
  auto store = MustOpen(db);
  ASSERT_NE(store, nullptr);
  auto st = store->LoadPipeline("p", "events");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->watermark, std::string("\x00\xff\x01", 3));
  EXPECT_EQ(st->next_batch_seq, 4u);
  EXPECT_EQ(st->committed_rows, 30u);
  auto run = store->GetRun(1);
  ASSERT_TRUE(run.ok() && run->has_value());
  EXPECT_EQ((*run)->rows, 30u);
  EXPECT_TRUE((*run)->metrics.empty());
  // Every schema-2 feature works on the migrated database.
  EXPECT_EQ(V(store->FinishRunsOfProcess(43, "interrupted", "gone")), 1);
  ASSERT_TRUE(store->SetRunMetrics(1, {{"host.retries", 1}}).ok());
  EXPECT_EQ(V(store->GetRun(1))->metrics.at("host.retries"), 1);
  ASSERT_TRUE(store->SetStartCut("p", "events", StartCut{"", "beginning", 0}).ok());
  ASSERT_TRUE(store->PlanBackfill({Window("d1", kT0, kT0 + kDay)}).ok());
  EXPECT_EQ(store->ListBackfill("p", "events")->size(), 1u);
  ASSERT_TRUE(store->SetLastFire("p", kT0).ok());
  EXPECT_EQ(V(store->GetLastFire("p")), kT0);
  auto r2 = store->StartRun("p", "backfill", 1);
  ASSERT_TRUE(r2.ok());
  EXPECT_GT(*r2, 2);
  Intent w = WindowIntent(4, kT0, "", Wm("w"), 2, 20, "");
  ASSERT_TRUE(store->RecordIntent(w).ok());
  ASSERT_TRUE(store->CommitIntent(w, *r2).ok());
  EXPECT_EQ(store->LoadPipeline("p", "events")->next_batch_seq, 5u);
  EXPECT_EQ(store->LoadPipeline("p", "events")->watermark, std::string("\x00\xff\x01", 3));
}

}  // namespace
}  // namespace weir::host
