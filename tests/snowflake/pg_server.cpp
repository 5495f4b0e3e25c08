// tests/snowflake/pg_server.cpp — the per-process PostgreSQL of the snowflake tests (see
// pg_server.hpp).
#include "pg_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sql.h>
#include <sqlext.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "weir/json.hpp"
#include "weir_process.hpp"

namespace fs = std::filesystem;

namespace weir::snowflake::testing {
namespace {

std::string& Reason() {
  static std::string reason;
  return reason;
}

/// The newest /usr/lib/postgresql/<major>/bin with initdb and postgres, major >= 15 (MERGE).
std::string FindPgBin(std::string* reason) {
  int best = 0;
  std::string dir;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const int major = std::atoi(entry.path().filename().c_str());
    const fs::path bin = entry.path() / "bin";
    if (major > best && fs::exists(bin / "initdb") && fs::exists(bin / "postgres")) {
      best = major;
      dir = bin.string();
    }
  }
  if (dir.empty()) {
    *reason =
        "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install "
        "postgresql)";
  } else if (best < 15) {
    *reason = "PostgreSQL " + std::to_string(best) + " found, 15 or later needed (MERGE)";
    dir.clear();
  }
  return dir;
}

/// psqlODBC: the Unicode driver's .so, or its odbcinst.ini name.
std::string FindDriver(std::string* reason) {
  for (const char* path : {"/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so",
                           "/usr/lib/aarch64-linux-gnu/odbc/psqlodbcw.so",
                           "/usr/lib/odbc/psqlodbcw.so", "/usr/lib64/psqlodbcw.so"}) {
    if (fs::exists(path)) return path;
  }
  std::ifstream ini("/etc/odbcinst.ini");
  std::string line;
  while (std::getline(ini, line)) {
    if (line.rfind("[PostgreSQL Unicode]", 0) == 0) return "{PostgreSQL Unicode}";
  }
  *reason = "the psqlODBC driver (psqlodbcw.so) is not installed (apt-get install odbc-postgresql)";
  return "";
}

std::string RandomHex(size_t n) {
  std::random_device rd;
  std::string out;
  const char* digits = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) out.push_back(digits[rd() % 16]);
  return out;
}

struct Identity {
  bool drop = false;  // running as root: become `postgres` before exec
  uid_t uid = 0;
  gid_t gid = 0;
};

