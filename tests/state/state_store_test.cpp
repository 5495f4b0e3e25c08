// tests/state/state_store_test.cpp — single-process behaviour of the SQLite state store:
// the intent/commit protocol, byte-exact watermarks, crash survival of pending intents, run
// history, migrations and the schema version guard, reset, and error reporting.
#include "host/state/state_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "host/state/sqlite_state_store.hpp"
#include "state_test_util.hpp"

namespace weir::host {
namespace {

using ::testing::HasSubstr;
using testing::MakeIntent;
using testing::MustOpen;
using testing::TempDir;
using testing::Wm;

/// A clock the test controls.
struct FakeClock {
  int64_t now = 1'700'000'000'000;
  SqliteStateStoreOptions Options() {
    SqliteStateStoreOptions o;
    o.now_ms = [this] { return now; };
    return o;
  }
};

/// Runs SQL on the database file through a separate raw connection.
void RawExec(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(raw);
}

int64_t RawCount(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(raw, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(raw);
  int64_t n = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  return n;
}

TEST(SqliteStateStore, FreshStoreHasNothing) {
  TempDir dir;
  const auto db = dir.path() / "nested" / "deeper" / "state.db";  // parents are created
  auto store = MustOpen(db);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(db));

  auto st = store->LoadPipeline("orders", "events");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->watermark, "");
  EXPECT_EQ(st->next_batch_seq, 1u);
  EXPECT_FALSE(st->pending.has_value());
  EXPECT_EQ(st->committed_rows, 0u);
  EXPECT_EQ(st->committed_batches, 0u);

  auto runs = store->ListRuns("", 10);
  ASSERT_TRUE(runs.ok());
  EXPECT_TRUE(runs->empty());
  auto run = store->GetRun(1);
  ASSERT_TRUE(run.ok());
  EXPECT_FALSE(run->has_value());

  // The pragmas the guarantees depend on.
  EXPECT_EQ(RawCount(db, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
}

TEST(SqliteStateStore, IntentCommitRoundTripIsByteExact) {
  TempDir dir;
  FakeClock clock;
  auto store = MustOpen(dir.path() / "state.db", clock.Options());
  ASSERT_NE(store, nullptr);
  auto run = store->StartRun("orders", "incremental", 4242);
  ASSERT_TRUE(run.ok()) << run.status().ToString();

  // First batch starts from the empty watermark; to_wm has NULs and 0xFF bytes.
  Intent in = MakeIntent("orders", "events", 1, "", Wm("one"), 10, 1000, *run);
  ASSERT_EQ(in.to_wm.size(), 9u);
  ASSERT_TRUE(store->RecordIntent(in).ok());

  auto st = store->LoadPipeline("orders", "events");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(st->pending.has_value());
  EXPECT_EQ(st->pending->from_wm, "");
  EXPECT_EQ(st->pending->to_wm, Wm("one"));
  EXPECT_EQ(st->pending->batch_seq, 1u);
  EXPECT_EQ(st->pending->created_at_ms, clock.now);
  EXPECT_EQ(st->watermark, "");  // not committed yet
  EXPECT_EQ(st->next_batch_seq, 1u);

  clock.now += 5;
  Status c = store->CommitIntent(in, *run);
  ASSERT_TRUE(c.ok()) << c.ToString();
  st = store->LoadPipeline("orders", "events");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->watermark, Wm("one"));
  EXPECT_EQ(st->next_batch_seq, 2u);
  EXPECT_FALSE(st->pending.has_value());
  EXPECT_EQ(st->committed_rows, 10u);
  EXPECT_EQ(st->committed_batches, 1u);

  // Second batch continues from the committed watermark.
  Intent in2 = MakeIntent("orders", "events", 2, st->watermark, Wm("two"), 3, 30, *run);
  ASSERT_TRUE(store->RecordIntent(in2).ok());
  ASSERT_TRUE(store->CommitIntent(in2, *run).ok());
  st = store->LoadPipeline("orders", "events");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->watermark, Wm("two"));
  EXPECT_EQ(st->next_batch_seq, 3u);

