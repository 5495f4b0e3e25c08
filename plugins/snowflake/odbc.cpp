// plugins/snowflake/odbc.cpp — unixODBC handles, diagnostics and OdbcSession (see odbc.hpp).
#include "snowflake/odbc.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "weir/json.hpp"

namespace weir::snowflake {
namespace {

constexpr size_t kMaxDiagnostics = 8;
constexpr size_t kShortSqlChars = 160;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// Collapses a driver message to one line: newlines and tabs become spaces, runs of spaces one,
/// and psqlODBC's trailing ";\nError while executing the query" goes.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(c);
  }
  for (const char* tail : {" Error while executing the query", ";"}) {
    const size_t n = std::strlen(tail);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (out.size() >= n && out.compare(out.size() - n, n, tail) == 0) out.resize(out.size() - n);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

Redactor::Redactor(std::vector<std::string> secrets) {
  for (std::string& s : secrets) {
    if (s.size() >= 3) secrets_.push_back(std::move(s));
  }
  // Longest first, so a secret containing another is blanked whole.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::Apply(std::string text) const {
  for (const std::string& s : secrets_) {
    for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 3)) {
      text.replace(at, s.size(), "***");
    }
  }
  return text;
}

std::vector<Diagnostic> ReadDiagnostics(SQLSMALLINT handle_type, SQLHANDLE handle) {
  std::vector<Diagnostic> out;
  if (handle == SQL_NULL_HANDLE) return out;
  for (SQLSMALLINT i = 1; out.size() < kMaxDiagnostics; ++i) {
    SQLCHAR state[6] = {0};
    SQLINTEGER native = 0;
    SQLSMALLINT length = 0;
    std::vector<SQLCHAR> message(1024);
    SQLRETURN rc = SQLGetDiagRec(handle_type, handle, i, state, &native, message.data(),
                                 static_cast<SQLSMALLINT>(message.size()), &length);
    if (rc == SQL_SUCCESS_WITH_INFO && static_cast<size_t>(length) >= message.size()) {
      message.resize(static_cast<size_t>(length) + 1);
      rc = SQLGetDiagRec(handle_type, handle, i, state, &native, message.data(),
                         static_cast<SQLSMALLINT>(message.size()), &length);
    }
    if (!SQL_SUCCEEDED(rc)) break;
    Diagnostic d;
    d.sqlstate = std::string(reinterpret_cast<const char*>(state), 5);
    d.native = native;
    d.message = OneLine(std::string_view(reinterpret_cast<const char*>(message.data()),
                                         std::min<size_t>(length, message.size() - 1)));
    out.push_back(std::move(d));
  }
  return out;
}

bool IsConnectionLostSqlState(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return false;
  if (sqlstate.substr(0, 2) == "08") return true;  // connection exception
  // The server ended the session: admin shutdown, crash shutdown, cannot connect now.
  return sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
}

bool IsRetryableSqlState(std::string_view sqlstate) {
  if (IsConnectionLostSqlState(sqlstate)) return true;
  for (std::string_view s : {"40001", "40P01", "HYT00", "HYT01"}) {
    if (sqlstate == s) return true;
  }
  return false;
}

bool LooksLikeAuthenticationFailure(std::string_view message) {
  const std::string m = Lower(message);
  for (const char* needle :
       {"authentication failed", "incorrect username or password", "jwt token is invalid",
        "no pg_hba.conf entry", "invalid authorization specification", "private key"}) {
    if (m.find(needle) != std::string::npos) return true;
  }
  return false;
}

Status DiagnosticsToStatus(std::string_view what, const std::vector<Diagnostic>& diagnostics,
                           const Redactor& redactor) {
  if (diagnostics.empty()) {
    return Status::Error(redactor.Apply(std::string(what) + ": failed (the ODBC driver gave no "
                                                            "diagnostic)"));
  }
  // The first record that is not a mere warning (class 01) decides.
  const Diagnostic* main = &diagnostics.front();
  for (const Diagnostic& d : diagnostics) {
    if (d.sqlstate.compare(0, 2, "01") != 0) {
      main = &d;
      break;
    }
  }
  std::string text;
  for (const Diagnostic& d : diagnostics) {
    if (d.message.empty() || text.find(d.message) != std::string::npos) continue;
    if (!text.empty()) text += "; ";
    text += d.message;
  }
  const bool auth = main->sqlstate.compare(0, 2, "28") == 0 || LooksLikeAuthenticationFailure(text);
  const bool retryable = !auth && IsRetryableSqlState(main->sqlstate);
  std::string message = std::string(what) + ": " + (auth ? "authentication failed: " : "") + text;
  return Status::Error(redactor.Apply(std::move(message)), retryable)
      .WithSqlState(main->sqlstate)
      .WithVendorCode(main->native);
}

