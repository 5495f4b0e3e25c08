// plugins/sdk-source/collector/http_server.cpp — Beast/Asio sessions, worker hand-off, stop.
//
// Threads: `io_threads` run the io_context (accept, read, write; every session on its own
// strand); `workers` run handlers. A session hands a complete request to the worker pool
// holding a work guard on the io_context, so the I/O threads cannot run out of work (and
// return) while a handler still has an answer to deliver.
#include "collector/http_server.hpp"

#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "collector/handler.hpp"

namespace weir::sdksource {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string_view View(beast::string_view s) { return std::string_view(s.data(), s.size()); }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// How much of a refused body we read and discard after answering 413, so the client gets
/// to read our answer instead of a connection reset.
constexpr uint64_t kLingerBytes = 64ull << 20;
constexpr std::chrono::seconds kLingerTime{5};

}  // namespace

class Session;

class HttpServer::Impl {
 public:
  Impl(const ServerOptions& options, Handlers handlers, LogFn log)
      : options_(options),
        handlers_(std::move(handlers)),
        log_(std::move(log)),
        acceptor_(asio::make_strand(ioc_)),
        pool_(size_t(std::max(1, options.workers))) {}

  Status Listen() {
    beast::error_code ec;
    auto address = asio::ip::make_address(options_.address, ec);
    if (ec) {
      return Status::InvalidConfig("listen: \"" + options_.address + "\" is not an IP address");
    }
    tcp::endpoint endpoint(address, options_.port);
    std::string where = options_.address + ":" + std::to_string(options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::Error("cannot listen on " + where + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
      io_threads_.emplace_back([this] { ioc_.run(); });
    }
    return Status::OK();
  }

  void Stop() {
    if (stopping_.exchange(true)) {
      // A second caller waits for the first to finish.
      std::lock_guard<std::mutex> lock(stop_mu_);
      return;
    }
    std::lock_guard<std::mutex> lock(stop_mu_);
    asio::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    CloseIdleSessions();
    for (auto& t : io_threads_) t.join();
    io_threads_.clear();
    pool_.join();
  }

  uint16_t port() const { return port_; }
  bool stopping() const { return stopping_.load(); }
  const ServerOptions& options() const { return options_; }
  asio::io_context& ioc() { return ioc_; }
  asio::thread_pool& pool() { return pool_; }

  HttpResponse Call(bool too_large, const http::request_header<>& header, std::string_view body) {
    HttpRequestView view;
    view.method = View(header.method_string());
    view.target = View(header.target());
    view.content_type = View(header[http::field::content_type]);
    view.content_encoding = View(header[http::field::content_encoding]);
    view.authorization = View(header[http::field::authorization]);
    view.body = body;
    view.now_ms = NowMs();
    try {
      return too_large ? handlers_.body_too_large(view) : handlers_.handle(view);
    } catch (const std::exception& e) {
      Log(LogLevel::kError, std::string("request handler failed: ") + e.what());
      return JsonError(500, "internal error while handling the request");
    } catch (...) {
      Log(LogLevel::kError, "request handler failed with a non-standard exception");
      return JsonError(500, "internal error while handling the request");
    }
  }

  void Log(LogLevel level, std::string_view message) const {
    if (log_) log_(level, message);
  }

 private:
  void Accept();
  void CloseIdleSessions();

  ServerOptions options_;
  Handlers handlers_;
  LogFn log_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::thread_pool pool_;
  std::vector<std::thread> io_threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;
  std::mutex sessions_mu_;
  std::vector<std::weak_ptr<Session>> sessions_;
};

/// One connection. Every member is touched only on the session's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  /// Closes the connection unless a request is being handled (that one is answered first).
  void StopIfIdle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->Close();
    });
  }

 private:
  void ReadHeader() {
    if (server_.stopping()) return Close();
    parser_.emplace();
    parser_->body_limit(server_.options().max_body_bytes);
    parser_->header_limit(
        uint32_t(std::min<uint64_t>(server_.options().max_header_bytes, UINT32_MAX)));
    stream_.expires_after(server_.options().idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue") &&
        !parser_->is_done()) {
      // curl and others wait for this before sending a large body.
      continue_.emplace(http::status::continue_, parser_->get().version());
      http::async_write(stream_, *continue_,
                        [self = shared_from_this()](beast::error_code wec, size_t) {
                          if (wec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      // Answer in the protocol's own form, then drain and close: the parser cannot continue.
      busy_ = true;
      Handle(/*too_large=*/true);
      return;
    }
    if (ec == http::error::header_limit) {
      Reply(JsonError(431, "request line and headers are larger than max_header_bytes (" +
                               std::to_string(server_.options().max_header_bytes) + ")"),
            false, false);
      return;
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == http::error::partial_message) {
      return Close();
    }
    if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
      Reply(JsonError(400, "malformed HTTP request: " + ec.message()), false, false);
      return;
    }
    Close();
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    busy_ = true;
    Handle(/*too_large=*/false);
  }

  /// Runs the handler on a worker, then writes its answer on this session's strand.
  void Handle(bool too_large) {
    auto guard = asio::make_work_guard(server_.ioc());
    asio::post(server_.pool(), [self = shared_from_this(), too_large,
                                guard = std::move(guard)]() mutable {
      const auto& request = self->parser_->get();
      HttpResponse response =
          self->server_.Call(too_large, request.base(),
                             too_large ? std::string_view() : std::string_view(request.body()));
      bool keep_alive = !too_large && request.keep_alive();
      asio::post(self->stream_.get_executor(), [self, response = std::move(response), keep_alive,
                                                too_large, guard = std::move(guard)]() mutable {
        self->Reply(std::move(response), keep_alive, too_large);
      });
    });
  }

  void Reply(HttpResponse response, bool keep_alive, bool linger) {
    busy_ = true;
    keep_alive = keep_alive && !server_.stopping();
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(parser_ ? parser_->get().version() : 11);
    if (res->version() == 0) res->version(11);
    res->result(static_cast<http::status>(response.status));
    res->set(http::field::server, "weir-collector");
    res->set(http::field::content_type, response.content_type);
    res->set(http::field::access_control_allow_origin, "*");
    for (auto& [name, value] : response.headers) res->set(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(server_.options().idle_timeout);
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep_alive, linger](beast::error_code ec, size_t) {
          self->busy_ = false;
          if (ec) return self->Close();
          if (linger) return self->Linger();
          if (!keep_alive) return self->Close();
          self->ReadHeader();
        });
  }

  /// After refusing a body: stop sending, read and discard what the client still sends (up
  /// to a bound), then close — so the client reads our answer rather than a reset.
  void Linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec || server_.stopping()) return Close();
    stream_.expires_after(kLingerTime);
    DrainSome();
  }

  void DrainSome() {
    drain_.resize(64 << 10);
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kLingerBytes) return self->Close();
                              self->DrainSome();
                            });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::vector<char> drain_;
  uint64_t drained_ = 0;
  bool busy_ = false;
};

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      Log(LogLevel::kWarn, "accept failed: " + ec.message());
    } else if (stopping()) {
      beast::error_code ignored;
      socket.close(ignored);
      return;
    } else {
      auto session = std::make_shared<Session>(std::move(socket), *this);
      {
        std::lock_guard<std::mutex> lock(sessions_mu_);
        // Forget ended sessions now and then so the list stays as long as the live ones.
        if (sessions_.size() > 64 && sessions_.size() % 64 == 0) {
          std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
        }
        sessions_.push_back(session);
      }
      session->Run();
    }
    if (!stopping()) Accept();
  });
}

void HttpServer::Impl::CloseIdleSessions() {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  for (auto& weak : sessions_) {
    if (auto session = weak.lock()) session->StopIfIdle();
  }
  sessions_.clear();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options,
                                                      Handlers handlers, LogFn log) {
  auto impl = std::make_unique<Impl>(options, std::move(handlers), std::move(log));
  WEIR_RETURN_NOT_OK(impl->Listen());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace weir::sdksource