  // Committed intents stay as history.
  EXPECT_EQ(
      RawCount(dir.path() / "state.db", "SELECT count(*) FROM intents WHERE status = 'committed'"),
      2);
  // Another stream of the same pipeline is independent.
  auto other = store->LoadPipeline("orders", "users");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->next_batch_seq, 1u);
  EXPECT_EQ(other->watermark, "");
}

TEST(SqliteStateStore, PendingIntentSurvivesCloseAndReopen) {
  TempDir dir;
  const auto db = dir.path() / "state.db";
  FakeClock clock;
  Intent in = MakeIntent("orders", "events", 1, Wm("from"), Wm("to"), 77, 7777, 0);
  in.mode = WEIR_READ_WINDOW;
  in.window_start_ms = 1'699'920'000'000;
  in.window_end_ms = 1'700'006'400'000;
  in.bound_wm = Wm("bound");
  {
    auto store = MustOpen(db, clock.Options());
    ASSERT_NE(store, nullptr);
    auto run = store->StartRun("orders", "backfill", 1);
    ASSERT_TRUE(run.ok());
    in.run_id = *run;
    ASSERT_TRUE(store->RecordIntent(in).ok());
    // The "crash": the store object goes away without a commit.
  }
  auto store = MustOpen(db);
  ASSERT_NE(store, nullptr);
  auto st = store->LoadPipeline("orders", "events");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_TRUE(st->pending.has_value());
  const Intent& p = *st->pending;
  EXPECT_EQ(p.pipeline, "orders");
  EXPECT_EQ(p.stream, "events");
  EXPECT_EQ(p.batch_seq, 1u);
  EXPECT_EQ(p.from_wm, Wm("from"));
  EXPECT_EQ(p.to_wm, Wm("to"));
  EXPECT_EQ(p.mode, WEIR_READ_WINDOW);
  EXPECT_EQ(p.window_start_ms, in.window_start_ms);
  EXPECT_EQ(p.window_end_ms, in.window_end_ms);
  EXPECT_EQ(p.bound_wm, Wm("bound"));
  EXPECT_EQ(p.rows, 77u);
  EXPECT_EQ(p.bytes, 7777u);
  EXPECT_EQ(p.run_id, in.run_id);
  EXPECT_EQ(p.created_at_ms, clock.now);

  // The replay commits with exactly the stored intent, into its backfill window (schema 2: a
  // window batch moves the window's cursor, not the incremental watermark).
  BackfillWindow w;
  w.pipeline = "orders";
  w.stream = "events";
  w.day = "2023-11-14";
  w.window_start_ms = in.window_start_ms;
  w.window_end_ms = in.window_end_ms;
  ASSERT_TRUE(store->PlanBackfill({w}).ok());
  auto run = store->StartRun("orders", "backfill", 2);
  ASSERT_TRUE(run.ok());
  Status c = store->CommitIntent(p, *run);
  ASSERT_TRUE(c.ok()) << c.ToString();
  st = store->LoadPipeline("orders", "events");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->watermark, "");
  EXPECT_FALSE(st->pending.has_value());
  auto ledger = store->ListBackfill("orders", "events");
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].cursor_wm, Wm("to"));
  EXPECT_EQ((*ledger)[0].rows, 77u);
}

TEST(SqliteStateStore, SecondIntentWhilePendingIsRejected) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->RecordIntent(MakeIntent("p", "events", 1, "", "a", 1, 1, 0)).ok());
  Status s = store->RecordIntent(MakeIntent("p", "events", 1, "", "b", 1, 1, 0));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("batch 1 is still pending"));
  EXPECT_THAT(s.message(), HasSubstr("pipeline 'p' stream 'events'"));
  EXPECT_FALSE(s.retryable());
  // The first intent is untouched.
  auto st = store->LoadPipeline("p", "events");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(st->pending.has_value());
  EXPECT_EQ(st->pending->to_wm, "a");
}

