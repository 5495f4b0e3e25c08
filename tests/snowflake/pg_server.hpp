// tests/snowflake/pg_server.hpp — a throwaway PostgreSQL 15 for the snowflake tests, reached
// through unixODBC + psqlODBC exactly as the plugin reaches Snowflake.
//
// PgServer::Shared() starts one server per test process on first use: initdb into a mkdtemp
// directory (owned by the `postgres` system user when the tests run as root, since initdb
// refuses root), then `postgres` listening only on 127.0.0.1 at a free port, its unix socket in
// the temp directory, password (SCRAM) authentication for TCP. The server is spawned with a
// parent-death signal, so it dies with the test process even on a crash, and is stopped and its
// directory removed at exit. The Snowflake compatibility schema (CompatSql()) is created in
// `public`: it exists only here, never in the plugin.
//
// When postgres, initdb or the psqlODBC driver is missing, Shared() returns nullptr and
// UnavailableReason() says why; SNOWFLAKE_REQUIRE_PG() turns that into a failure under CI=true
// and a skip otherwise.
//
//   SNOWFLAKE_REQUIRE_PG();
//   PgServer& pg = *PgServer::Shared();
//   pg.Exec("CREATE SCHEMA \"LOAD_TEST\"");
//   auto rows = pg.Query("SELECT \"INSERT_ID\" FROM \"LOAD_TEST\".\"EVENTS\"");
#ifndef WEIR_TESTS_SNOWFLAKE_PG_SERVER_HPP
#define WEIR_TESTS_SNOWFLAKE_PG_SERVER_HPP

#include <sys/types.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace weir::snowflake::testing {

using Row = std::vector<std::optional<std::string>>;

class PgServer {
 public:
  /// The process's server, started on first call; nullptr when it cannot run here.
  static PgServer* Shared();
  /// Why Shared() returned nullptr.
  static const std::string& UnavailableReason();

  ~PgServer();

  int port() const { return port_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }
  const std::string& dir() const { return dir_; }
  /// The psqlODBC driver: a path to psqlodbcw.so or "{PostgreSQL Unicode}".
  const std::string& driver() const { return driver_; }

  /// Driver, server, port and the options the tests always pass (CommLog=0: Debian's
  /// odbcinst.ini turns the driver's communication log on; Protocol=7.4-1: no SAVEPOINT around
  /// every statement; BatchSize: rows per round trip of a parameter array). No credentials.
  std::string OdbcBase() const;
  /// The plugin's config (JSON) for `schema` in the postgresql dialect, password included
  /// literally unless `password_json` overrides the JSON value (e.g. "\"${ENV_NAME}\"").
  std::string PluginConfig(const std::string& schema, const std::string& extra = "",
                           const std::string& password_json = "") const;

  /// Runs one statement (autocommit) and fails the current test on error.
  void Exec(const std::string& sql) const;
  /// Runs a query; every value as text, NULL as nullopt. Fails the current test on error.
  std::vector<Row> Query(const std::string& sql) const;
  /// Drops (if present) and creates a schema.
  void ResetSchema(const std::string& schema) const;

  /// The compatibility schema: VARIANT and TIMESTAMP_NTZ domains, NUMBER, PARSE_JSON().
  static const char* CompatSql();

 private:
  PgServer() = default;
  bool Start(std::string* reason);
  void Stop();

  std::string dir_;
  std::string driver_;
  std::string user_ = "weir";
  std::string password_;
  int port_ = 0;
  pid_t pid_ = -1;
  pid_t owner_ = -1;
};

/// True under CI=true, where a missing service is a failure rather than a skip.
inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

/// A free TCP port on 127.0.0.1 (bound to port 0, then released).
int FreePort();

}  // namespace weir::snowflake::testing

/// Fails (CI=true) or skips the current test when PostgreSQL cannot run here.
#define SNOWFLAKE_REQUIRE_PG()                                                     \
  do {                                                                             \
    if (::weir::snowflake::testing::PgServer::Shared() == nullptr) {               \
      if (::weir::snowflake::testing::InCi()) {                                    \
        FAIL() << ::weir::snowflake::testing::PgServer::UnavailableReason();       \
      } else {                                                                     \
        GTEST_SKIP() << ::weir::snowflake::testing::PgServer::UnavailableReason(); \
      }                                                                            \
    }                                                                              \
  } while (0)

#endif  // WEIR_TESTS_SNOWFLAKE_PG_SERVER_HPP
