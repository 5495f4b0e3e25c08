// plugins/snowflake/odbc.hpp — unixODBC, wrapped: RAII handles, diagnostics as weir::Status,
// and OdbcSession, the Session (session.hpp) the plugin loads through.
//
// Errors. Every failing ODBC call becomes one Status whose message names what was being done
// and carries the driver's diagnostic records ("running MERGE INTO "WEIR"."EVENTS" ...: ERROR:
// ..."), with the first record's SQLSTATE and native code attached (weir_error.sqlstate /
// vendor_code). Retryable: connection problems (class 08), serialization failures and deadlocks
// (40001, 40P01), timeouts (HYT00, HYT01) and a server shutting down (57P01-57P03). Fatal:
// everything else, in particular authentication (28xxx), permissions and syntax (42xxx), a
// missing schema (3F000, 02000) and bad data (22xxx). Some drivers (psqlODBC) report a refused
// password as 08001; a class-08 diagnostic whose text says authentication failed is therefore
// treated as fatal, and named so.
//
// Secrets. Driver messages are passed through a Redactor, which replaces every configured
// secret (password, key passphrase) with "***" before the text is stored anywhere.
//
//   WEIR_ASSIGN_OR_RETURN(auto session, OdbcSession::Connect(conn_str, "account 'x'", redactor));
//   WEIR_RETURN_NOT_OK(session->Execute("ALTER SESSION SET TIMEZONE = 'UTC'"));
#ifndef WEIR_PLUGINS_SNOWFLAKE_ODBC_HPP
#define WEIR_PLUGINS_SNOWFLAKE_ODBC_HPP

#include <sql.h>
#include <sqlext.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "snowflake/session.hpp"
#include "weir/plugin.hpp"

namespace weir::snowflake {

/// Replaces secret values in text. Secrets shorter than 3 bytes are ignored (blanking every
/// "a" in a message would hide more than it protects).
class Redactor {
 public:
  Redactor() = default;
  explicit Redactor(std::vector<std::string> secrets);
  std::string Apply(std::string text) const;

 private:
  std::vector<std::string> secrets_;
};

/// One ODBC diagnostic record.
struct Diagnostic {
  std::string sqlstate;  ///< 5 characters
  int32_t native = 0;
  std::string message;
};

/// All diagnostic records of a handle (SQLGetDiagRec), at most 8.
std::vector<Diagnostic> ReadDiagnostics(SQLSMALLINT handle_type, SQLHANDLE handle);

/// The classification of the module banner.
bool IsRetryableSqlState(std::string_view sqlstate);
/// The session is gone (08xxx, or the server ended it: 57P01-57P03): the connection is dropped
/// and reopened before the next batch instead of retrying on it.
bool IsConnectionLostSqlState(std::string_view sqlstate);
/// True when a driver message says authentication failed (wrong password, unknown user, bad
/// key), whatever SQLSTATE came with it.
bool LooksLikeAuthenticationFailure(std::string_view message);

/// "<what>: <message of each record>" with SQLSTATE, native code and retryability from the
/// diagnostics, redacted. `diagnostics` may be empty (a driver that left none).
Status DiagnosticsToStatus(std::string_view what, const std::vector<Diagnostic>& diagnostics,
                           const Redactor& redactor);

/// Owns one ODBC handle; frees it with SQLFreeHandle. Move-only.
class OdbcHandle {
 public:
  OdbcHandle() = default;
  OdbcHandle(SQLSMALLINT type, SQLHANDLE handle) : type_(type), handle_(handle) {}
  OdbcHandle(OdbcHandle&& other) noexcept { *this = std::move(other); }
  OdbcHandle& operator=(OdbcHandle&& other) noexcept;
  OdbcHandle(const OdbcHandle&) = delete;
  OdbcHandle& operator=(const OdbcHandle&) = delete;
  ~OdbcHandle() { Reset(); }

  SQLHANDLE get() const { return handle_; }
  SQLSMALLINT type() const { return type_; }
  void Reset();

 private:
  SQLSMALLINT type_ = 0;
  SQLHANDLE handle_ = SQL_NULL_HANDLE;
};

/// A connected ODBC session with autocommit off. Destroying it rolls back what is open and
/// disconnects.
class OdbcSession final : public Session {
 public:
  /// Connects with `connection_string` (secrets included; never stored or printed).
  /// `description` names the target in errors ("account 'x', user 'u'"). `login_timeout_s`
  /// bounds the connect.
  static Result<std::unique_ptr<OdbcSession>> Connect(const std::string& connection_string,
                                                      std::string description,
                                                      int64_t login_timeout_s, Redactor redactor);
  ~OdbcSession() override;

  Status Execute(const std::string& sql) override;
  Status ExecuteWithParams(const std::string& sql, const std::vector<Param>& params) override;
  Result<int64_t> QueryInt(const std::string& sql, const std::vector<Param>& params) override;
  Status InsertRows(const std::string& sql, const StagedRows& rows, size_t begin,
                    size_t end) override;
  Status Commit() override;
  Status Rollback() override;
  bool healthy() const override { return healthy_; }

  /// The DBMS name and version the driver reports ("PostgreSQL 15.18"), for logs.
  std::string ServerDescription() const;

 private:
  OdbcSession(OdbcHandle env, OdbcHandle dbc, std::string description, Redactor redactor)
      : env_(std::move(env)),
        dbc_(std::move(dbc)),
        description_(std::move(description)),
        redactor_(std::move(redactor)) {}

  /// A fresh statement handle.
  Result<OdbcHandle> NewStatement(std::string_view what);
  /// The failure of `rc` on `handle` while doing `what`; marks the session unhealthy on a
  /// connection-class error.
  Status Fail(std::string_view what, SQLSMALLINT handle_type, SQLHANDLE handle);
  Status BindParams(SQLHSTMT stmt, const std::vector<Param>& params, std::vector<SQLLEN>* lengths,
                    std::string_view what);
  /// Runs `sql` once with `params` bound and returns its statement, any result set unread.
  /// SQL_NO_DATA (a searched UPDATE/DELETE that touched no row) counts as success only when
  /// `no_data_ok`.
  Result<OdbcHandle> Run(const std::string& sql, const std::vector<Param>& params,
                         const std::string& what, bool no_data_ok);
  /// The first 160 characters of `sql`, for messages.
  static std::string Shorten(const std::string& sql);

  OdbcHandle env_;
  OdbcHandle dbc_;
  std::string description_;
  Redactor redactor_;
  bool healthy_ = true;
  /// Prepared INSERT statements by SQL text, reused across batches of this connection.
  std::map<std::string, OdbcHandle> prepared_;
  /// Column buffers of InsertRows, reused (grow only).
  std::vector<std::vector<char>> buffers_;
  std::vector<std::vector<SQLLEN>> indicators_;
};

}  // namespace weir::snowflake

#endif  // WEIR_PLUGINS_SNOWFLAKE_ODBC_HPP
