// plugins/sdk-source/collector/http_server.hpp — the collector's HTTP/1.1 server (Boost.Beast on
// Asio): accepts on one address, reads requests with a body limit enforced while parsing,
// answers `Expect: 100-continue`, runs each request's handler on a worker pool (so handlers may
// block on a durable store append without stalling the I/O threads), keeps connections alive,
// and stops gracefully.
//
//   HttpServer::Handlers h{.handle = ..., .body_too_large = ...};
//   auto server = HttpServer::Start({.address = "127.0.0.1", .port = 0}, h, log);
//   uint16_t port = (*server)->port();
//   (*server)->Stop();   // no new connections; in-flight requests are answered first
#ifndef WEIR_SDK_SOURCE_COLLECTOR_HTTP_SERVER_HPP
#define WEIR_SDK_SOURCE_COLLECTOR_HTTP_SERVER_HPP

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "collector/log.hpp"
#include "collector/request.hpp"
#include "weir/plugin.hpp"

namespace weir::sdksource {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  ///< 0: the OS picks a free port (see HttpServer::port())
  int io_threads = 2;
  int workers = 16;  ///< threads running handlers (they may block on fsync)
  uint64_t max_body_bytes = 10ull << 20;
  uint64_t max_header_bytes = 1ull << 20;
  /// A connection idle (or sending this slowly) for this long is closed.
  std::chrono::seconds idle_timeout{60};
};

class HttpServer {
 public:
  struct Handlers {
    /// Answers a complete request. Runs on a worker thread; may block. Exceptions become 500.
    std::function<HttpResponse(const HttpRequestView&)> handle;
    /// Answers a request whose body passed max_body_bytes (headers only, empty body); the
    /// connection is closed after the answer.
    std::function<HttpResponse(const HttpRequestView&)> body_too_large;
  };

  /// Binds, listens and starts the I/O threads. Fails with a clear message if the address is
  /// invalid or taken.
  static Result<std::unique_ptr<HttpServer>> Start(const ServerOptions& options, Handlers handlers,
                                                   LogFn log);
  /// Stops (see Stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The bound port.
  uint16_t port() const;

  /// Stops accepting, closes idle connections, lets requests already handed to a handler
  /// finish and be answered (with Connection: close), then returns once every thread ended.
  /// Idempotent; must not be called from a handler.
  void Stop();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_COLLECTOR_HTTP_SERVER_HPP
