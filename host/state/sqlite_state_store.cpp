// host/state/sqlite_state_store.cpp — the embedded SQLite implementation of StateStore.
//
// One connection per store, opened with journal_mode=WAL, synchronous=FULL (every commit
// fsyncs the WAL before it returns), foreign_keys=ON and a busy timeout. Every write runs in a
// BEGIN IMMEDIATE transaction so writers from several processes queue on the database lock
// instead of failing half-way. The schema is created and upgraded by an ordered list of
// migrations recorded in `schema_migrations`; a database written by a newer weir is refused.
// Pipeline locks are flock(2)s on files in `<db>.locks/`, which the kernel drops when the
// holder dies. docs/state.md describes the schema, the guarantees and the version policy.
#include "host/state/sqlite_state_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "host/state/sqlite_util.hpp"
#include "host/state/state_store.hpp"
#include "weir/files.hpp"

namespace weir::host {
namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;
using sqlite::TxKind;

// ---------------------------------------------------------------------------------------------
// Schema migrations. Append-only: a released step is never edited or reordered, because
// databases in the field have already applied it. A change is a new step at the end (ALTER
// TABLE ... ADD COLUMN, a new table, a new index). Step N brings the database to version N.

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

// Design notes for the steps below:
//  * Watermarks are opaque source bytes: BLOB, compared and returned byte-exact.
//  * Integers are ms since the Unix epoch (UTC) or counts; SQLite INTEGER is 64-bit signed.
//  * runs.status / runs.kind carry no CHECK constraint so that later statuses (e.g. 'queued',
//    'claimed' for the PostgreSQL store's leases) or kinds ('backfill', 'scheduled') need no
//    table rebuild; the store validates them in code instead.
//  * intents keep committed rows as history; at most one pending per (pipeline, stream) is
//    enforced by a partial unique index, not only by code.
//  * The later backfill ledger (per-day windows) is a new table keyed by (pipeline, stream,
//    window_start_ms); intents already carry mode/window columns, so nothing here changes.
constexpr Migration kMigrations[] = {
    {1, "watermarks, intents, runs",
     R"sql(
CREATE TABLE watermarks (
  pipeline          TEXT    NOT NULL,
  stream            TEXT    NOT NULL,
  watermark         BLOB    NOT NULL DEFAULT x'',
  next_batch_seq    INTEGER NOT NULL DEFAULT 1 CHECK (next_batch_seq >= 1),
  committed_rows    INTEGER NOT NULL DEFAULT 0,
  committed_batches INTEGER NOT NULL DEFAULT 0,
  updated_at        INTEGER NOT NULL,
  PRIMARY KEY (pipeline, stream)
);

CREATE TABLE intents (
  pipeline        TEXT    NOT NULL,
  stream          TEXT    NOT NULL,
  batch_seq       INTEGER NOT NULL CHECK (batch_seq >= 1),
  from_wm         BLOB    NOT NULL,
  to_wm           BLOB    NOT NULL,
  mode            INTEGER NOT NULL,
  window_start_ms INTEGER NOT NULL DEFAULT 0,
  window_end_ms   INTEGER NOT NULL DEFAULT 0,
  bound_wm        BLOB    NOT NULL DEFAULT x'',
  rows            INTEGER NOT NULL DEFAULT 0,
  bytes           INTEGER NOT NULL DEFAULT 0,
  run_id          INTEGER NOT NULL DEFAULT 0,
  status          TEXT    NOT NULL CHECK (status IN ('pending', 'committed')),
  created_at      INTEGER NOT NULL,
  committed_at    INTEGER,
  PRIMARY KEY (pipeline, stream, batch_seq),
  FOREIGN KEY (pipeline, stream) REFERENCES watermarks (pipeline, stream) ON DELETE CASCADE
);
CREATE UNIQUE INDEX intents_one_pending ON intents (pipeline, stream) WHERE status = 'pending';
CREATE INDEX intents_by_run ON intents (run_id);

CREATE TABLE runs (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  pipeline   TEXT    NOT NULL,
  kind       TEXT    NOT NULL,
  status     TEXT    NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at   INTEGER,
  rows       INTEGER NOT NULL DEFAULT 0,
  bytes      INTEGER NOT NULL DEFAULT 0,
  batches    INTEGER NOT NULL DEFAULT 0,
  error      TEXT    NOT NULL DEFAULT '',
  log_path   TEXT    NOT NULL DEFAULT '',
  pid        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_pipeline ON runs (pipeline, id);
CREATE INDEX runs_running ON runs (pipeline) WHERE status = 'running';
)sql"},
    {2, "run metrics, start cuts, backfill ledger, schedule state",
     R"sql(
CREATE TABLE run_metrics (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name   TEXT    NOT NULL,
  value  REAL    NOT NULL,
  PRIMARY KEY (run_id, name)
);
CREATE INDEX runs_running_by_pid ON runs (pid) WHERE status = 'running';

CREATE TABLE start_cuts (
  pipeline  TEXT    NOT NULL,
  stream    TEXT    NOT NULL,
  watermark BLOB    NOT NULL DEFAULT x'',
  mode      TEXT    NOT NULL,
  set_at    INTEGER NOT NULL,
  PRIMARY KEY (pipeline, stream)
);

CREATE TABLE backfill_windows (
  pipeline        TEXT    NOT NULL,
  stream          TEXT    NOT NULL,
  window_start_ms INTEGER NOT NULL,
  window_end_ms   INTEGER NOT NULL CHECK (window_end_ms > window_start_ms),
  day             TEXT    NOT NULL,
  status          TEXT    NOT NULL
                  CHECK (status IN ('pending', 'running', 'done', 'failed', 'redo')),
  cursor_wm       BLOB    NOT NULL DEFAULT x'',
  rows            INTEGER NOT NULL DEFAULT 0,
  bytes           INTEGER NOT NULL DEFAULT 0,
  batches         INTEGER NOT NULL DEFAULT 0,
  started_at      INTEGER NOT NULL DEFAULT 0,
  ended_at        INTEGER NOT NULL DEFAULT 0,
  duration_ms     INTEGER NOT NULL DEFAULT 0,
  error           TEXT    NOT NULL DEFAULT '',
  run_id          INTEGER NOT NULL DEFAULT 0,
  attempts        INTEGER NOT NULL DEFAULT 0,
  redo_count      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (pipeline, stream, window_start_ms)
);
CREATE INDEX intents_by_window ON intents (pipeline, stream, window_start_ms)
  WHERE mode = 2;

CREATE TABLE schedule_state (
  pipeline     TEXT    NOT NULL PRIMARY KEY,
  last_fire_ms INTEGER NOT NULL
);
)sql"},
};

constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

constexpr std::string_view kInterruptedError =
    "the process running it ended without finishing (killed or crashed)";

bool IsFinalRunStatus(std::string_view s) {
  return s == "succeeded" || s == "no_data" || s == "failed" || s == "cancelled" ||
         s == "interrupted";
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string Where(std::string_view pipeline, std::string_view stream) {
  return "pipeline " + Quote(pipeline) + " stream " + Quote(stream);
}

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

bool IsValidPipelineFileName(std::string_view name) {
  if (name.empty() || name.size() > 200) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Pipeline lock: an open file description holding flock(LOCK_EX). Closing it (or the process
// dying) releases the lock. Lock files are never unlinked: unlinking while another process has
// opened but not yet locked the file would let two processes "hold" different inodes. The
// descriptor is owned by a weir::UniqueFd (weir/files.hpp) from open() to release.

class FlockPipelineLock final : public PipelineLock {
 public:
  explicit FlockPipelineLock(UniqueFd fd) : fd_(std::move(fd)) {}
  FlockPipelineLock(const FlockPipelineLock&) = delete;
  FlockPipelineLock& operator=(const FlockPipelineLock&) = delete;
  ~FlockPipelineLock() override {
    // Clear the pid first so a stale number never names a process that no longer holds it.
    if (ftruncate(fd_.get(), 0) != 0) {
      // Nothing useful to do: the lock is still released when fd_ closes the descriptor.
    }
  }

 private:
  UniqueFd fd_;  // closed (releasing the flock) by its destructor
};

/// Reads the pid the holder wrote; 0 when unknown (the holder may be between flock and write).
int64_t ReadHolderPid(int fd) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    char buf[32] = {};
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    int64_t pid = 0;
    bool digits = n > 0;
    for (ssize_t i = 0; i < n && buf[i] != '\n'; ++i) {
      if (buf[i] < '0' || buf[i] > '9') {
        digits = false;
        break;
      }
      pid = pid * 10 + (buf[i] - '0');
    }
    if (digits && pid > 0) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------

class SqliteStateStore final : public StateStore {
 public:
  SqliteStateStore(std::filesystem::path path, SqliteStateStoreOptions options)
      : path_(std::move(path)), options_(std::move(options)) {}

  Status Open();

  Result<std::unique_ptr<PipelineLock>> TryLockPipeline(const std::string& pipeline) override;
  Result<PipelineState> LoadPipeline(const std::string& pipeline,
                                     const std::string& stream) override;
  Status RecordIntent(const Intent& intent) override;
  Status CommitIntent(const Intent& intent, int64_t run_id) override;
  Status ResetPipeline(const std::string& pipeline, const std::string& stream) override;
  Result<int64_t> StartRun(const std::string& pipeline, const std::string& kind,
                           int64_t pid) override;
  Status SetRunLogPath(int64_t run_id, const std::string& log_path) override;
  Status FinishRun(int64_t run_id, const std::string& status, const std::string& error) override;
  Result<int> MarkInterruptedRuns(const std::string& pipeline) override;
  Result<std::vector<RunRecord>> ListRuns(const std::string& pipeline, int limit) override;
  Result<std::optional<RunRecord>> GetRun(int64_t run_id) override;

  Status SetRunMetrics(int64_t run_id, const std::map<std::string, double>& metrics) override;
  Result<int> FinishRunsOfProcess(int64_t pid, const std::string& status,
                                  const std::string& error) override;
  Result<std::optional<StartCut>> GetStartCut(const std::string& pipeline,
                                              const std::string& stream) override;
  Status SetStartCut(const std::string& pipeline, const std::string& stream,
                     const StartCut& cut) override;
  Result<int> PlanBackfill(const std::vector<BackfillWindow>& windows) override;
  Result<std::vector<BackfillWindow>> ListBackfill(const std::string& pipeline,
                                                   const std::string& stream) override;
  Status UpdateBackfillWindow(const BackfillWindow& window) override;
  Result<std::vector<Intent>> ListWindowIntents(const std::string& pipeline,
                                                const std::string& stream,
                                                int64_t window_start_ms) override;
  Result<int64_t> GetLastFire(const std::string& pipeline) override;
  Status SetLastFire(const std::string& pipeline, int64_t fired_at_ms) override;

 private:
  Status ReadRunMetrics(RunRecord& run, std::string_view op);
  int64_t NowMs() const {
    if (options_.now_ms) return options_.now_ms();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  Status Invalid(std::string_view operation, const std::string& message) const {
    return Status::Error("state database " + path_.string() + ": " + std::string(operation) + ": " +
                         message);
  }

  Status SetPragmas();
  Result<int> ReadSchemaVersion();
  Status Migrate();
  Result<std::optional<Intent>> ReadPending(const std::string& pipeline, const std::string& stream,
                                            std::string_view op);

  std::filesystem::path path_;
  SqliteStateStoreOptions options_;
  Connection conn_;
};

Status SqliteStateStore::Open() {
  const std::string op = "opening";
  std::error_code ec;
  if (path_.has_parent_path()) {
    // The modes of the directory and of the database (SQLite creates it 0644 less the umask,
    // and its -wal and -shm files with the database's mode) come from the process umask: weir
    // sets 077 in main() (docs/operating.md#security). Do not pre-create the file here to set a
    // mode: closing any descriptor of the database drops every POSIX lock this process holds on
    // it, including those of another open connection.
    std::filesystem::create_directories(path_.parent_path(), ec);
    if (ec) {
      return Invalid(
          op, "cannot create directory " + path_.parent_path().string() + ": " + ec.message());
    }
  }
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path_.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  conn_ = Connection(sqlite::DbPtr(raw), path_.string());  // closes `raw` even on failure
  if (rc != SQLITE_OK) return conn_.Error(rc, op);
  sqlite3_extended_result_codes(conn_.get(), 1);
  WEIR_RETURN_NOT_OK(SetPragmas());
  return Migrate();
}

Status SqliteStateStore::SetPragmas() {
  // busy_timeout first: the later pragmas and migrations may wait on another process.
  int rc = sqlite3_busy_timeout(conn_.get(), options_.busy_timeout_ms);
  if (rc != SQLITE_OK) return conn_.Error(rc, "setting busy_timeout");
  WEIR_RETURN_NOT_OK(conn_.Exec("PRAGMA foreign_keys = ON", "enabling foreign_keys"));

  // Switching to WAL needs a brief exclusive lock and is not always covered by the busy
  // handler (two processes creating the database at once), so retry BUSY until the timeout.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.busy_timeout_ms);
  std::string mode;
  for (;;) {
    WEIR_ASSIGN_OR_RETURN(Statement stmt,
                          conn_.Prepare("PRAGMA journal_mode = WAL", "enabling WAL journal mode"));
    Result<bool> row = stmt.Step();
    if (row.ok()) {
      if (*row) mode = stmt.Bytes(0);
      break;
    }
    if (!row.status().retryable() || std::chrono::steady_clock::now() >= deadline) {
      return row.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (mode != "wal") {
    return Invalid("enabling WAL journal mode",
                   "the file system refused WAL mode (journal_mode is '" + mode +
                       "'); put the state database on a local file system");
  }
  // FULL: in WAL mode, every commit fsyncs the WAL before returning, so an intent that has
  // been recorded survives power loss (NORMAL would only guarantee consistency).
  return conn_.Exec("PRAGMA synchronous = FULL", "setting synchronous=FULL");
}

Result<int> SqliteStateStore::ReadSchemaVersion() {
  const std::string op = "reading the schema version";
  WEIR_ASSIGN_OR_RETURN(Statement exists,
                        conn_.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                                      "'schema_migrations'",
                                      op));
  WEIR_ASSIGN_OR_RETURN(bool has_table, exists.Step());
  if (!has_table) return 0;
  WEIR_ASSIGN_OR_RETURN(
      Statement stmt, conn_.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", op));
  WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? static_cast<int>(stmt.Int64(0)) : 0;
}

Status SqliteStateStore::Migrate() {
  const auto too_new = [this](int version) {
    return Status::Error("state database " + path_.string() + " has schema version " +
                         std::to_string(version) + ", this weir understands up to " +
                         std::to_string(kSchemaVersion) + "; upgrade weir");
  };
  // Fast path without the write lock: an up-to-date database (every open after the first).
  WEIR_ASSIGN_OR_RETURN(int version, ReadSchemaVersion());
  if (version > kSchemaVersion) return too_new(version);
  if (version == kSchemaVersion) return Status::OK();

  // Re-read under the write lock: another process may have migrated meanwhile.
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, "migrating"));
  WEIR_RETURN_NOT_OK(conn_.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)",
      "creating schema_migrations"));
  WEIR_ASSIGN_OR_RETURN(version, ReadSchemaVersion());
  if (version > kSchemaVersion) return too_new(version);
  for (const Migration& m : kMigrations) {
    if (m.version <= version) continue;
    const std::string op =
        "applying schema migration " + std::to_string(m.version) + " (" + m.description + ")";
    WEIR_RETURN_NOT_OK(conn_.Exec(m.sql, op));
    WEIR_ASSIGN_OR_RETURN(
        Statement ins,
        conn_.Prepare("INSERT INTO schema_migrations (version, description, applied_at) "
                      "VALUES (?1, ?2, ?3)",
                      op));
    ins.BindInt64(1, m.version);
    ins.BindText(2, m.description);
    ins.BindInt64(3, NowMs());
    WEIR_RETURN_NOT_OK(ins.Run());
  }
  return tx.Commit();
}

// ---------------------------------------------------------------------------------------------
// Pipeline lock

Result<std::unique_ptr<PipelineLock>> SqliteStateStore::TryLockPipeline(
    const std::string& pipeline) {
  if (!IsValidPipelineFileName(pipeline)) {
    return Status::Error("cannot lock pipeline '" + pipeline +
                         "': a pipeline name must be 1-200 characters of A-Z a-z 0-9 _ . -");
  }
  const std::filesystem::path dir = path_.string() + ".locks";
  const std::filesystem::path file = dir / (pipeline + ".lock");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status::Error("cannot lock pipeline '" + pipeline + "': creating " + dir.string() +
                         ": " + ec.message());
  }
  UniqueFd fd(open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    const int err = errno;
    return Status::Error("cannot lock pipeline '" + pipeline + "': opening " + file.string() +
                         ": " + ErrnoText(err));
  }
  int rc;
  do {
    rc = flock(fd.get(), LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      const int64_t holder = ReadHolderPid(fd.get());
      return Status::Error("pipeline '" + pipeline + "' is already running (pid " +
                           (holder > 0 ? std::to_string(holder) : std::string("unknown")) +
                           "); lock file " + file.string());
    }
    return Status::Error("cannot lock pipeline '" + pipeline + "': flock " + file.string() + ": " +
                         ErrnoText(err));
  }
  const std::string pid_text = std::to_string(getpid()) + "\n";
  if (ftruncate(fd.get(), 0) != 0 || pwrite(fd.get(), pid_text.data(), pid_text.size(), 0) !=
                                         static_cast<ssize_t>(pid_text.size())) {
    const int err = errno;
    return Status::Error("cannot lock pipeline '" + pipeline + "': writing pid to " +
                         file.string() + ": " + ErrnoText(err));
  }
  auto lock = std::make_unique<FlockPipelineLock>(std::move(fd));
  return std::unique_ptr<PipelineLock>(std::move(lock));
}

// ---------------------------------------------------------------------------------------------
// Watermarks and intents

constexpr const char* kIntentColumns =
    "pipeline, stream, batch_seq, from_wm, to_wm, mode, window_start_ms, window_end_ms, "
    "bound_wm, rows, bytes, run_id, created_at";

Intent ReadIntentRow(const Statement& s) {
  Intent in;
  in.pipeline = s.Bytes(0);
  in.stream = s.Bytes(1);
  in.batch_seq = s.Uint64(2);
  in.from_wm = s.Bytes(3);
  in.to_wm = s.Bytes(4);
  in.mode = s.Int32(5);
  in.window_start_ms = s.Int64(6);
  in.window_end_ms = s.Int64(7);
  in.bound_wm = s.Bytes(8);
  in.rows = s.Uint64(9);
  in.bytes = s.Uint64(10);
  in.run_id = s.Int64(11);
  in.created_at_ms = s.Int64(12);
  return in;
}

Result<std::optional<Intent>> SqliteStateStore::ReadPending(const std::string& pipeline,
                                                            const std::string& stream,
                                                            std::string_view op) {
  WEIR_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare(std::string("SELECT ") + kIntentColumns +
                        " FROM intents WHERE pipeline = ?1 AND stream = ?2 AND status = 'pending'",
                    op));
  stmt.BindText(1, pipeline);
  stmt.BindText(2, stream);
  WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<Intent>();
  return std::optional<Intent>(ReadIntentRow(stmt));
}

Result<PipelineState> SqliteStateStore::LoadPipeline(const std::string& pipeline,
                                                     const std::string& stream) {
  const std::string op = "loading " + Where(pipeline, stream);
  // One read transaction so the watermark and the pending intent come from the same snapshot.
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kDeferred, op));
  PipelineState state;
  WEIR_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare("SELECT watermark, next_batch_seq, committed_rows, committed_batches "
                    "FROM watermarks WHERE pipeline = ?1 AND stream = ?2",
                    op));
  stmt.BindText(1, pipeline);
  stmt.BindText(2, stream);
  WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (row) {
    state.watermark = stmt.Bytes(0);
    state.next_batch_seq = stmt.Uint64(1);
    state.committed_rows = stmt.Uint64(2);
    state.committed_batches = stmt.Uint64(3);
  }
  WEIR_ASSIGN_OR_RETURN(state.pending, ReadPending(pipeline, stream, op));
  WEIR_RETURN_NOT_OK(tx.Commit());
  return state;
}