TEST(SqliteStateStore, WrongBatchSeqIsRejected) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  Status s = store->RecordIntent(MakeIntent("p", "events", 2, "", "a", 1, 1, 0));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("expected batch sequence 1, got 2"));

  auto run = store->StartRun("p", "incremental", 1);
  ASSERT_TRUE(run.ok());
  Intent first = MakeIntent("p", "events", 1, "", "a", 1, 1, *run);
  ASSERT_TRUE(store->RecordIntent(first).ok());
  ASSERT_TRUE(store->CommitIntent(first, *run).ok());
  s = store->RecordIntent(MakeIntent("p", "events", 1, "a", "b", 1, 1, *run));  // reused seq
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("expected batch sequence 2, got 1"));
  EXPECT_TRUE(store->RecordIntent(MakeIntent("p", "events", 2, "a", "b", 1, 1, *run)).ok());
}

TEST(SqliteStateStore, CommitOfANonPendingIntentIsRejectedAndChangesNothing) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  auto run = store->StartRun("p", "incremental", 1);
  ASSERT_TRUE(run.ok());

  Intent in = MakeIntent("p", "events", 1, Wm("a"), Wm("b"), 5, 50, *run);
  Status s = store->CommitIntent(in, *run);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("no pending intent"));

  ASSERT_TRUE(store->RecordIntent(in).ok());
  Intent wrong_seq = in;
  wrong_seq.batch_seq = 2;
  Intent wrong_to = in;
  wrong_to.to_wm.back() = '\x01';  // differs only in the last byte
  Intent wrong_from = in;
  wrong_from.from_wm = Wm("a") + std::string(1, '\0');  // a trailing NUL is a different value
  Intent wrong_stream = in;
  wrong_stream.stream = "users";

  s = store->CommitIntent(wrong_seq, *run);
  EXPECT_THAT(s.message(), HasSubstr("the pending intent is batch 1"));
  s = store->CommitIntent(wrong_to, *run);
  EXPECT_THAT(s.message(), HasSubstr("to_wm differs"));
  s = store->CommitIntent(wrong_from, *run);
  EXPECT_THAT(s.message(), HasSubstr("from_wm differs"));
  s = store->CommitIntent(wrong_stream, *run);
  EXPECT_THAT(s.message(), HasSubstr("no pending intent"));

  auto st = store->LoadPipeline("p", "events");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->watermark, "");
  EXPECT_EQ(st->next_batch_seq, 1u);
  ASSERT_TRUE(st->pending.has_value());
  auto r = store->GetRun(*run);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->batches, 0u);
}

TEST(SqliteStateStore, CommitIsOneTransaction) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  Intent in = MakeIntent("p", "events", 1, "", Wm("b"), 5, 50, 0);
  ASSERT_TRUE(store->RecordIntent(in).ok());
  // The last step (the run counters) fails: the watermark and intent updates must roll back.
  Status s = store->CommitIntent(in, /*run_id=*/9999);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("run 9999 does not exist"));
  auto st = store->LoadPipeline("p", "events");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->watermark, "");
  EXPECT_EQ(st->next_batch_seq, 1u);
  EXPECT_EQ(st->committed_batches, 0u);
  ASSERT_TRUE(st->pending.has_value());
  // And the same intent still commits afterwards.
  auto run = store->StartRun("p", "incremental", 1);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(store->CommitIntent(in, *run).ok());
}