/// fork + exec of argv with stdout/stderr to `log`; in the child, drop to `who` when asked and
/// arm a parent-death SIGKILL (after the uid change, which would clear it).
pid_t Spawn(const std::vector<std::string>& args, const std::string& log, const Identity& who) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
  }
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, 0);
  if (who.drop) {
    if (setgroups(0, nullptr) != 0 || setgid(who.gid) != 0 || setuid(who.uid) != 0) _exit(126);
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(125);
  execv(argv[0], argv.data());
  _exit(127);
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// One ODBC connection for the test's own statements (autocommit on).
class TestConnection {
 public:
  explicit TestConnection(const std::string& cs) {
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env_);
    SQLSetEnvAttr(env_, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env_, &dbc_);
    std::vector<SQLCHAR> text(cs.begin(), cs.end());
    text.push_back(0);
    const SQLRETURN rc = SQLDriverConnect(dbc_, nullptr, text.data(), SQL_NTS, nullptr, 0, nullptr,
                                          SQL_DRIVER_NOPROMPT);
    if (!SQL_SUCCEEDED(rc)) error_ = "connect: " + Diag(SQL_HANDLE_DBC, dbc_);
  }
  ~TestConnection() {
    if (stmt_ != SQL_NULL_HANDLE) SQLFreeHandle(SQL_HANDLE_STMT, stmt_);
    SQLDisconnect(dbc_);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc_);
    SQLFreeHandle(SQL_HANDLE_ENV, env_);
  }
  TestConnection(const TestConnection&) = delete;
  TestConnection& operator=(const TestConnection&) = delete;

  const std::string& error() const { return error_; }

  bool Run(const std::string& sql, std::vector<Row>* rows) {
    if (!error_.empty()) return false;
    SQLAllocHandle(SQL_HANDLE_STMT, dbc_, &stmt_);
    std::vector<SQLCHAR> text(sql.begin(), sql.end());
    text.push_back(0);
    SQLRETURN rc = SQLExecDirect(stmt_, text.data(), SQL_NTS);
    if (!SQL_SUCCEEDED(rc) && rc != SQL_NO_DATA) {
      error_ = Diag(SQL_HANDLE_STMT, stmt_);
      return false;
    }
    if (rows == nullptr) return true;
    SQLSMALLINT columns = 0;
    SQLNumResultCols(stmt_, &columns);
    while (SQL_SUCCEEDED(SQLFetch(stmt_))) {
      Row row;
      for (SQLUSMALLINT c = 1; c <= columns; ++c) {
        std::string value;
        bool null = false;
        char buf[4096];
        for (;;) {
          SQLLEN ind = 0;
          rc = SQLGetData(stmt_, c, SQL_C_CHAR, buf, sizeof buf, &ind);
          if (rc == SQL_NO_DATA) break;
          if (!SQL_SUCCEEDED(rc)) {
            error_ = Diag(SQL_HANDLE_STMT, stmt_);
            return false;
          }
          if (ind == SQL_NULL_DATA) {
            null = true;
            break;
          }
          const size_t got = (ind == SQL_NO_TOTAL || ind >= static_cast<SQLLEN>(sizeof buf))
                                 ? sizeof buf - 1
                                 : static_cast<size_t>(ind);
          value.append(buf, got);
          if (rc == SQL_SUCCESS) break;
        }
        row.push_back(null ? std::nullopt : std::optional<std::string>(value));
      }
      rows->push_back(std::move(row));
    }
    return true;
  }

 private:
  static std::string Diag(SQLSMALLINT type, SQLHANDLE h) {
    SQLCHAR state[6] = {0}, msg[2048] = {0};
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    SQLGetDiagRec(type, h, 1, state, &native, msg, sizeof msg, &len);
    return std::string(reinterpret_cast<char*>(state)) + " " + reinterpret_cast<char*>(msg);
  }

  SQLHENV env_ = SQL_NULL_HANDLE;
  SQLHDBC dbc_ = SQL_NULL_HANDLE;
  SQLHSTMT stmt_ = SQL_NULL_HANDLE;
  std::string error_;
};

}  // namespace

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

const char* PgServer::CompatSql() {
  return "CREATE DOMAIN variant AS jsonb;"
         "CREATE DOMAIN timestamp_ntz AS timestamp(3);"
         "CREATE DOMAIN number AS numeric;"
         "CREATE FUNCTION parse_json(text) RETURNS variant LANGUAGE sql IMMUTABLE STRICT "
         "AS 'SELECT $1::jsonb';";
}

PgServer* PgServer::Shared() {
  static std::unique_ptr<PgServer> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    auto s = std::unique_ptr<PgServer>(new PgServer());
    std::string reason;
    if (s->Start(&reason)) {
      server = std::move(s);
    } else {
      Reason() = "PostgreSQL for the snowflake tests is unavailable: " + reason;
    }
  }
  return server.get();
}

const std::string& PgServer::UnavailableReason() { return Reason(); }

