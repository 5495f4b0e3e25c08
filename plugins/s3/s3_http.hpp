// plugins/s3/s3_http.hpp — one HTTP exchange, and the libcurl transport that performs it.
// The S3 client talks to an HttpTransport so its signing, retry and error logic can be tested
// against a scripted transport; CurlTransport is the real one: a pool of CURL easy handles
// (each keeps its own connection cache, so connections are reused across requests and a
// thread never shares a handle), TLS verification on unless turned off, and a CA bundle that
// is only ever applied to https URLs (AWS_CA_BUNDLE must not break plain-http test endpoints).
//
//   auto transport = weir::s3::MakeCurlTransport({.verify_tls = true});
//   weir::s3::HttpResponse r = transport->Send({.method = "GET", .url = url, .headers = h});
#ifndef WEIR_S3_HTTP_HPP
#define WEIR_S3_HTTP_HPP

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "s3_sigv4.hpp"

namespace weir::s3 {

/// One request. `headers` are sent verbatim ("Host" included: the transport must not invent
/// another, since the signature covers it). `body` must stay valid during Send.
struct HttpRequest {
  std::string method;  ///< GET, HEAD, PUT, POST, DELETE
  std::string url;     ///< fully encoded; dot segments are sent as-is, never normalized
  NameValues headers;
  std::string_view body;
  /// Polled during the transfer; true aborts it (the response then has `cancelled` set).
  std::function<bool()> cancelled;
};

/// The answer, or why there was none (`transport_error` non-empty, `status` 0).
struct HttpResponse {
  long status = 0;
  std::string body;
  NameValues headers;                ///< names lower-cased, in arrival order
  std::string transport_error;       ///< e.g. "Couldn't connect to server: ..." (no secrets)
  bool transport_retryable = false;  ///< connection refused/reset, timeout, empty reply, ...
  bool cancelled = false;

  /// The first header named `name` (lower-case), or "".
  std::string Header(std::string_view name) const;
};

/// Performs HTTP exchanges. Implementations are thread-safe: Send may run on many threads.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResponse Send(const HttpRequest& request) = 0;
};

struct TransportOptions {
  bool verify_tls = true;
  std::string ca_bundle;  ///< PEM file for https; empty = AWS_CA_BUNDLE if set, else system
  int connect_timeout_ms = 10000;
  int request_timeout_ms = 300000;
};

/// The libcurl transport. Initializes libcurl once per process (thread-safe).
std::unique_ptr<HttpTransport> MakeCurlTransport(const TransportOptions& options);

}  // namespace weir::s3

#endif  // WEIR_S3_HTTP_HPP
