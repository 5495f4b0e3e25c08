// host/state/sqlite_util.hpp — private RAII helpers over the sqlite3 C API for the state store.
//
// Connection owns a sqlite3* and knows the database path, so every failure becomes a
// weir::Status that names the operation, the database and sqlite3_errmsg; SQLITE_BUSY and
// SQLITE_LOCKED (what is left after busy_timeout gave up) are marked retryable. Statement owns a
// sqlite3_stmt*; bind failures are remembered and reported by the next Step(), so call sites
// stay linear. Transaction rolls back in its destructor unless Commit() succeeded.
//
//   WEIR_ASSIGN_OR_RETURN(auto tx, Transaction::Begin(conn, TxKind::kImmediate, "recording"));
//   WEIR_ASSIGN_OR_RETURN(auto stmt, conn.Prepare("UPDATE ...", "recording"));
//   stmt.BindText(1, pipeline);
//   WEIR_RETURN_NOT_OK(stmt.Run());
//   return tx.Commit();
//
// Not part of the state store's interface: only host/state and its tests include this.
#ifndef WEIR_HOST_STATE_SQLITE_UTIL_HPP
#define WEIR_HOST_STATE_SQLITE_UTIL_HPP

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "weir/plugin.hpp"

namespace weir::host::sqlite {

/// Closes a connection (sqlite3_close_v2 defers until the last statement is finalized).
struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

class Statement;

/// An open database connection plus its path (for messages). Move-only.
class Connection {
 public:
  Connection() = default;
  Connection(DbPtr db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  sqlite3* get() const { return db_.get(); }
  const std::string& path() const { return path_; }

  /// The Status for a failed sqlite3 call `rc` during `operation`:
  /// "state database PATH: OPERATION: ERRMSG (sqlite code N)", retryable for BUSY/LOCKED.
  Status Error(int rc, std::string_view operation) const {
    const char* msg = db_ != nullptr ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
    // sqlite3_errmsg describes the most recent failure on this connection; when the caller's rc
    // came from elsewhere (e.g. an earlier bind) fall back to the generic text for rc.
    if (db_ != nullptr && (sqlite3_extended_errcode(db_.get()) & 0xff) != (rc & 0xff)) {
      msg = sqlite3_errstr(rc);
    }
    std::string text = "state database " + path_ + ": " + std::string(operation) + ": " +
                       (msg != nullptr ? msg : "unknown error") + " (sqlite code " +
                       std::to_string(rc) + ")";
    const int primary = rc & 0xff;
    const bool retryable = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
    return Status::Error(std::move(text), retryable).WithVendorCode(rc);
  }

  /// Runs one or more statements that return no rows.
  Status Exec(const char* sql, std::string_view operation) const {
    int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return Error(rc, operation);
    return Status::OK();
  }

  /// Compiles one statement; `operation` names it in any later error.
  Result<Statement> Prepare(std::string_view sql, std::string_view operation) const;

  /// Rows changed by the most recent INSERT/UPDATE/DELETE on this connection.
  int Changes() const { return sqlite3_changes(db_.get()); }
  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_.get()); }

 private:
  DbPtr db_;
  std::string path_;
};

/// One compiled statement. Move-only; borrows its Connection, which must outlive it.
class Statement {
 public:
  Statement(const Connection* conn, StmtPtr stmt, std::string operation)
      : conn_(conn), stmt_(std::move(stmt)), operation_(std::move(operation)) {}

  // Binders use 1-based parameter indexes, like sqlite3_bind_*.
  void BindInt64(int index, int64_t value) { Check(sqlite3_bind_int64(stmt_.get(), index, value)); }
  void BindUint64(int index, uint64_t value) { BindInt64(index, static_cast<int64_t>(value)); }
  void BindDouble(int index, double value) { Check(sqlite3_bind_double(stmt_.get(), index, value)); }
  void BindText(int index, std::string_view value) {
    // A non-null pointer even for "": SQLite binds NULL when given a null pointer.
    Check(sqlite3_bind_text64(stmt_.get(), index, value.empty() ? "" : value.data(), value.size(),
                              SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  /// Binds exact bytes (embedded NULs fine). An empty value is a zero-length BLOB, not NULL.
  void BindBlob(int index, std::string_view value) {
    if (value.empty()) {
      Check(sqlite3_bind_zeroblob(stmt_.get(), index, 0));
    } else {
      Check(sqlite3_bind_blob64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT));
    }
  }

  /// Steps once: true when a row is available, false when done, an error otherwise.
  Result<bool> Step() {
    if (bind_rc_ != SQLITE_OK) return conn_->Error(bind_rc_, operation_ + " (binding)");
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return conn_->Error(rc, operation_);
  }

  /// Steps a statement that returns no rows to completion.
  Status Run() {
    for (;;) {
      WEIR_ASSIGN_OR_RETURN(bool row, Step());
      if (!row) return Status::OK();
    }
  }

  double Double(int col) const { return sqlite3_column_double(stmt_.get(), col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL; }
  int64_t Int64(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
  uint64_t Uint64(int col) const { return static_cast<uint64_t>(Int64(col)); }
  int32_t Int32(int col) const { return static_cast<int32_t>(Int64(col)); }
  /// TEXT or BLOB column as exact bytes; NULL and zero-length both give "".
  std::string Bytes(int col) const {
    const void* p = sqlite3_column_blob(stmt_.get(), col);
    const int n = sqlite3_column_bytes(stmt_.get(), col);  // after _blob, per the SQLite docs
    if (p == nullptr || n <= 0) return std::string();
    return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  const Connection* conn_;
  StmtPtr stmt_;
  std::string operation_;
  int bind_rc_ = SQLITE_OK;
};

inline Result<Statement> Connection::Prepare(std::string_view sql,
                                             std::string_view operation) const {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return Error(rc, operation);
  return Statement(this, std::move(stmt), std::string(operation));
}

enum class TxKind {
  kDeferred,   ///< read transaction: a consistent snapshot for multi-statement reads
  kImmediate,  ///< write transaction: takes the write lock up front (waits up to busy_timeout)
};

/// An open transaction; rolls back on destruction unless committed. Move-only.
class Transaction {
 public:
  static Result<Transaction> Begin(const Connection& conn, TxKind kind,
                                   std::string_view operation) {
    // Writes must BEGIN IMMEDIATE: a deferred transaction that later upgrades to a writer can
    // fail with SQLITE_BUSY_SNAPSHOT in WAL mode without the busy handler ever running.
    const char* sql = kind == TxKind::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN";
    WEIR_RETURN_NOT_OK(conn.Exec(sql, std::string(operation) + " (begin)"));
    return Transaction(&conn, std::string(operation));
  }

  Transaction(Transaction&& other) noexcept
      : conn_(std::exchange(other.conn_, nullptr)), operation_(std::move(other.operation_)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (conn_ != nullptr) sqlite3_exec(conn_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }

  /// Commits; with synchronous=FULL the WAL is fsync'd before this returns OK.
  Status Commit() {
    if (conn_ == nullptr) return Status::Error("internal: commit of a finished transaction");
    Status st = conn_->Exec("COMMIT", operation_ + " (commit)");
    if (st.ok()) conn_ = nullptr;  // on failure the destructor rolls back
    return st;
  }

 private:
  Transaction(const Connection* conn, std::string operation)
      : conn_(conn), operation_(std::move(operation)) {}

  const Connection* conn_;
  std::string operation_;
};

}  // namespace weir::host::sqlite

#endif  // WEIR_HOST_STATE_SQLITE_UTIL_HPP