OdbcHandle& OdbcHandle::operator=(OdbcHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    type_ = other.type_;
    handle_ = other.handle_;
    other.handle_ = SQL_NULL_HANDLE;
  }
  return *this;
}

void OdbcHandle::Reset() {
  if (handle_ != SQL_NULL_HANDLE) SQLFreeHandle(type_, handle_);
  handle_ = SQL_NULL_HANDLE;
}

Result<std::unique_ptr<OdbcSession>> OdbcSession::Connect(const std::string& connection_string,
                                                          std::string description,
                                                          int64_t login_timeout_s,
                                                          Redactor redactor) {
  const std::string what = "snowflake: connecting to " + description;
  SQLHANDLE raw = SQL_NULL_HANDLE;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &raw))) {
    return Status::Error(what + ": cannot allocate an ODBC environment (is unixODBC installed?)");
  }
  OdbcHandle env(SQL_HANDLE_ENV, raw);
  if (!SQL_SUCCEEDED(SQLSetEnvAttr(env.get(), SQL_ATTR_ODBC_VERSION,
                                   reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0))) {
    return DiagnosticsToStatus(what, ReadDiagnostics(SQL_HANDLE_ENV, env.get()), redactor);
  }
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, env.get(), &raw))) {
    return DiagnosticsToStatus(what, ReadDiagnostics(SQL_HANDLE_ENV, env.get()), redactor);
  }
  OdbcHandle dbc(SQL_HANDLE_DBC, raw);
  SQLSetConnectAttr(dbc.get(), SQL_ATTR_LOGIN_TIMEOUT,
                    reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(login_timeout_s)), 0);
  std::vector<SQLCHAR> cs(connection_string.begin(), connection_string.end());
  cs.push_back(0);
  SQLRETURN rc = SQLDriverConnect(dbc.get(), nullptr, cs.data(), SQL_NTS, nullptr, 0, nullptr,
                                  SQL_DRIVER_NOPROMPT);
  // The connection string holds the password: wipe our copy now.
  std::fill(cs.begin(), cs.end(), SQLCHAR{0});
  if (!SQL_SUCCEEDED(rc)) {
    return DiagnosticsToStatus(what, ReadDiagnostics(SQL_HANDLE_DBC, dbc.get()), redactor);
  }
  auto session = std::unique_ptr<OdbcSession>(
      new OdbcSession(std::move(env), std::move(dbc), std::move(description), std::move(redactor)));
  rc = SQLSetConnectAttr(session->dbc_.get(), SQL_ATTR_AUTOCOMMIT,
                         reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_OFF), 0);
  if (!SQL_SUCCEEDED(rc)) {
    return session->Fail("snowflake: turning autocommit off", SQL_HANDLE_DBC, session->dbc_.get());
  }
  return session;
}

OdbcSession::~OdbcSession() {
  prepared_.clear();
  if (dbc_.get() != SQL_NULL_HANDLE) {
    SQLEndTran(SQL_HANDLE_DBC, dbc_.get(), SQL_ROLLBACK);
    SQLDisconnect(dbc_.get());
  }
}

std::string OdbcSession::ServerDescription() const {
  SQLCHAR name[128] = {0}, version[128] = {0};
  SQLSMALLINT n = 0;
  SQLGetInfo(dbc_.get(), SQL_DBMS_NAME, name, sizeof name, &n);
  SQLGetInfo(dbc_.get(), SQL_DBMS_VER, version, sizeof version, &n);
  return std::string(reinterpret_cast<const char*>(name)) + " " +
         reinterpret_cast<const char*>(version);
}

std::string OdbcSession::Shorten(const std::string& sql) {
  if (sql.size() <= kShortSqlChars) return sql;
  return sql.substr(0, kShortSqlChars) + "...";
}

Status OdbcSession::Fail(std::string_view what, SQLSMALLINT handle_type, SQLHANDLE handle) {
  Status s = DiagnosticsToStatus(what, ReadDiagnostics(handle_type, handle), redactor_);
  if (IsConnectionLostSqlState(s.sqlstate())) healthy_ = false;
  return s;
}

