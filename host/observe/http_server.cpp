// host/observe/http_server.cpp — HttpServer: Boost.Beast on one thread, one request per
// connection.
//
// Why one thread: the handlers (BuildSnapshot over SQLite) are short and not thread-safe
// with each other, and a status endpoint gains nothing from parallel handlers. Connections
// are still served concurrently (asynchronous I/O), so a slow or stuck client cannot block
// the others: each connection has a 10 s deadline and size limits for its request.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "observe/observe.hpp"

namespace weir::host {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::chrono::seconds kConnectionDeadline{10};

class Server;

/// One connection: read one request, answer, close. Touched only by the server thread.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server& server) : stream_(std::move(socket)), server_(server) {}

  void Start() {
    parser_.header_limit(kMaxRequestHeaderBytes);
    parser_.body_limit(kMaxRequestBodyBytes);
    stream_.expires_after(kConnectionDeadline);
    http::async_read(stream_, buffer_, parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  void OnRead(beast::error_code ec, size_t);
  void Reply(const HttpResponse& response, bool head);

  beast::tcp_stream stream_;
  Server& server_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
};

class Server final : public HttpServer {
 public:
  explicit Server(HttpHandler handler)
      : handler_(std::move(handler)), acceptor_(ioc_), retry_(ioc_) {}
  ~Server() override { Stop(); }

  Status Listen(const std::string& host, uint16_t port, const std::string& where) {
    beast::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) return Status::InvalidConfig(where + ": '" + host + "' is not an IP address");
    tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::Error("cannot listen on " + where + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { ioc_.run(); });
    return Status::OK();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (!thread_.joinable()) return;
    // Runs on the server thread between two handlers, so a request being handled is
    // finished first; closing everything leaves the io_context without work and run() returns.
    asio::post(ioc_, [this] {
      stopping_ = true;
      beast::error_code ec;
      acceptor_.close(ec);
      retry_.cancel();
      for (auto& weak : sessions_) {
        if (auto s = weak.lock()) s->Close();
      }
      sessions_.clear();
    });
    thread_.join();
  }

  HttpResponse Call(const std::string& method, const std::string& target) {
    try {
      return handler_(method, target);
    } catch (const std::exception& e) {
      return HttpResponse{500, "text/plain; charset=utf-8",
                          std::string("internal error: ") + e.what() + "\n"};
    } catch (...) {
      return HttpResponse{500, "text/plain; charset=utf-8", "internal error\n"};
    }
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (stopping_ || !acceptor_.is_open()) return;
      if (!ec) {
        auto session = std::make_shared<Session>(std::move(socket), *this);
        // Forget ended sessions now and then so the list stays as long as the live ones.
        if (sessions_.size() >= 64) {
          std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
        }
        sessions_.push_back(session);
        session->Start();
      }
      if (ec) {
        // E.g. out of file descriptors: try again a little later instead of spinning.
        retry_.expires_after(std::chrono::milliseconds(100));
        retry_.async_wait([this](beast::error_code wec) {
          if (!wec && !stopping_) Accept();
        });
        return;
      }
      Accept();
    });
  }

  HttpHandler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  std::thread thread_;
  std::mutex stop_mu_;
  uint16_t port_ = 0;
  bool stopping_ = false;                         // server thread only
  std::vector<std::weak_ptr<Session>> sessions_;  // server thread only
};

HttpResponse PlainError(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body)};
}

void Session::OnRead(beast::error_code ec, size_t) {
  if (ec == http::error::header_limit) {
    return Reply(PlainError(431, "request line and headers are larger than " +
                                     std::to_string(kMaxRequestHeaderBytes) + " bytes\n"),
                 false);
  }
  if (ec == http::error::body_limit) {
    return Reply(PlainError(413, "request body is larger than " +
                                     std::to_string(kMaxRequestBodyBytes) + " bytes\n"),
                 false);
  }
  if (ec == http::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::operation_aborted || ec == beast::error::timeout ||
      ec == asio::error::connection_reset || ec == http::error::partial_message) {
    return Close();
  }
  if (ec && ec.category() == http::make_error_code(http::error::bad_method).category()) {
    return Reply(PlainError(400, "malformed HTTP request: " + ec.message() + "\n"), false);
  }
  if (ec) return Close();
  const auto& req = parser_.get();
  const std::string method(req.method_string());
  const std::string target(req.target());
  Reply(server_.Call(method, target), method == "HEAD");
}

void Session::Reply(const HttpResponse& response, bool head) {
  const auto status = static_cast<http::status>(response.status);
  const auto done = [self = shared_from_this()](beast::error_code, size_t) { self->Close(); };
  stream_.expires_after(kConnectionDeadline);
  if (head) {
    // The headers a GET would get, without the body.
    auto res = std::make_shared<http::response<http::empty_body>>(status, 11);
    res->set(http::field::server, "weir");
    res->set(http::field::content_type, response.content_type);
    res->set(http::field::cache_control, "no-store");
    res->content_length(response.body.size());
    res->keep_alive(false);
    http::async_write(stream_, *res, [res, done](beast::error_code ec, size_t n) { done(ec, n); });
    return;
  }
  auto res = std::make_shared<http::response<http::string_body>>(status, 11);
  res->set(http::field::server, "weir");
  res->set(http::field::content_type, response.content_type);
  res->set(http::field::cache_control, "no-store");
  if (response.status == 405) res->set(http::field::allow, "GET, HEAD");
  res->body() = response.body;
  res->keep_alive(false);
  res->prepare_payload();
  http::async_write(stream_, *res, [res, done](beast::error_code ec, size_t n) { done(ec, n); });
}

}  // namespace

Result<std::pair<std::string, uint16_t>> ParseListenAddress(const std::string& address) {
  const std::string what = "HTTP address '" + address + "'";
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) {
    return Status::InvalidConfig(what + ": expected HOST:PORT, e.g. 127.0.0.1:9464");
  }
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  unsigned port = 0;
  auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (err != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status::InvalidConfig(what + ": port '" + port_text +
                                 "' is not a number from 0 to 65535");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return Status::InvalidConfig(what + ": write an IPv6 address in brackets, e.g. [::1]:9464");
  }
  if (host == "localhost") host = "127.0.0.1";
  if (host.empty()) {
    return Status::InvalidConfig(what +
                                 ": the host is missing; use 127.0.0.1 (this machine "
                                 "only) or 0.0.0.0 (every interface)");
  }
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) {
    return Status::InvalidConfig(what +
                                 ": the host must be a numeric IP address or "
                                 "'localhost', not '" +
                                 host + "'");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address,
                                                      HttpHandler handler) {
  WEIR_ASSIGN_OR_RETURN(auto hp, ParseListenAddress(address));
  auto server = std::make_unique<Server>(std::move(handler));
  WEIR_RETURN_NOT_OK(server->Listen(hp.first, hp.second, address));
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace weir::host
