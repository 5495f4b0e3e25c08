// tests/observe/http_server_test.cpp — HttpServer over real sockets on 127.0.0.1: routing of
// status codes, HEAD, size limits, malformed requests, concurrent and stalled clients, Stop.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "observe/observe.hpp"
#include "observe_test_util.hpp"

namespace weir::host {
namespace {

using observe_test::HttpGet;
using observe_test::HttpRequest;

/// Routes like `weir serve` does: known paths, GET/HEAD only.
HttpResponse Route(const std::string& method, const std::string& target) {
  const std::string path = target.substr(0, target.find('?'));
  if (path == "/boom") throw std::runtime_error("handler exploded");
  if (path != "/healthz" && path != "/echo") return {404, "text/plain", "not found: " + path};
  if (method != "GET" && method != "HEAD") return {405, "text/plain", "method not allowed\n"};
  if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
  return {200, "text/plain", method + " " + target};
}

std::unique_ptr<HttpServer> MustStart(HttpHandler h = Route) {
  auto s = HttpServer::Start("127.0.0.1:0", std::move(h));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

bool CanConnect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

TEST(HttpServer, ServesHandlerAnswersAndClosesTheConnection) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  ASSERT_NE(server->port(), 0);
  auto r = HttpGet(server->port(), "/healthz");
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_NE(r.headers.find("Content-Type: text/plain; charset=utf-8"), std::string::npos);
  EXPECT_NE(r.headers.find("Connection: close"), std::string::npos);
  r = HttpGet(server->port(), "/echo?x=1");
  EXPECT_EQ(r.body, "GET /echo?x=1");
}

TEST(HttpServer, NotFoundAndMethodNotAllowed) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  auto r = HttpGet(server->port(), "/nope");
  EXPECT_EQ(r.status, 404) << r.raw;
  EXPECT_EQ(r.body, "not found: /nope");
  r = HttpRequest(server->port(),
                  "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(r.status, 405) << r.raw;
  EXPECT_NE(r.headers.find("Allow: GET, HEAD"), std::string::npos) << r.headers;
}

TEST(HttpServer, HeadHasLengthButNoBody) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  auto r = HttpGet(server->port(), "/echo", "HEAD");
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_NE(r.headers.find("Content-Length: 10"), std::string::npos) << r.headers;  // "HEAD /echo"
  EXPECT_EQ(r.body, "");
}

TEST(HttpServer, RefusesOversizedAndMalformedRequests) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  auto r =
      HttpRequest(server->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                      std::string(kMaxRequestHeaderBytes + 10, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.status, 431) << r.raw.substr(0, 200);
  r = HttpRequest(server->port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                      std::to_string(kMaxRequestBodyBytes + 1) + "\r\n\r\n");
  EXPECT_EQ(r.status, 413) << r.raw;
  r = HttpRequest(server->port(), "this is not http\r\n\r\n");
  EXPECT_EQ(r.status, 400) << r.raw;
  // The server is still fine afterwards.
  EXPECT_EQ(HttpGet(server->port(), "/healthz").status, 200);
}

TEST(HttpServer, HandlerExceptionIs500) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  auto r = HttpGet(server->port(), "/boom");
  EXPECT_EQ(r.status, 500) << r.raw;
  EXPECT_NE(r.body.find("handler exploded"), std::string::npos);
}

TEST(HttpServer, ConcurrentClientsAndAStalledOneAllGetAnswers) {
  std::atomic<int> calls{0};
  auto server = MustStart([&calls](const std::string& m, const std::string& t) {
    ++calls;
    return Route(m, t);
  });
  ASSERT_NE(server, nullptr);
  // A client that connects and sends nothing must not block the others.
  int stalled = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(stalled, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::send(stalled, "GET /echo HT", 12, MSG_NOSIGNAL), 12);  // half a request line

  constexpr int kThreads = 8;
  constexpr int kEach = 15;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string target = "/echo?t=" + std::to_string(t) + "&i=" + std::to_string(i);
        auto r = HttpGet(server->port(), target);
        if (r.status == 200 && r.body == "GET " + target) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), kThreads * kEach);
  EXPECT_EQ(calls.load(), kThreads * kEach);
  ::close(stalled);
}

TEST(HttpServer, StopClosesTheListenerAndIsIdempotent) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  // An open idle connection does not keep Stop() waiting.
  int idle = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(idle, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(HttpGet(port, "/healthz").status, 200);
  server->Stop();
  EXPECT_FALSE(CanConnect(port));
  char c;
  EXPECT_LE(::recv(idle, &c, 1, 0), 0);  // the server closed it
  ::close(idle);
  server->Stop();
  server.reset();  // the destructor after Stop is fine too
}

TEST(HttpServer, BadAddressesAreRefusedClearly) {
  auto r = HttpServer::Start("example.com:80", Route);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), WEIR_INVALID_CONFIG);
  EXPECT_NE(r.status().message().find("numeric IP address or 'localhost'"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("example.com:80"), std::string::npos);
  for (const char* bad :
       {"127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:80x", ":8080", "::1:8080"}) {
    auto p = ParseListenAddress(bad);
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), WEIR_INVALID_CONFIG) << bad;
    }
  }
  auto ok = ParseListenAddress("localhost:9464");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->first, "127.0.0.1");
  EXPECT_EQ(ok->second, 9464);
  auto v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
}

TEST(HttpServer, LocalhostBindsAndAPortInUseIsAnError) {
  auto a = HttpServer::Start("localhost:0", Route);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const std::string taken = "127.0.0.1:" + std::to_string((*a)->port());
  auto b = HttpServer::Start(taken, Route);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("cannot listen on " + taken), std::string::npos)
      << b.status().message();
}

}  // namespace
}  // namespace weir::host