Result<OdbcHandle> OdbcSession::NewStatement(std::string_view what) {
  SQLHANDLE raw = SQL_NULL_HANDLE;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, dbc_.get(), &raw))) {
    return Fail(what, SQL_HANDLE_DBC, dbc_.get());
  }
  return OdbcHandle(SQL_HANDLE_STMT, raw);
}

Status OdbcSession::BindParams(SQLHSTMT stmt, const std::vector<Param>& params,
                               std::vector<SQLLEN>* lengths, std::string_view what) {
  lengths->assign(params.size(), 0);
  for (size_t i = 0; i < params.size(); ++i) {
    const auto n = static_cast<SQLUSMALLINT>(i + 1);
    SQLRETURN rc;
    if (const auto* s = std::get_if<std::string>(&params[i])) {
      (*lengths)[i] = static_cast<SQLLEN>(s->size());
      rc = SQLBindParameter(stmt, n, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_VARCHAR,
                            std::max<SQLULEN>(1, s->size()), 0, const_cast<char*>(s->data()),
                            static_cast<SQLLEN>(s->size()), &(*lengths)[i]);
    } else if (const auto* v = std::get_if<int64_t>(&params[i])) {
      rc = SQLBindParameter(stmt, n, SQL_PARAM_INPUT, SQL_C_SBIGINT, SQL_BIGINT, 0, 0,
                            const_cast<int64_t*>(v), 0, nullptr);
    } else {
      (*lengths)[i] = SQL_NULL_DATA;
      rc = SQLBindParameter(stmt, n, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_VARCHAR, 1, 0, nullptr, 0,
                            &(*lengths)[i]);
    }
    if (!SQL_SUCCEEDED(rc)) return Fail(what, SQL_HANDLE_STMT, stmt);
  }
  return Status::OK();
}

Status OdbcSession::Execute(const std::string& sql) { return ExecuteWithParams(sql, {}); }

Result<OdbcHandle> OdbcSession::Run(const std::string& sql, const std::vector<Param>& params,
                                    const std::string& what, bool no_data_ok) {
  WEIR_ASSIGN_OR_RETURN(OdbcHandle stmt, NewStatement(what));
  std::vector<SQLLEN> lengths;  // bound: lives until the execution below has returned
  WEIR_RETURN_NOT_OK(BindParams(stmt.get(), params, &lengths, what));
  std::vector<SQLCHAR> text(sql.begin(), sql.end());
  text.push_back(0);
  const SQLRETURN rc = SQLExecDirect(stmt.get(), text.data(), SQL_NTS);
  if (!SQL_SUCCEEDED(rc) && !(no_data_ok && rc == SQL_NO_DATA)) {
    return Fail(what, SQL_HANDLE_STMT, stmt.get());
  }
  return stmt;
}

Status OdbcSession::ExecuteWithParams(const std::string& sql, const std::vector<Param>& params) {
  const std::string what = "snowflake: running " + Shorten(sql);
  return Run(sql, params, what, /*no_data_ok=*/true).status();
}

Result<int64_t> OdbcSession::QueryInt(const std::string& sql, const std::vector<Param>& params) {
  const std::string what = "snowflake: running " + Shorten(sql);
  WEIR_ASSIGN_OR_RETURN(OdbcHandle stmt, Run(sql, params, what, /*no_data_ok=*/false));
  SQLRETURN rc = SQLFetch(stmt.get());
  if (rc == SQL_NO_DATA) return Status::Error(what + ": the query returned no row");
  if (!SQL_SUCCEEDED(rc)) return Fail(what, SQL_HANDLE_STMT, stmt.get());
  int64_t value = 0;
  SQLLEN indicator = 0;
  rc = SQLGetData(stmt.get(), 1, SQL_C_SBIGINT, &value, sizeof value, &indicator);
  if (!SQL_SUCCEEDED(rc)) return Fail(what, SQL_HANDLE_STMT, stmt.get());
  if (indicator == SQL_NULL_DATA) return Status::Error(what + ": the query returned NULL");
  return value;
}