Status SqliteStateStore::RecordIntent(const Intent& intent) {
  const std::string op = "recording batch " + std::to_string(intent.batch_seq) + " of " +
                         Where(intent.pipeline, intent.stream);
  if (intent.pipeline.empty() || intent.stream.empty()) {
    return Invalid(op, "pipeline and stream must not be empty");
  }
  if (intent.mode != WEIR_READ_RANGE && intent.mode != WEIR_READ_WINDOW) {
    return Invalid(op, "mode " + std::to_string(intent.mode) +
                           " is neither WEIR_READ_RANGE nor WEIR_READ_WINDOW");
  }
  if (intent.mode == WEIR_READ_WINDOW && intent.window_end_ms < intent.window_start_ms) {
    return Invalid(op, "window ends (" + std::to_string(intent.window_end_ms) +
                           ") before it starts (" + std::to_string(intent.window_start_ms) + ")");
  }
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  WEIR_ASSIGN_OR_RETURN(std::optional<Intent> pending,
                        ReadPending(intent.pipeline, intent.stream, op));
  if (pending) {
    return Invalid(op, "batch " + std::to_string(pending->batch_seq) +
                           " is still pending; replay and commit it before recording a new one");
  }
  uint64_t next_seq = 1;
  {
    WEIR_ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare("SELECT next_batch_seq FROM watermarks "
                                                        "WHERE pipeline = ?1 AND stream = ?2",
                                                        op));
    stmt.BindText(1, intent.pipeline);
    stmt.BindText(2, intent.stream);
    WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) next_seq = stmt.Uint64(0);
  }
  if (intent.batch_seq != next_seq) {
    return Invalid(op, "expected batch sequence " + std::to_string(next_seq) + ", got " +
                           std::to_string(intent.batch_seq));
  }
  const int64_t now = NowMs();
  {
    // The watermark row must exist first (intents reference it).
    WEIR_ASSIGN_OR_RETURN(Statement stmt,
                          conn_.Prepare("INSERT INTO watermarks (pipeline, stream, updated_at) "
                                        "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                                        op));
    stmt.BindText(1, intent.pipeline);
    stmt.BindText(2, intent.stream);
    stmt.BindInt64(3, now);
    WEIR_RETURN_NOT_OK(stmt.Run());
  }
  {
    WEIR_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_.Prepare(std::string("INSERT INTO intents (") + kIntentColumns +
                          ", status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                          "?13, 'pending')",
                      op));
    stmt.BindText(1, intent.pipeline);
    stmt.BindText(2, intent.stream);
    stmt.BindUint64(3, intent.batch_seq);
    stmt.BindBlob(4, intent.from_wm);
    stmt.BindBlob(5, intent.to_wm);
    stmt.BindInt64(6, intent.mode);
    stmt.BindInt64(7, intent.window_start_ms);
    stmt.BindInt64(8, intent.window_end_ms);
    stmt.BindBlob(9, intent.bound_wm);
    stmt.BindUint64(10, intent.rows);
    stmt.BindUint64(11, intent.bytes);
    stmt.BindInt64(12, intent.run_id);
    stmt.BindInt64(13, now);
    WEIR_RETURN_NOT_OK(stmt.Run());
  }
  // synchronous=FULL: COMMIT returns only after the WAL is fsync'd.
  return tx.Commit();
}

