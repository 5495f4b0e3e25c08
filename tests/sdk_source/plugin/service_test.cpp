// tests/sdk_source/plugin/service_test.cpp — the whole source side through the host: the
// collector runs as the sdk-source plugin's service under `weir service run` (ABI 1.1), an app
// posts events over real HTTP, SIGTERM stops it cleanly, and `weir run` exports exactly what
// was acknowledged.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "plugin_test_util.hpp"
#include "weir_process.hpp"

namespace weir::sdksource_test {
namespace {

namespace fs = std::filesystem;
using testkit_test::ReadFile;
using testkit_test::TempDir;
using testkit_test::WriteFile;

/// A free loopback port (bound, read back, released; the tiny race is acceptable in tests).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// Sends one HTTP/1.1 request over a fresh loopback connection; returns the raw response or ""
/// when nothing listens.
std::string Http(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  (void)!::write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::string PostNative(const std::string& token, const std::string& ndjson) {
  return "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
         "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " +
         std::to_string(ndjson.size()) + "\r\nConnection: close\r\n\r\n" + ndjson;
}

TEST(SdkSourcePluginEndToEndService, CollectorRunsAsAHostServiceAndItsDataExports) {
  TempDir tmp;
  const fs::path root = tmp.path();
  const int port = FreePort();
  // The token comes from the environment through a ${VAR} reference, like any secret.
  ::setenv("WEIR_TEST_COLLECTOR_TOKEN", "tok-service-test", 1);
  WriteFile(root / "collector.json",
            R"({"data_dir":")" + (root / "collector-data").string() + R"(","listen":"127.0.0.1:)" +
                std::to_string(port) +
                R"(","projects":{"demo":{"tokens":["${WEIR_TEST_COLLECTOR_TOKEN}"]}}})");
  weir::test::Process svc = weir::test::StartProcess(
      {WEIR_BINARY, "--plugins-dir", WEIR_PLUGINS_DIR, "service", "run", "sdk-source",
       "--config", "@" + (root / "collector.json").string()},
      root);
  ASSERT_GT(svc.pid, 0) << svc.start_error;
  weir::test::ProcessGuard stop_on_failure(svc);  // an ASSERT below must not leave it running
  std::string probe;
  for (int i = 0; i < 200 && probe.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    probe = Http(port, PostNative("wrong-token", "{}\n"));
  }
  ASSERT_NE(probe.find(" 401 "), std::string::npos) << probe << ReadFile(svc.err);

  std::string ndjson;
  for (int i = 0; i < 25; ++i) {
    ndjson += R"({"event":"e","time":1767225600000,"distinct_id":"u)" + std::to_string(i) +
              R"(","insert_id":"id-)" + std::to_string(i) + R"(","properties":{"i":)" +
              std::to_string(i) + "}}\n";
  }
  std::string ok = Http(port, PostNative("tok-service-test", ndjson));
  ASSERT_NE(ok.find(" 200 "), std::string::npos) << ok;
  ASSERT_TRUE(weir::test::Signal(svc, SIGTERM));
  const weir::test::ProcessResult stopped = weir::test::WaitProcess(svc);
  stop_on_failure.Release();
  EXPECT_EQ(stopped.code, 0) << stopped.err;
  const std::string& log = stopped.err;
  EXPECT_NE(log.find("service 'sdk-source' stopped"), std::string::npos) << log;
  EXPECT_EQ(log.find("tok-service-test"), std::string::npos) << "the token was logged";

  fs::create_directories(root / "pipelines");
  WriteFile(root / "pipelines/p.json",
            R"({"name":"p","project":"demo","source":{"plugin":"sdk-source","config":{"data_dir":")" +
                (root / "collector-data").string() +
                R"(","project":"demo"}},"destination":{"plugin":"file-destination","config":{"dir":")" +
                (root / "out").string() + R"("}}})");
  const weir::test::ProcessResult run = weir::test::WaitProcess(weir::test::StartProcess(
      weir::test::WeirCommand(WEIR_BINARY, root, WEIR_PLUGINS_DIR, {"run", "p"}), root));
  ASSERT_EQ(run.code, 0) << run.err;
  std::string exported;
  for (const auto& f : fs::directory_iterator(root / "out/events")) {
    if (f.path().extension() == ".ndjson") exported += ReadFile(f.path());
  }
  EXPECT_EQ(exported, ndjson);  // the collector kept canonical records byte for byte
}

}  // namespace
}  // namespace weir::sdksource_test