TEST(SqliteStateStore, RunCountersAddUpOverCommits) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  auto run1 = store->StartRun("p", "incremental", 1);
  ASSERT_TRUE(run1.ok());
  std::string wm;
  const uint64_t rows[] = {10, 20, 30};
  for (uint64_t i = 0; i < 3; ++i) {
    Intent in =
        MakeIntent("p", "events", i + 1, wm, Wm(std::to_string(i)), rows[i], rows[i] * 100, *run1);
    ASSERT_TRUE(store->RecordIntent(in).ok());
    ASSERT_TRUE(store->CommitIntent(in, *run1).ok());
    wm = in.to_wm;
  }
  // A second run, on another stream: its counters are its own; the pipeline totals per stream.
  auto run2 = store->StartRun("p", "incremental", 1);
  ASSERT_TRUE(run2.ok());
  Intent u = MakeIntent("p", "users", 1, "", "u1", 4, 40, *run2);
  ASSERT_TRUE(store->RecordIntent(u).ok());
  ASSERT_TRUE(store->CommitIntent(u, *run2).ok());

  auto r1 = store->GetRun(*run1);
  ASSERT_TRUE(r1.ok() && r1->has_value());
  EXPECT_EQ((*r1)->rows, 60u);
  EXPECT_EQ((*r1)->bytes, 6000u);
  EXPECT_EQ((*r1)->batches, 3u);
  auto r2 = store->GetRun(*run2);
  ASSERT_TRUE(r2.ok() && r2->has_value());
  EXPECT_EQ((*r2)->rows, 4u);
  EXPECT_EQ((*r2)->batches, 1u);

  auto st = store->LoadPipeline("p", "events");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->committed_rows, 60u);
  EXPECT_EQ(st->committed_batches, 3u);
  EXPECT_EQ(st->next_batch_seq, 4u);
}

TEST(SqliteStateStore, RunHistoryIsNewestFirstWithLimit) {
  TempDir dir;
  FakeClock clock;
  auto store = MustOpen(dir.path() / "state.db", clock.Options());
  ASSERT_NE(store, nullptr);
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = store->StartRun(i % 2 == 0 ? "a" : "b", "incremental", 100 + i);
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
    clock.now += 1000;
  }
  auto all = store->ListRuns("", 3);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, ids[4]);
  EXPECT_EQ((*all)[1].id, ids[3]);
  EXPECT_EQ((*all)[2].id, ids[2]);

  auto a = store->ListRuns("a", 0);  // 0 = no limit
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[0].id, ids[4]);
  EXPECT_EQ((*a)[2].id, ids[0]);
  for (const RunRecord& r : *a) EXPECT_EQ(r.pipeline, "a");

  const RunRecord& first = (*a)[2];
  EXPECT_EQ(first.status, "running");
  EXPECT_EQ(first.kind, "incremental");
  EXPECT_EQ(first.pid, 100);
  EXPECT_EQ(first.started_at_ms, 1'700'000'000'000);
  EXPECT_EQ(first.ended_at_ms, 0);

  ASSERT_TRUE(store->SetRunLogPath(ids[0], "/var/log/weir/a/1.log").ok());
  clock.now = 1'800'000'000'000;
  ASSERT_TRUE(store->FinishRun(ids[0], "failed", "destination said no").ok());
  auto got = store->GetRun(ids[0]);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status, "failed");
  EXPECT_EQ((*got)->error, "destination said no");
  EXPECT_EQ((*got)->ended_at_ms, 1'800'000'000'000);
  EXPECT_EQ((*got)->log_path, "/var/log/weir/a/1.log");

  Status again = store->FinishRun(ids[0], "succeeded", "");
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.message(), HasSubstr("already ended as 'failed'"));
  Status bad = store->FinishRun(ids[1], "done", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.message(), HasSubstr("status must be"));
  EXPECT_FALSE(store->FinishRun(424242, "succeeded", "").ok());
  EXPECT_FALSE(store->SetRunLogPath(424242, "x").ok());
}