Status OdbcSession::InsertRows(const std::string& sql, const StagedRows& rows, size_t begin,
                               size_t end) {
  const std::string what = "snowflake: running " + Shorten(sql);
  if (end <= begin) return Status::OK();
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    WEIR_ASSIGN_OR_RETURN(OdbcHandle stmt, NewStatement(what));
    std::vector<SQLCHAR> text(sql.begin(), sql.end());
    text.push_back(0);
    if (!SQL_SUCCEEDED(SQLPrepare(stmt.get(), text.data(), SQL_NTS))) {
      return Fail(what, SQL_HANDLE_STMT, stmt.get());
    }
    SQLSetStmtAttr(stmt.get(), SQL_ATTR_PARAM_BIND_TYPE,
                   reinterpret_cast<SQLPOINTER>(SQL_PARAM_BIND_BY_COLUMN), 0);
    it = prepared_.emplace(sql, std::move(stmt)).first;
  }
  SQLHSTMT stmt = it->second.get();
  const size_t n = end - begin;
  const size_t columns = rows.columns();
  buffers_.resize(columns);
  indicators_.resize(columns);
  // Column-wise binding: one fixed-width slot per row, as wide as the column's longest value
  // in this chunk (the loader keeps chunks small enough; see loader.cpp).
  for (size_t c = 0; c < columns; ++c) {
    size_t width = 1;
    for (size_t r = begin; r < end; ++r) {
      if (auto f = rows.field(r, c)) width = std::max(width, f->size());
    }
    std::vector<char>& buffer = buffers_[c];
    std::vector<SQLLEN>& indicator = indicators_[c];
    if (buffer.size() < n * width) buffer.resize(n * width);
    if (indicator.size() < n) indicator.resize(n);
    for (size_t r = begin; r < end; ++r) {
      const size_t slot = r - begin;
      if (auto f = rows.field(r, c)) {
        std::memcpy(buffer.data() + slot * width, f->data(), f->size());
        indicator[slot] = static_cast<SQLLEN>(f->size());
      } else {
        indicator[slot] = SQL_NULL_DATA;
      }
    }
    if (!SQL_SUCCEEDED(SQLBindParameter(stmt, static_cast<SQLUSMALLINT>(c + 1), SQL_PARAM_INPUT,
                                        SQL_C_CHAR, SQL_VARCHAR, width, 0, buffer.data(),
                                        static_cast<SQLLEN>(width), indicator.data()))) {
      return Fail(what, SQL_HANDLE_STMT, stmt);
    }
  }
  std::vector<SQLUSMALLINT> status(n, SQL_PARAM_UNUSED);
  SQLULEN processed = 0;
  SQLSetStmtAttr(stmt, SQL_ATTR_PARAMSET_SIZE, reinterpret_cast<SQLPOINTER>(n), 0);
  SQLSetStmtAttr(stmt, SQL_ATTR_PARAM_STATUS_PTR, status.data(), 0);
  SQLSetStmtAttr(stmt, SQL_ATTR_PARAMS_PROCESSED_PTR, &processed, 0);
  const SQLRETURN rc = SQLExecute(stmt);
  Status result = Status::OK();
  if (!SQL_SUCCEEDED(rc) && rc != SQL_NO_DATA) {
    size_t bad = n;
    for (size_t i = 0; i < n && i < processed; ++i) {
      if (status[i] == SQL_PARAM_ERROR) {
        bad = i;
        break;
      }
    }
    std::string where = what + " (" + std::to_string(n) + " rows";
    if (bad < n) {
      // Staged rows are deduplicated and in key order, so a row number would match nothing the
      // operator can look up: name the row by its key (column 0: insert_id or distinct_id).
      const std::string key(rows.field(begin + bad, 0).value_or("NULL"));
      where += ", failing at the row keyed " +
               weir::JsonQuote(key.size() > 64 ? key.substr(0, 64) + "..." : key);
    }
    where += ")";
    result = Fail(where, SQL_HANDLE_STMT, stmt);
    SQLFreeStmt(stmt, SQL_CLOSE);
  }
  // The status array and counter live on this stack frame: detach them before returning.
  SQLSetStmtAttr(stmt, SQL_ATTR_PARAM_STATUS_PTR, nullptr, 0);
  SQLSetStmtAttr(stmt, SQL_ATTR_PARAMS_PROCESSED_PTR, nullptr, 0);
  if (!result.ok()) prepared_.erase(it);
  return result;
}

Status OdbcSession::Commit() {
  if (!SQL_SUCCEEDED(SQLEndTran(SQL_HANDLE_DBC, dbc_.get(), SQL_COMMIT))) {
    return Fail("snowflake: COMMIT", SQL_HANDLE_DBC, dbc_.get());
  }
  return Status::OK();
}

Status OdbcSession::Rollback() {
  if (!SQL_SUCCEEDED(SQLEndTran(SQL_HANDLE_DBC, dbc_.get(), SQL_ROLLBACK))) {
    return Fail("snowflake: ROLLBACK", SQL_HANDLE_DBC, dbc_.get());
  }
  return Status::OK();
}

}  // namespace weir::snowflake
