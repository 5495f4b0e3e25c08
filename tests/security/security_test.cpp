// tests/security/security_test.cpp — secrets never reach what weir prints or stores, and what
// weir creates is its owner's only. Real `weir` binary, real s3 and snowflake plugins.
//
// Secrets are random per test process, given the way operators give them (${ENV} references
// resolved by the host) and, for `pipeline show`, also pasted literally into a pipeline file.
// The runs fail (the S3 endpoint and the warehouse are closed ports on 127.0.0.1), so the
// secrets travel through every error path: the plugin's error, the run's log, the state
// database's run history, `weir runs/logs/status/metrics` and serve's /status, /status.json and
// /metrics. None of them may hold a secret's bytes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "../serve/serve_test_util.hpp"
#include "file_modes.hpp"
#include "temp_dir.hpp"
#include "weir_process.hpp"

namespace {

namespace fs = std::filesystem;
using weir::test::ProcessGuard;
using weir::test::ProcessResult;
using weir::test::ReadWholeFile;
using weir::test::TempDir;
using weir::test::serve::HttpGet;
using weir::test::serve::StartServe;
using weir::test::serve::WaitUntil;
using weir::test::serve::WriteEvents;
using weir::test::serve::WriteText;
using weir::test::security::ExpectOwnerOnlyBelow;
using weir::test::security::Mode;

std::string RandomSecret(const std::string& tag) {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  return tag + "-" + std::to_string(rng()) + "x" + std::to_string(rng());
}

/// A TCP port on 127.0.0.1 nothing listens on (bound, then closed).
uint16_t ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return 1;  // port 1 on loopback: nothing of ours listens there either
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

class Security : public ::testing::Test {
 protected:
  void SetUp() override {
    s3_secret_ = RandomSecret("s3secret");
    pg_password_ = RandomSecret("pgpassword");
    literal_key_ = RandomSecret("literalkey");
    literal_pwd_ = RandomSecret("literalpwd");
    ::setenv("WEIR_SEC_TEST_S3_SECRET", s3_secret_.c_str(), 1);
    ::setenv("WEIR_SEC_TEST_PG_PASSWORD", pg_password_.c_str(), 1);
    WriteEvents(dir_.path() / "events.ndjson", "sec", 5);
  }

  std::vector<std::string> Secrets() const {
    return {s3_secret_, pg_password_, literal_key_, literal_pwd_};
  }

  /// Fails the test naming `where` if any secret occurs in `text`.
  void ExpectNoSecret(const std::string& text, const std::string& where) const {
    for (const auto& s : Secrets()) {
      EXPECT_EQ(text.find(s), std::string::npos) << "a secret leaked into " << where;
    }
  }

  std::string Source() const {
    return R"({"plugin":"file-source","config":{"path":")" +
           (dir_.path() / "events.ndjson").string() + R"("}})";
  }

  void WritePipeline(const std::string& name, const std::string& destination,
                     const std::string& schedule = R"({"every":"1h"})") const {
    WriteText(dir_.path() / "pipelines" / (name + ".json"),
              R"({"name":")" + name + R"(","project":"sec","stream":"events","source":)" +
                  Source() + R"(,"destination":)" + destination + R"(,"schedule":)" + schedule +
                  R"(,"retry":{"max_attempts":2,"initial_backoff_ms":10,"max_backoff_ms":10}})");
  }

  /// s3 to a closed port, the secret key from the environment.
  std::string S3Destination() const {
    return R"({"plugin":"s3","config":{"url":"s3://bucket/p","endpoint":"http://127.0.0.1:)" +
           std::to_string(closed_port_) +
           R"(","access_key_id":"AKIDSECURITYTEST","secret_access_key":"${WEIR_SEC_TEST_S3_SECRET}"}})";
  }

  /// snowflake (PostgreSQL dialect) to a closed port, the password from the environment.
  std::string WarehouseDestination() const {
    return R"({"plugin":"snowflake","config":{"dialect":"postgresql","schema":"public",)"
           R"("connection_string":"Driver=PostgreSQL Unicode;Server=127.0.0.1;Port=)" +
           std::to_string(closed_port_) +
           R"(;Database=weir","user":"weir","password":"${WEIR_SEC_TEST_PG_PASSWORD}",)"
           R"("login_timeout_s":2}})";
  }

  ProcessResult Weir(const std::vector<std::string>& rest) {
    return weir::test::WaitProcess(weir::test::StartProcess(
        weir::test::WeirCommand(WEIR_BINARY, dir_.path(), WEIR_PLUGINS_DIR, rest),
        dir_.path()));
  }

  /// Every regular file under `root`, read whole (state database, WAL, run logs).
  void ExpectNoSecretInFiles(const fs::path& root) const {
    int files = 0;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      ++files;
      ExpectNoSecret(ReadWholeFile(e.path()), e.path().string());
    }
    EXPECT_GT(files, 0) << "nothing under " << root;
  }

  TempDir dir_{"weir-security"};
  uint16_t closed_port_ = ClosedPort();
  std::string s3_secret_, pg_password_, literal_key_, literal_pwd_;
};