Status SqliteStateStore::CommitIntent(const Intent& intent, int64_t run_id) {
  const std::string op = "committing batch " + std::to_string(intent.batch_seq) + " of " +
                         Where(intent.pipeline, intent.stream);
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  WEIR_ASSIGN_OR_RETURN(std::optional<Intent> pending,
                        ReadPending(intent.pipeline, intent.stream, op));
  if (!pending) return Invalid(op, "there is no pending intent to commit");
  const Intent& p = *pending;
  std::string mismatch;
  if (p.batch_seq != intent.batch_seq) {
    mismatch = "the pending intent is batch " + std::to_string(p.batch_seq);
  } else if (p.from_wm != intent.from_wm) {
    mismatch = "from_wm differs from the pending intent's";
  } else if (p.to_wm != intent.to_wm) {
    mismatch = "to_wm differs from the pending intent's";
  } else if (p.mode != intent.mode || p.window_start_ms != intent.window_start_ms ||
             p.window_end_ms != intent.window_end_ms || p.bound_wm != intent.bound_wm) {
    mismatch = "mode or window differs from the pending intent's";
  }
  if (!mismatch.empty()) return Invalid(op, mismatch);

  const int64_t now = NowMs();
  const bool window = intent.mode == WEIR_READ_WINDOW;
  if (window) {
    // A backfill batch moves its window's cursor, never the incremental watermark.
    WEIR_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_.Prepare("UPDATE backfill_windows SET cursor_wm = ?4, rows = rows + ?5, "
                      "bytes = bytes + ?6, batches = batches + 1 "
                      "WHERE pipeline = ?1 AND stream = ?2 AND window_start_ms = ?3",
                      op));
    stmt.BindText(1, intent.pipeline);
    stmt.BindText(2, intent.stream);
    stmt.BindInt64(3, intent.window_start_ms);
    stmt.BindBlob(4, intent.to_wm);
    stmt.BindUint64(5, intent.rows);
    stmt.BindUint64(6, intent.bytes);
    WEIR_RETURN_NOT_OK(stmt.Run());
    if (conn_.Changes() != 1) {
      return Invalid(op, "the backfill ledger has no window starting at " +
                             std::to_string(intent.window_start_ms) + " ms");
    }
  }
  {
    // Window batches share the batch seq (so keys never collide) but not the watermark or the
    // incremental totals.
    WEIR_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_.Prepare(window ? "UPDATE watermarks SET "
                               "next_batch_seq = next_batch_seq + 1, updated_at = ?5 "
                               "WHERE pipeline = ?1 AND stream = ?2 AND next_batch_seq = ?6"
                             : "UPDATE watermarks SET watermark = ?3, "
                               "next_batch_seq = next_batch_seq + 1, "
                               "committed_rows = committed_rows + ?4, "
                               "committed_batches = committed_batches + 1, updated_at = ?5 "
                               "WHERE pipeline = ?1 AND stream = ?2 AND next_batch_seq = ?6",
                      op));
    stmt.BindText(1, intent.pipeline);
    stmt.BindText(2, intent.stream);
    if (!window) {
      stmt.BindBlob(3, intent.to_wm);
      stmt.BindUint64(4, intent.rows);
    }
    stmt.BindInt64(5, now);
    stmt.BindUint64(6, intent.batch_seq);
    WEIR_RETURN_NOT_OK(stmt.Run());
    if (conn_.Changes() != 1) {
      return Invalid(op, "the watermark row is missing or its next batch sequence is not " +
                             std::to_string(intent.batch_seq) + " (database edited by hand?)");
    }
  }
  {
    WEIR_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_.Prepare("UPDATE intents SET status = 'committed', committed_at = ?4, rows = ?5, "
                      "bytes = ?6 WHERE pipeline = ?1 AND stream = ?2 AND batch_seq = ?3 "
                      "AND status = 'pending'",
                      op));
    stmt.BindText(1, intent.pipeline);
    stmt.BindText(2, intent.stream);
    stmt.BindUint64(3, intent.batch_seq);
    stmt.BindInt64(4, now);
    stmt.BindUint64(5, intent.rows);
    stmt.BindUint64(6, intent.bytes);
    WEIR_RETURN_NOT_OK(stmt.Run());
  }
  {
    WEIR_ASSIGN_OR_RETURN(Statement stmt,
                          conn_.Prepare("UPDATE runs SET rows = rows + ?2, bytes = bytes + ?3, "
                                        "batches = batches + 1 WHERE id = ?1",
                                        op));
    stmt.BindInt64(1, run_id);
    stmt.BindUint64(2, intent.rows);
    stmt.BindUint64(3, intent.bytes);
    WEIR_RETURN_NOT_OK(stmt.Run());
    // A missing run is a caller bug; refusing keeps run totals equal to committed batches.
    if (conn_.Changes() != 1) {
      return Invalid(op, "run " + std::to_string(run_id) + " does not exist");
    }
  }
  return tx.Commit();
}

