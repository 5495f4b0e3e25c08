// plugins/snowflake/session.hpp — the seam between the loader and the database.
//
// The loader (loader.hpp) speaks to a Session: run a statement, run it with a few bound
// parameters, read one integer, insert staged rows with array binding, commit or roll back.
// OdbcSession (odbc.hpp) is the real one; the tests use a recording session to pin the exact
// statement sequence a load would send to Snowflake, including the `stage` path that
// PostgreSQL cannot run.
//
// Transactions: a Session runs with autocommit off; everything between two Commit()/Rollback()
// calls is one transaction (Snowflake DDL commits implicitly, which is why the loader issues
// its DDL before a batch's transaction starts).
#ifndef WEIR_PLUGINS_SNOWFLAKE_SESSION_HPP
#define WEIR_PLUGINS_SNOWFLAKE_SESSION_HPP

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "snowflake/rows.hpp"
#include "weir/plugin.hpp"

namespace weir::snowflake {

/// One bound input parameter: SQL NULL, a VARCHAR or a BIGINT.
using Param = std::variant<std::monostate, std::string, int64_t>;

/// A database session. Not thread-safe (one instance's calls are serialized by the host).
class Session {
 public:
  virtual ~Session() = default;

  /// Runs `sql` (no parameters, results discarded).
  virtual Status Execute(const std::string& sql) = 0;
  /// Runs `sql` once with `params` bound to its `?` markers in order.
  virtual Status ExecuteWithParams(const std::string& sql, const std::vector<Param>& params) = 0;
  /// Runs a query and returns the first column of its first row as an integer.
  virtual Result<int64_t> QueryInt(const std::string& sql, const std::vector<Param>& params) = 0;
  /// Runs the one-row INSERT `sql` for rows [begin, end) of `rows` in one execution, binding
  /// each column as an array of VARCHAR parameters (SQL_ATTR_PARAMSET_SIZE = end - begin).
  virtual Status InsertRows(const std::string& sql, const StagedRows& rows, size_t begin,
                            size_t end) = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;
  /// False once the connection is known to be lost (an 08xxx error); the owner reconnects.
  virtual bool healthy() const = 0;
};

}  // namespace weir::snowflake

#endif  // WEIR_PLUGINS_SNOWFLAKE_SESSION_HPP