bool PgServer::Start(std::string* reason) {
  owner_ = getpid();
  const std::string bin = FindPgBin(reason);
  if (bin.empty()) return false;
  driver_ = FindDriver(reason);
  if (driver_.empty()) return false;
  Identity who;
  if (geteuid() == 0) {
    // initdb refuses to run as root: the cluster belongs to the `postgres` system user.
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      *reason = "running as root and there is no 'postgres' user to own the cluster";
      return false;
    }
    who = {true, pw->pw_uid, pw->pw_gid};
  }
  char tmpl[] = "/tmp/weir-snowflake-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    *reason = "mkdtemp failed";
    return false;
  }
  dir_ = tmpl;
  password_ = "pw-" + RandomHex(20);
  const std::string pwfile = dir_ + "/pwfile";
  std::ofstream(pwfile) << password_ << "\n";
  if (who.drop && (chown(dir_.c_str(), who.uid, who.gid) != 0 ||
                   chown(pwfile.c_str(), who.uid, who.gid) != 0)) {
    *reason = "cannot chown " + dir_ + " to postgres";
    return false;
  }
  const std::string log = dir_ + "/server.log";
  {
    // Created by us so both the root test and the postgres-owned server can append to it.
    std::ofstream(log).flush();
    if (who.drop && chown(log.c_str(), who.uid, who.gid) != 0) {
      *reason = "cannot chown " + log;
      return false;
    }
  }
  const int initdb = WaitExit(
      Spawn({bin + "/initdb", "-D", dir_ + "/data", "-U", user_, "--pwfile=" + pwfile,
             "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C", "-N"},
            log, who));
  if (initdb != 0) {
    *reason =
        "initdb exited with " + std::to_string(initdb) + ": " + weir::test::ReadWholeFile(log);
    return false;
  }
  for (int attempt = 0; attempt < 3 && pid_ < 0; ++attempt) {
    port_ = FreePort();
    // fsync off: these clusters are thrown away; durability of PostgreSQL itself is not
    // what the tests are about.
    const pid_t pid =
        Spawn({bin + "/postgres", "-D", dir_ + "/data", "-c", "listen_addresses=127.0.0.1", "-p",
               std::to_string(port_), "-k", dir_, "-c", "fsync=off", "-c", "full_page_writes=off",
               "-c", "max_connections=40", "-c", "shared_buffers=32MB"},
              log, who);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool ready = false;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) break;  // died (port taken?): try again
      std::istringstream pidfile(weir::test::ReadWholeFile(dir_ + "/data/postmaster.pid"));
      std::string line;
      for (int i = 0; i < 8 && std::getline(pidfile, line); ++i) {
      }
      if (line.rfind("ready", 0) == 0) {
        ready = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (ready) {
      pid_ = pid;
    } else {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  if (pid_ < 0) {
    *reason = "postgres did not become ready: " + weir::test::ReadWholeFile(log);
    return false;
  }
  TestConnection conn(OdbcBase() + ";UID=" + user_ + ";PWD=" + password_);
  if (!conn.Run(CompatSql(), nullptr)) {
    *reason = "cannot create the compatibility schema through psqlODBC: " + conn.error();
    return false;
  }
  return true;
}

void PgServer::Stop() {
  if (getpid() != owner_) return;  // a forked child (the conformance kit) owns nothing
  if (pid_ > 0) {
    kill(pid_, SIGINT);  // fast shutdown
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

PgServer::~PgServer() { Stop(); }

std::string PgServer::OdbcBase() const {
  return "Driver=" + driver_ + ";Server=127.0.0.1;Port=" + std::to_string(port_) +
         ";Database=postgres;CommLog=0;Debug=0;Protocol=7.4-1;BatchSize=1000";
}

std::string PgServer::PluginConfig(const std::string& schema, const std::string& extra,
                                   const std::string& password_json) const {
  return R"({"connection_string": )" + weir::JsonQuote(OdbcBase()) + R"(, "user": )" +
         weir::JsonQuote(user_) + R"(, "password": )" +
         (password_json.empty() ? weir::JsonQuote(password_) : password_json) + R"(, "schema": )" +
         weir::JsonQuote(schema) + R"(, "dialect": "postgresql")" + extra + "}";
}

void PgServer::Exec(const std::string& sql) const {
  TestConnection conn(OdbcBase() + ";UID=" + user_ + ";PWD=" + password_);
  ASSERT_TRUE(conn.Run(sql, nullptr)) << sql << "\n" << conn.error();
}

std::vector<Row> PgServer::Query(const std::string& sql) const {
  TestConnection conn(OdbcBase() + ";UID=" + user_ + ";PWD=" + password_);
  std::vector<Row> rows;
  EXPECT_TRUE(conn.Run(sql, &rows)) << sql << "\n" << conn.error();
  return rows;
}

void PgServer::ResetSchema(const std::string& schema) const {
  Exec("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE; CREATE SCHEMA \"" + schema + "\"");
}

}  // namespace weir::snowflake::testing