Status SqliteStateStore::ResetPipeline(const std::string& pipeline, const std::string& stream) {
  const std::string op = "resetting " + Where(pipeline, stream);
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  // The batch seq is NOT restarted: idempotency keys are built from it, and a destination that
  // keeps a ledger of keys (a warehouse) would skip a new "batch 1" as a replay of the old one.
  // A pending intent's seq is skipped too, since its key may already be in the destination.
  for (const char* sql :
       {// Back to the start cut: the beginning, or for a pipeline with start "now" the cut
        // its backfill windows end at, so a reset never re-exports what backfill covers.
        "UPDATE watermarks SET watermark = COALESCE((SELECT c.watermark FROM start_cuts c "
        "WHERE c.pipeline = ?1 AND c.stream = ?2), x''), committed_rows = 0, "
        "committed_batches = 0, "
        "next_batch_seq = next_batch_seq + (SELECT COUNT(*) FROM intents i WHERE "
        "i.pipeline = ?1 AND i.stream = ?2 AND i.status = 'pending') "
        "WHERE pipeline = ?1 AND stream = ?2",
        "DELETE FROM intents WHERE pipeline = ?1 AND stream = ?2 AND status = 'pending'"}) {
    WEIR_ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare(sql, op));
    stmt.BindText(1, pipeline);
    stmt.BindText(2, stream);
    WEIR_RETURN_NOT_OK(stmt.Run());
  }
  return tx.Commit();
}

