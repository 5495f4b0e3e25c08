// tests/s3/moto/fault_proxy.hpp — a loopback HTTP reverse proxy that injects faults in front
// of an S3 server (moto): for the requests a plan picks it answers 503 SlowDown or 500
// InternalError (with S3 XML bodies), drops the connection mid-request, or cuts the response
// short; everything else is forwarded unchanged. Counts requests, faults and connections.
//
//   weir::s3test::FaultProxy proxy(moto.port(), [](const weir::s3test::ProxiedRequest& r) {
//     return r.number == 2 ? weir::s3test::Fault::kSlowDown : weir::s3test::Fault::kNone;
//   });
//   config.endpoint = proxy.endpoint();   // then: retries counted == proxy.faults()
#ifndef WEIR_TESTS_S3_MOTO_FAULT_PROXY_HPP
#define WEIR_TESTS_S3_MOTO_FAULT_PROXY_HPP

#include <atomic>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace weir::s3test {

enum class Fault {
  kNone,
  kSlowDown,       ///< 503 with <Code>SlowDown</Code> (after reading the whole request)
  kInternalError,  ///< 500 with <Code>InternalError</Code>
  kDrop,           ///< close the connection after the request headers, body unread
  kTruncate,       ///< forward, then send only half of the response body and close
};

struct ProxiedRequest {
  int number = 0;      ///< 1-based, in arrival order
  std::string method;  ///< "PUT"
  std::string target;  ///< "/bucket/key?partNumber=2&uploadId=..."
};

class FaultProxy {
 public:
  using Plan = std::function<Fault(const ProxiedRequest&)>;

  /// Listens on 127.0.0.1 (free port) and forwards to 127.0.0.1:upstream_port. With
  /// `keep_alive` the proxy keeps client connections open between requests (to observe
  /// connection reuse); without it every answer carries Connection: close, which also keeps
  /// libcurl from silently re-sending a request on a dropped reused connection.
  FaultProxy(int upstream_port, Plan plan, bool keep_alive = false);
  ~FaultProxy();  ///< stops listening and joins every connection thread
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  /// "http://127.0.0.1:<port>"
  std::string endpoint() const;
  int requests() const { return requests_.load(); }
  int faults() const { return faults_.load(); }
  int connections() const { return connections_.load(); }
  /// Every request seen, in arrival order.
  std::vector<ProxiedRequest> log() const;

 private:
  /// One connection's thread; `finished` is set as it returns, so the accept loop can join
  /// it. Joining as they finish keeps a long run (weir-torture --duration 30m: tens of
  /// thousands of connections) from running out of thread stacks.
  struct Worker {
    std::thread thread;
    std::atomic<bool> finished{false};
  };

  void AcceptLoop();
  void Serve(int fd);
  void JoinFinished();  ///< caller holds mu_

  int upstream_port_;
  Plan plan_;
  bool keep_alive_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> faults_{0};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<int> open_fds_;
  std::list<Worker> workers_;
  std::vector<ProxiedRequest> log_;
  std::thread acceptor_;
};

}  // namespace weir::s3test

#endif  // WEIR_TESTS_S3_MOTO_FAULT_PROXY_HPP