TEST_F(Security, FailedRunsKeepSecretsOutOfOutputLogsAndState) {
  WritePipeline("to-s3", S3Destination());
  WritePipeline("to-wh", WarehouseDestination());
  for (const char* name : {"to-s3", "to-wh"}) {
    ProcessResult r = Weir({"run", name});
    EXPECT_NE(r.code, 0) << name << " should fail against a closed port\n" << r.err;
    ExpectNoSecret(r.out + r.err, std::string("weir run ") + name);
  }
  // The error that was recorded is the plugin's real one, not an empty string.
  ProcessResult runs = Weir({"runs", "--json"});
  ASSERT_EQ(runs.code, 0) << runs.err;
  EXPECT_NE(runs.out.find("failed"), std::string::npos) << runs.out;
  ExpectNoSecret(runs.out + runs.err, "weir runs --json");
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"status"},
                                             {"status", "--json"},
                                             {"logs", "to-s3"},
                                             {"logs", "to-wh"},
                                             {"metrics", "to-s3", "--json"},
                                             {"pipeline", "show", "to-s3"},
                                             {"pipeline", "show", "to-wh"},
                                             {"pipeline", "validate", "--no-check"}}) {
    ProcessResult r = Weir(cmd);
    std::string what = "weir";
    for (const auto& a : cmd) what += " " + a;
    ExpectNoSecret(r.out + r.err, what);
  }
  ExpectNoSecretInFiles(dir_.path() / "data");
}

TEST_F(Security, PipelineShowBlanksLiteralSecretsAndShowsReferences) {
  WriteText(dir_.path() / "pipelines" / "pasted.json",
            R"({"name":"pasted","project":"sec","stream":"events","source":)" + Source() +
                R"(,"destination":{"plugin":"s3","config":{"url":"s3://bucket/p",)"
                R"("access_key_id":"AKIDSHOWN","secret_access_key":")" + literal_key_ +
                R"(","session_token":"${WEIR_SEC_TEST_S3_SECRET}"}}})");
  WriteText(dir_.path() / "pipelines" / "pasted-wh.json",
            R"({"name":"pasted-wh","project":"sec","stream":"events","source":)" + Source() +
                R"(,"destination":{"plugin":"snowflake","config":{"schema":"s",)"
                R"("connection_string":"Driver=D;UID=u;PWD=)" + literal_pwd_ + R"("}}})");
  ProcessResult s3 = Weir({"pipeline", "show", "pasted"});
  ASSERT_EQ(s3.code, 0) << s3.err;
  ExpectNoSecret(s3.out + s3.err, "weir pipeline show pasted");
  EXPECT_NE(s3.out.find(R"("secret_access_key":"***")"), std::string::npos) << s3.out;
  EXPECT_NE(s3.out.find(R"("session_token":"${WEIR_SEC_TEST_S3_SECRET}")"), std::string::npos)
      << s3.out;
  EXPECT_NE(s3.out.find("AKIDSHOWN"), std::string::npos) << s3.out;
  ProcessResult wh = Weir({"pipeline", "show", "pasted-wh"});
  ASSERT_EQ(wh.code, 0) << wh.err;
  ExpectNoSecret(wh.out + wh.err, "weir pipeline show pasted-wh");
  EXPECT_NE(wh.out.find("UID=u;PWD=***"), std::string::npos) << wh.out;
}

TEST_F(Security, ServeStatusPagesAndMetricsNeverShowASecret) {
  WritePipeline("to-s3", S3Destination(), R"({"every":"1s"})");
  WritePipeline("to-wh", WarehouseDestination(), R"({"every":"1s"})");
  auto d = StartServe(dir_.path(), {});
  ProcessGuard guard(d.process);
  ASSERT_GT(d.port, 0) << ReadWholeFile(d.process.err);
  // Wait until both pipelines have a failed run on record, so their errors are on the pages.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const auto page = HttpGet(d.port, "/status.json").body;
        return weir::test::CountOccurrences(page, "\"failed\"") >= 2;
      },
      std::chrono::seconds(60)))
      << HttpGet(d.port, "/status.json").body << ReadWholeFile(d.process.err);
  for (const char* path : {"/status", "/status.json", "/metrics", "/healthz"}) {
    auto r = HttpGet(d.port, path);
    EXPECT_EQ(r.status, 200) << path;
    ExpectNoSecret(r.body, std::string("GET ") + path);
  }
  guard.Release();
  weir::test::Signal(d.process, SIGTERM);
  if (!WaitUntil([&] { return weir::test::Exited(d.process); }, std::chrono::seconds(30))) {
    ADD_FAILURE() << "weir serve did not stop within 30 s of SIGTERM";
    weir::test::Signal(d.process, SIGKILL);
  }
  EXPECT_EQ(weir::test::WaitProcess(d.process).code, 0);
  ExpectNoSecret(ReadWholeFile(d.process.out) + ReadWholeFile(d.process.err), "serve's output");
  ExpectNoSecretInFiles(dir_.path() / "data");
}

TEST_F(Security, StateRunLogsAndFileExportsAreTheOwnersOnly) {
  // Whatever the caller's umask, what weir creates is not group/other readable.
  const mode_t old = ::umask(022);
  const fs::path out = dir_.path() / "export";
  WritePipeline("to-files",
                R"({"plugin":"s3","config":{"url":"file://)" + out.string() + R"("}})");
  ProcessResult r = Weir({"run", "to-files"});
  ::umask(old);
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path data = dir_.path() / "data";
  EXPECT_EQ(Mode(data), 0700u) << data;
  // The export wrote objects, and the state has its database and a run log.
  EXPECT_GT(ExpectOwnerOnlyBelow(out), 0);
  EXPECT_GE(ExpectOwnerOnlyBelow(data), 2);
}

}  // namespace