// ---------------------------------------------------------------------------------------------
// Runs

constexpr const char* kRunColumns =
    "id, pipeline, kind, status, started_at, ended_at, rows, bytes, batches, error, log_path, pid";

RunRecord ReadRunRow(const Statement& s) {
  RunRecord r;
  r.id = s.Int64(0);
  r.pipeline = s.Bytes(1);
  r.kind = s.Bytes(2);
  r.status = s.Bytes(3);
  r.started_at_ms = s.Int64(4);
  r.ended_at_ms = s.IsNull(5) ? 0 : s.Int64(5);
  r.rows = s.Uint64(6);
  r.bytes = s.Uint64(7);
  r.batches = s.Uint64(8);
  r.error = s.Bytes(9);
  r.log_path = s.Bytes(10);
  r.pid = s.Int64(11);
  return r;
}

Result<int64_t> SqliteStateStore::StartRun(const std::string& pipeline, const std::string& kind,
                                           int64_t pid) {
  const std::string op = "starting a " + kind + " run of pipeline " + Quote(pipeline);
  if (pipeline.empty() || kind.empty()) return Invalid(op, "pipeline and kind must not be empty");
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  WEIR_ASSIGN_OR_RETURN(Statement stmt,
                        conn_.Prepare("INSERT INTO runs (pipeline, kind, status, started_at, pid) "
                                      "VALUES (?1, ?2, 'running', ?3, ?4)",
                                      op));
  stmt.BindText(1, pipeline);
  stmt.BindText(2, kind);
  stmt.BindInt64(3, NowMs());
  stmt.BindInt64(4, pid);
  WEIR_RETURN_NOT_OK(stmt.Run());
  const int64_t id = conn_.LastInsertRowId();
  WEIR_RETURN_NOT_OK(tx.Commit());
  return id;
}

