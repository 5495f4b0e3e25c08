// tests/sdk_source/plugin/service_test.cpp — the whole source side through the host: the
// collector runs as the sdk-source plugin's service under `weir service run` (ABI 1.1), an app
// posts events over real HTTP, SIGTERM stops it cleanly, and `weir run` exports exactly what
// was acknowledged.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "plugin_test_util.hpp"

extern char** environ;

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

int Wait(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

pid_t Spawn(std::vector<std::string> args, const fs::path& out, const fs::path& err) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

TEST(SdkSourcePluginEndToEndService, CollectorRunsAsAHostServiceAndItsDataExports) {
  TempDir tmp;
  const fs::path root = tmp.path();
  const int port = FreePort();
  // The token comes from the environment through a ${VAR} reference, like any secret.
  ::setenv("WEIR_TEST_COLLECTOR_TOKEN", "tok-service-test", 1);
  WriteFile(root / "collector.json",
            R"({"data_dir":")" + (root / "data").string() + R"(","listen":"127.0.0.1:)" +
                std::to_string(port) +
                R"(","projects":{"demo":{"tokens":["${WEIR_TEST_COLLECTOR_TOKEN}"]}}})");
  pid_t svc = Spawn({WEIR_BINARY, "--plugins-dir", WEIR_PLUGINS_DIR, "service", "run",
                     "sdk-source", "--config", "@" + (root / "collector.json").string()},
                    root / "svc.out", root / "svc.err");
  std::string probe;
  for (int i = 0; i < 200 && probe.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    probe = Http(port, PostNative("wrong-token", "{}\n"));
  }
  ASSERT_NE(probe.find(" 401 "), std::string::npos) << probe << ReadFile(root / "svc.err");

  std::string ndjson;
  for (int i = 0; i < 25; ++i) {
    ndjson += R"({"event":"e","time":1767225600000,"distinct_id":"u)" + std::to_string(i) +
              R"(","insert_id":"id-)" + std::to_string(i) + R"(","properties":{"i":)" +
              std::to_string(i) + "}}\n";
  }
  std::string ok = Http(port, PostNative("tok-service-test", ndjson));
  ASSERT_NE(ok.find(" 200 "), std::string::npos) << ok;
  ::kill(svc, SIGTERM);
  EXPECT_EQ(Wait(svc), 0) << ReadFile(root / "svc.err");
  const std::string log = ReadFile(root / "svc.err");
  EXPECT_NE(log.find("service 'sdk-source' stopped"), std::string::npos) << log;
  EXPECT_EQ(log.find("tok-service-test"), std::string::npos) << "the token was logged";

  fs::create_directories(root / "pipelines");
  WriteFile(root / "pipelines/p.json",
            R"({"name":"p","project":"demo","source":{"plugin":"sdk-source","config":{"data_dir":")" +
                (root / "data").string() +
                R"(","project":"demo"}},"destination":{"plugin":"file-destination","config":{"dir":")" +
                (root / "out").string() + R"("}}})");
  pid_t run = Spawn({WEIR_BINARY, "--data-dir", (root / "state").string(), "--plugins-dir",
                     WEIR_PLUGINS_DIR, "--pipelines-dir", (root / "pipelines").string(),
                     "run", "p"},
                    root / "run.out", root / "run.err");
  ASSERT_EQ(Wait(run), 0) << ReadFile(root / "run.err");
  std::string exported;
  for (const auto& f : fs::directory_iterator(root / "out/events")) {
    if (f.path().extension() == ".ndjson") exported += ReadFile(f.path());
  }
  EXPECT_EQ(exported, ndjson);  // the collector kept canonical records byte for byte
}

}  // namespace
}  // namespace weir::sdksource_test