TEST(SqliteStateStore, MarkInterruptedRunsOnlyTouchesRunningRunsOfThePipeline) {
  TempDir dir;
  FakeClock clock;
  auto store = MustOpen(dir.path() / "state.db", clock.Options());
  ASSERT_NE(store, nullptr);
  auto a1 = store->StartRun("a", "incremental", 1);
  auto a2 = store->StartRun("a", "incremental", 2);
  auto a3 = store->StartRun("a", "incremental", 3);
  auto b1 = store->StartRun("b", "incremental", 4);
  ASSERT_TRUE(a1.ok() && a2.ok() && a3.ok() && b1.ok());
  ASSERT_TRUE(store->FinishRun(*a3, "succeeded", "").ok());
  clock.now += 60'000;

  auto n = store->MarkInterruptedRuns("a");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);
  for (int64_t id : {*a1, *a2}) {
    auto r = store->GetRun(id);
    ASSERT_TRUE(r.ok() && r->has_value());
    EXPECT_EQ((*r)->status, "interrupted");
    EXPECT_EQ((*r)->error, "the process running it ended without finishing (killed or crashed)");
    EXPECT_EQ((*r)->ended_at_ms, clock.now);
  }
  auto r3 = store->GetRun(*a3);
  ASSERT_TRUE(r3.ok() && r3->has_value());
  EXPECT_EQ((*r3)->status, "succeeded");
  auto rb = store->GetRun(*b1);
  ASSERT_TRUE(rb.ok() && rb->has_value());
  EXPECT_EQ((*rb)->status, "running");

  n = store->MarkInterruptedRuns("a");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
}

TEST(SqliteStateStore, ReopenDoesNotReapplyMigrations) {
  TempDir dir;
  const auto db = dir.path() / "state.db";
  {
    auto store = MustOpen(db);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->RecordIntent(MakeIntent("p", "events", 1, "", "x", 1, 1, 0)).ok());
  }
  for (int i = 0; i < 2; ++i) {
    auto store = MustOpen(db);
    ASSERT_NE(store, nullptr);
    auto st = store->LoadPipeline("p", "events");
    ASSERT_TRUE(st.ok());
    EXPECT_TRUE(st->pending.has_value());
  }
  EXPECT_EQ(RawCount(db, "SELECT count(*) FROM schema_migrations"), SqliteStateSchemaVersion());
  EXPECT_EQ(RawCount(db, "SELECT max(version) FROM schema_migrations"), SqliteStateSchemaVersion());
}

TEST(SqliteStateStore, FutureSchemaVersionIsRefused) {
  TempDir dir;
  const auto db = dir.path() / "state.db";
  { ASSERT_NE(MustOpen(db), nullptr); }
  const int future = SqliteStateSchemaVersion() + 5;
  RawExec(db, "INSERT INTO schema_migrations (version, description, applied_at) VALUES (" +
                  std::to_string(future) + ", 'from the future', 0)");
  auto r = OpenSqliteStateStore(db);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr("state database " + db.string() + " has schema version " +
                        std::to_string(future) + ", this weir understands up to " +
                        std::to_string(SqliteStateSchemaVersion()) + "; upgrade weir"));
}

TEST(SqliteStateStore, ResetForgetsOneStreamButKeepsRunHistory) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  auto run = store->StartRun("p", "incremental", 1);
  ASSERT_TRUE(run.ok());
  Intent e1 = MakeIntent("p", "events", 1, "", "e1", 1, 1, *run);
  ASSERT_TRUE(store->RecordIntent(e1).ok());
  ASSERT_TRUE(store->CommitIntent(e1, *run).ok());
  ASSERT_TRUE(store->RecordIntent(MakeIntent("p", "events", 2, "e1", "e2", 1, 1, *run)).ok());
  Intent u1 = MakeIntent("p", "users", 1, "", "u1", 1, 1, *run);
  ASSERT_TRUE(store->RecordIntent(u1).ok());
  ASSERT_TRUE(store->CommitIntent(u1, *run).ok());

  ASSERT_TRUE(store->ResetPipeline("p", "events").ok());
  auto st = store->LoadPipeline("p", "events");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->watermark, "");
  // Batch seqs keep counting (keys stay unique); the pending seq 2 is skipped, not reused.
  EXPECT_EQ(st->next_batch_seq, 3u);
  EXPECT_FALSE(st->pending.has_value());
  EXPECT_EQ(st->committed_batches, 0u);
  auto users = store->LoadPipeline("p", "users");
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(users->watermark, "u1");
  EXPECT_EQ(users->next_batch_seq, 2u);
  auto r = store->GetRun(*run);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->batches, 2u);
  // Starting over works: from the beginning, under a new batch seq.
  EXPECT_FALSE(store->RecordIntent(MakeIntent("p", "events", 1, "", "e1", 1, 1, *run)).ok());
  EXPECT_TRUE(store->RecordIntent(MakeIntent("p", "events", 3, "", "e1", 1, 1, *run)).ok());
}