Status SqliteStateStore::SetRunLogPath(int64_t run_id, const std::string& log_path) {
  const std::string op = "setting the log path of run " + std::to_string(run_id);
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  WEIR_ASSIGN_OR_RETURN(Statement stmt,
                        conn_.Prepare("UPDATE runs SET log_path = ?2 WHERE id = ?1", op));
  stmt.BindInt64(1, run_id);
  stmt.BindText(2, log_path);
  WEIR_RETURN_NOT_OK(stmt.Run());
  if (conn_.Changes() != 1) return Invalid(op, "no such run");
  return tx.Commit();
}

Status SqliteStateStore::FinishRun(int64_t run_id, const std::string& status,
                                   const std::string& error) {
  const std::string op = "finishing run " + std::to_string(run_id) + " as " + Quote(status);
  if (!IsFinalRunStatus(status)) {
    return Invalid(op, "status must be succeeded, no_data, failed, cancelled or interrupted");
  }
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  {
    WEIR_ASSIGN_OR_RETURN(Statement stmt,
                          conn_.Prepare("SELECT status FROM runs WHERE id = ?1", op));
    stmt.BindInt64(1, run_id);
    WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Invalid(op, "no such run");
    const std::string current = stmt.Bytes(0);
    if (current != "running") return Invalid(op, "the run already ended as " + Quote(current));
  }
  WEIR_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare("UPDATE runs SET status = ?2, error = ?3, ended_at = ?4 WHERE id = ?1", op));
  stmt.BindInt64(1, run_id);
  stmt.BindText(2, status);
  stmt.BindText(3, error);
  stmt.BindInt64(4, NowMs());
  WEIR_RETURN_NOT_OK(stmt.Run());
  return tx.Commit();
}

Result<int> SqliteStateStore::MarkInterruptedRuns(const std::string& pipeline) {
  const std::string op = "marking interrupted runs of pipeline " + Quote(pipeline);
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  WEIR_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare("UPDATE runs SET status = 'interrupted', ended_at = ?2, error = ?3 "
                    "WHERE pipeline = ?1 AND status = 'running'",
                    op));
  stmt.BindText(1, pipeline);
  stmt.BindInt64(2, NowMs());
  stmt.BindText(3, kInterruptedError);
  WEIR_RETURN_NOT_OK(stmt.Run());
  const int marked = conn_.Changes();
  WEIR_RETURN_NOT_OK(tx.Commit());
  return marked;
}

Result<std::vector<RunRecord>> SqliteStateStore::ListRuns(const std::string& pipeline, int limit) {
  const std::string op = pipeline.empty() ? std::string("listing runs")
                                          : "listing runs of pipeline " + Quote(pipeline);
  // Two statements rather than "?1 = '' OR pipeline = ?1", which would defeat the index.
  const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs" +
                          (pipeline.empty() ? "" : " WHERE pipeline = ?2") +
                          " ORDER BY id DESC LIMIT ?1";
  WEIR_ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare(sql, op));
  stmt.BindInt64(1, limit > 0 ? limit : -1);  // LIMIT -1 = no limit
  if (!pipeline.empty()) stmt.BindText(2, pipeline);
  std::vector<RunRecord> runs;
  for (;;) {
    WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    runs.push_back(ReadRunRow(stmt));
  }
  for (RunRecord& r : runs) WEIR_RETURN_NOT_OK(ReadRunMetrics(r, op));
  return runs;
}

Result<std::optional<RunRecord>> SqliteStateStore::GetRun(int64_t run_id) {
  const std::string op = "reading run " + std::to_string(run_id);
  WEIR_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?1", op));
  stmt.BindInt64(1, run_id);
  WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<RunRecord>();
  RunRecord run = ReadRunRow(stmt);
  WEIR_RETURN_NOT_OK(ReadRunMetrics(run, op));
  return std::optional<RunRecord>(std::move(run));
}

Status SqliteStateStore::ReadRunMetrics(RunRecord& run, std::string_view op) {
  WEIR_ASSIGN_OR_RETURN(
      Statement stmt, conn_.Prepare("SELECT name, value FROM run_metrics WHERE run_id = ?1", op));
  stmt.BindInt64(1, run.id);
  for (;;) {
    WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    run.metrics[stmt.Bytes(0)] = stmt.Double(1);
  }
  return Status::OK();
}

Status SqliteStateStore::SetRunMetrics(int64_t run_id,
                                       const std::map<std::string, double>& metrics) {
  const std::string op = "storing the metrics of run " + std::to_string(run_id);
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  {
    WEIR_ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare("SELECT 1 FROM runs WHERE id = ?1", op));
    stmt.BindInt64(1, run_id);
    WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Invalid(op, "no such run");
  }
  {
    WEIR_ASSIGN_OR_RETURN(Statement stmt,
                          conn_.Prepare("DELETE FROM run_metrics WHERE run_id = ?1", op));
    stmt.BindInt64(1, run_id);
    WEIR_RETURN_NOT_OK(stmt.Run());
  }
  for (const auto& [name, value] : metrics) {
    WEIR_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_.Prepare("INSERT INTO run_metrics (run_id, name, value) VALUES (?1, ?2, ?3)", op));
    stmt.BindInt64(1, run_id);
    stmt.BindText(2, name);
    stmt.BindDouble(3, value);
    WEIR_RETURN_NOT_OK(stmt.Run());
  }
  return tx.Commit();
}

Result<int> SqliteStateStore::FinishRunsOfProcess(int64_t pid, const std::string& status,
                                                  const std::string& error) {
  const std::string op =
      "finishing the running runs of process " + std::to_string(pid) + " as " + Quote(status);
  if (!IsFinalRunStatus(status)) {
    return Invalid(op, "status must be succeeded, no_data, failed, cancelled or interrupted");
  }
  if (pid <= 0) return Invalid(op, "pid must be positive");
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  WEIR_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare("UPDATE runs SET status = ?2, error = ?3, ended_at = ?4 "
                    "WHERE pid = ?1 AND status = 'running'",
                    op));
  stmt.BindInt64(1, pid);
  stmt.BindText(2, status);
  stmt.BindText(3, error);
  stmt.BindInt64(4, NowMs());
  WEIR_RETURN_NOT_OK(stmt.Run());
  const int marked = conn_.Changes();
  WEIR_RETURN_NOT_OK(tx.Commit());
  return marked;
}

// ---------------------------------------------------------------------------------------------
// Start cut

Result<std::optional<StartCut>> SqliteStateStore::GetStartCut(const std::string& pipeline,
                                                              const std::string& stream) {
  const std::string op = "reading the start cut of " + Where(pipeline, stream);
  WEIR_ASSIGN_OR_RETURN(Statement stmt,
                        conn_.Prepare("SELECT watermark, mode, set_at FROM start_cuts "
                                      "WHERE pipeline = ?1 AND stream = ?2",
                                      op));
  stmt.BindText(1, pipeline);
  stmt.BindText(2, stream);
  WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<StartCut>();
  StartCut cut;
  cut.watermark = stmt.Bytes(0);
  cut.mode = stmt.Bytes(1);
  cut.set_at_ms = stmt.Int64(2);
  return std::optional<StartCut>(std::move(cut));
}

Status SqliteStateStore::SetStartCut(const std::string& pipeline, const std::string& stream,
                                     const StartCut& cut) {
  const std::string op = "fixing the start cut of " + Where(pipeline, stream);
  if (pipeline.empty() || stream.empty()) {
    return Invalid(op, "pipeline and stream must not be empty");
  }
  if (cut.mode != "beginning" && cut.mode != "now") {
    return Invalid(op, "mode must be 'beginning' or 'now', not " + Quote(cut.mode));
  }
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  {
    WEIR_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_.Prepare("SELECT 1 FROM start_cuts WHERE pipeline = ?1 AND stream = ?2", op));
    stmt.BindText(1, pipeline);
    stmt.BindText(2, stream);
    WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) return Invalid(op, "a start cut is already fixed; it never changes");
  }
  bool has_batches = false;
  {
    WEIR_ASSIGN_OR_RETURN(Statement stmt,
                          conn_.Prepare("SELECT next_batch_seq FROM watermarks "
                                        "WHERE pipeline = ?1 AND stream = ?2",
                                        op));
    stmt.BindText(1, pipeline);
    stmt.BindText(2, stream);
    WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    has_batches = row && stmt.Uint64(0) > 1;
  }
  if (!has_batches) {
    WEIR_ASSIGN_OR_RETURN(std::optional<Intent> pending, ReadPending(pipeline, stream, op));
    has_batches = pending.has_value();
  }
  const int64_t now = NowMs();
  if (!cut.watermark.empty()) {
    // A non-empty cut becomes the incremental watermark, which only an unused stream allows.
    if (has_batches) {
      return Invalid(op,
                     "the stream already has batches, so its cut is the beginning; a cut at a "
                     "watermark would skip or repeat records");
    }
    WEIR_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_.Prepare("INSERT INTO watermarks (pipeline, stream, watermark, updated_at) "
                      "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (pipeline, stream) DO UPDATE SET "
                      "watermark = excluded.watermark, updated_at = excluded.updated_at",
                      op));
    stmt.BindText(1, pipeline);
    stmt.BindText(2, stream);
    stmt.BindBlob(3, cut.watermark);
    stmt.BindInt64(4, now);
    WEIR_RETURN_NOT_OK(stmt.Run());
  }
  WEIR_ASSIGN_OR_RETURN(Statement stmt,
                        conn_.Prepare("INSERT INTO start_cuts (pipeline, stream, watermark, "
                                      "mode, set_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                                      op));
  stmt.BindText(1, pipeline);
  stmt.BindText(2, stream);
  stmt.BindBlob(3, cut.watermark);
  stmt.BindText(4, cut.mode);
  stmt.BindInt64(5, now);
  WEIR_RETURN_NOT_OK(stmt.Run());
  return tx.Commit();
}

// ---------------------------------------------------------------------------------------------
// Backfill ledger

bool IsWindowStatus(std::string_view s) {
  return s == "pending" || s == "running" || s == "done" || s == "failed" || s == "redo";
}

constexpr const char* kWindowColumns =
    "pipeline, stream, day, window_start_ms, window_end_ms, status, cursor_wm, rows, bytes, "
    "batches, started_at, ended_at, duration_ms, error, run_id, attempts, redo_count";

BackfillWindow ReadWindowRow(const Statement& s) {
  BackfillWindow w;
  w.pipeline = s.Bytes(0);
  w.stream = s.Bytes(1);
  w.day = s.Bytes(2);
  w.window_start_ms = s.Int64(3);
  w.window_end_ms = s.Int64(4);
  w.status = s.Bytes(5);
  w.cursor_wm = s.Bytes(6);
  w.rows = s.Uint64(7);
  w.bytes = s.Uint64(8);
  w.batches = s.Uint64(9);
  w.started_at_ms = s.Int64(10);
  w.ended_at_ms = s.Int64(11);
  w.duration_ms = s.Int64(12);
  w.error = s.Bytes(13);
  w.run_id = s.Int64(14);
  w.attempts = static_cast<int>(s.Int64(15));
  w.redo_count = static_cast<int>(s.Int64(16));
  return w;
}

Result<int> SqliteStateStore::PlanBackfill(const std::vector<BackfillWindow>& windows) {
  const std::string op = "planning " + std::to_string(windows.size()) + " backfill window(s)";
  for (const BackfillWindow& w : windows) {
    if (w.pipeline.empty() || w.stream.empty() || w.day.empty()) {
      return Invalid(op, "pipeline, stream and day must not be empty");
    }
    if (w.window_end_ms <= w.window_start_ms) {
      return Invalid(op, "window " + w.day + " ends (" + std::to_string(w.window_end_ms) +
                             ") before it starts (" + std::to_string(w.window_start_ms) + ")");
    }
  }
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  int added = 0;
  for (const BackfillWindow& w : windows) {
    WEIR_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_.Prepare("INSERT INTO backfill_windows (pipeline, stream, window_start_ms, "
                      "window_end_ms, day, status) VALUES (?1, ?2, ?3, ?4, ?5, 'pending') "
                      "ON CONFLICT DO NOTHING",
                      op));
    stmt.BindText(1, w.pipeline);
    stmt.BindText(2, w.stream);
    stmt.BindInt64(3, w.window_start_ms);
    stmt.BindInt64(4, w.window_end_ms);
    stmt.BindText(5, w.day);
    WEIR_RETURN_NOT_OK(stmt.Run());
    added += conn_.Changes();
  }
  WEIR_RETURN_NOT_OK(tx.Commit());
  return added;
}