TEST(SqliteStateStore, InvalidPipelineNamesCannotBeLocked) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> names = {
      "../escape",          "a/b", "", "with space", "semi;colon", std::string("nul\0x", 5),
      std::string(201, 'a')};
  for (const std::string& name : names) {
    auto lock = store->TryLockPipeline(name);
    ASSERT_FALSE(lock.ok()) << name;
    EXPECT_THAT(lock.status().message(), HasSubstr("a pipeline name must be")) << name;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "escape.lock"));
  auto ok = store->TryLockPipeline("Orders_v2.daily-1");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "state.db.locks" / "Orders_v2.daily-1.lock"));
}

TEST(SqliteStateStore, LockInTheSameProcessIsExclusiveAndReleasedByDestructor) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  auto first = store->TryLockPipeline("p");
  ASSERT_TRUE(first.ok());
  auto second = store->TryLockPipeline("p");
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(),
              HasSubstr("pipeline 'p' is already running (pid " + std::to_string(getpid()) + ")"));
  EXPECT_TRUE(store->TryLockPipeline("other").ok());  // other pipelines are independent
  first.value().reset();
  EXPECT_TRUE(store->TryLockPipeline("p").ok());
}

TEST(SqliteStateStore, BusyDatabaseGivesARetryableErrorNamingThePath) {
  TempDir dir;
  const auto db = dir.path() / "state.db";
  SqliteStateStoreOptions opts;
  opts.busy_timeout_ms = 50;
  auto store = MustOpen(db, opts);
  ASSERT_NE(store, nullptr);

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto run = store->StartRun("p", "incremental", 1);
  ASSERT_FALSE(run.ok());
  EXPECT_TRUE(run.status().retryable());
  EXPECT_THAT(run.status().message(), HasSubstr("state database " + db.string()));
  EXPECT_THAT(run.status().message(), HasSubstr("starting a incremental run of pipeline 'p'"));
  EXPECT_THAT(run.status().message(), HasSubstr("locked"));
  // Readers are not blocked by a writer in WAL mode.
  EXPECT_TRUE(store->LoadPipeline("p", "events").ok());
  ASSERT_EQ(sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  EXPECT_TRUE(store->StartRun("p", "incremental", 1).ok());
}

TEST(SqliteStateStore, OpenFailureNamesTheDatabase) {
  TempDir dir;
  const auto blocker = dir.path() / "not-a-dir";
  std::ofstream(blocker) << "x";
  auto r = OpenSqliteStateStore(blocker / "state.db");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr((blocker / "state.db").string()));

  const auto garbage = dir.path() / "garbage.db";
  std::ofstream(garbage) << std::string(8192, 'g');
  r = OpenSqliteStateStore(garbage);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(garbage.string()));
  EXPECT_THAT(r.status().message(), HasSubstr("not a database"));
}

TEST(SqliteStateStore, RecordIntentValidatesItsInput) {
  TempDir dir;
  auto store = MustOpen(dir.path() / "state.db");
  ASSERT_NE(store, nullptr);
  Intent bad_mode = MakeIntent("p", "events", 1, "", "x", 1, 1, 0);
  bad_mode.mode = 7;
  EXPECT_THAT(store->RecordIntent(bad_mode).message(), HasSubstr("mode 7"));
  Intent no_stream = MakeIntent("p", "", 1, "", "x", 1, 1, 0);
  EXPECT_THAT(store->RecordIntent(no_stream).message(), HasSubstr("must not be empty"));
  Intent backwards = MakeIntent("p", "events", 1, "", "x", 1, 1, 0);
  backwards.mode = WEIR_READ_WINDOW;
  backwards.window_start_ms = 10;
  backwards.window_end_ms = 5;
  EXPECT_THAT(store->RecordIntent(backwards).message(), HasSubstr("before it starts"));
}

}  // namespace
}  // namespace weir::host