Result<std::vector<BackfillWindow>> SqliteStateStore::ListBackfill(const std::string& pipeline,
                                                                   const std::string& stream) {
  const std::string op = "listing the backfill ledger of " + Where(pipeline, stream);
  WEIR_ASSIGN_OR_RETURN(Statement stmt,
                        conn_.Prepare(std::string("SELECT ") + kWindowColumns +
                                          " FROM backfill_windows WHERE pipeline = ?1 AND "
                                          "stream = ?2 ORDER BY window_start_ms",
                                      op));
  stmt.BindText(1, pipeline);
  stmt.BindText(2, stream);
  std::vector<BackfillWindow> out;
  for (;;) {
    WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(ReadWindowRow(stmt));
  }
  return out;
}

Status SqliteStateStore::UpdateBackfillWindow(const BackfillWindow& w) {
  const std::string op = "updating backfill window " + w.day + " of " + Where(w.pipeline, w.stream);
  if (!IsWindowStatus(w.status)) {
    return Invalid(op, "status must be pending, running, done, failed or redo, not " +
                           Quote(w.status));
  }
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  WEIR_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare("UPDATE backfill_windows SET status = ?4, started_at = ?5, ended_at = ?6, "
                    "duration_ms = ?7, error = ?8, run_id = ?9, attempts = ?10, "
                    "redo_count = ?11 "
                    "WHERE pipeline = ?1 AND stream = ?2 AND window_start_ms = ?3",
                    op));
  stmt.BindText(1, w.pipeline);
  stmt.BindText(2, w.stream);
  stmt.BindInt64(3, w.window_start_ms);
  stmt.BindText(4, w.status);
  stmt.BindInt64(5, w.started_at_ms);
  stmt.BindInt64(6, w.ended_at_ms);
  stmt.BindInt64(7, w.duration_ms);
  stmt.BindText(8, w.error);
  stmt.BindInt64(9, w.run_id);
  stmt.BindInt64(10, w.attempts);
  stmt.BindInt64(11, w.redo_count);
  WEIR_RETURN_NOT_OK(stmt.Run());
  if (conn_.Changes() != 1) return Invalid(op, "no such window in the ledger");
  return tx.Commit();
}

Result<std::vector<Intent>> SqliteStateStore::ListWindowIntents(const std::string& pipeline,
                                                                const std::string& stream,
                                                                int64_t window_start_ms) {
  const std::string op = "listing the batches of backfill window " +
                         std::to_string(window_start_ms) + " of " + Where(pipeline, stream);
  WEIR_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare(std::string("SELECT ") + kIntentColumns +
                        " FROM intents WHERE pipeline = ?1 AND stream = ?2 AND mode = 2 AND "
                        "window_start_ms = ?3 AND status = 'committed' ORDER BY batch_seq",
                    op));
  stmt.BindText(1, pipeline);
  stmt.BindText(2, stream);
  stmt.BindInt64(3, window_start_ms);
  std::vector<Intent> out;
  for (;;) {
    WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(ReadIntentRow(stmt));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Schedule state

Result<int64_t> SqliteStateStore::GetLastFire(const std::string& pipeline) {
  const std::string op = "reading the last fire time of pipeline " + Quote(pipeline);
  WEIR_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare("SELECT last_fire_ms FROM schedule_state WHERE pipeline = ?1", op));
  stmt.BindText(1, pipeline);
  WEIR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.Int64(0) : int64_t{0};
}

Status SqliteStateStore::SetLastFire(const std::string& pipeline, int64_t fired_at_ms) {
  const std::string op = "recording the last fire time of pipeline " + Quote(pipeline);
  if (pipeline.empty()) return Invalid(op, "pipeline must not be empty");
  WEIR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn_, TxKind::kImmediate, op));
  WEIR_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_.Prepare("INSERT INTO schedule_state (pipeline, last_fire_ms) VALUES (?1, ?2) "
                    "ON CONFLICT (pipeline) DO UPDATE SET last_fire_ms = excluded.last_fire_ms",
                    op));
  stmt.BindText(1, pipeline);
  stmt.BindInt64(2, fired_at_ms);
  WEIR_RETURN_NOT_OK(stmt.Run());
  return tx.Commit();
}

}  // namespace

int SqliteStateSchemaVersion() { return kSchemaVersion; }

Result<std::unique_ptr<StateStore>> OpenSqliteStateStore(const std::filesystem::path& path,
                                                         const SqliteStateStoreOptions& options) {
  if (path.empty()) return Status::Error("state database path is empty");
  auto store = std::make_unique<SqliteStateStore>(path, options);
  WEIR_RETURN_NOT_OK(store->Open());
  return std::unique_ptr<StateStore>(std::move(store));
}

Result<std::unique_ptr<StateStore>> OpenSqliteStateStore(const std::filesystem::path& path) {
  return OpenSqliteStateStore(path, SqliteStateStoreOptions{});
}

}  // namespace weir::host
