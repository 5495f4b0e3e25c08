// plugins/sdk-source/collector/request.hpp — the types shared by the wire-protocol parsers
// (mixpanel.hpp, segment.hpp, native.hpp) and the request handler (handler.hpp): the request
// as the parsers see it, what they produce, and the response they render.
//
// A parser is a pure function HttpRequestView → ParsedRequest: no sockets, no store. The
// handler then applies the partial-acceptance rule (docs/sdk-source.md), appends to the store,
// and asks the protocol to render an HttpResponse for the Outcome.
#ifndef WEIR_SDK_SOURCE_COLLECTOR_REQUEST_HPP
#define WEIR_SDK_SOURCE_COLLECTOR_REQUEST_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/store.hpp"

namespace weir::sdksource {

/// One HTTP request. Every view is borrowed for the duration of the call.
struct HttpRequestView {
  std::string_view method;            ///< "GET", "POST", ...
  std::string_view target;            ///< path and query: "/track?verbose=1"
  std::string_view content_type;      ///< Content-Type header ("" if absent)
  std::string_view content_encoding;  ///< Content-Encoding; parsers get an inflated body
  std::string_view authorization;     ///< Authorization header ("" if absent)
  std::string_view body;
  int64_t now_ms = 0;  ///< receive time: the time of records that carry none
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers (Allow, ...)
};

/// One input record that cannot be accepted.
struct RecordFailure {
  size_t index = 0;       ///< position in the request (array index / NDJSON record number)
  std::string field;      ///< path inside the record ("properties.time"); "" = the record
  std::string reason;     ///< what is wrong, without the field name
  std::string insert_id;  ///< the record's own insert_id, when it had one
  /// "field: reason", or just the reason.
  std::string Message() const { return field.empty() ? reason : field + ": " + reason; }
};

/// What a protocol parser made of a request.
struct ParsedRequest {
  /// The project the credentials resolved to ("" when none did).
  std::string project;
  /// Store records of the accepted input records, in input order. One input record may give
  /// several (a Mixpanel $identify event gives an event and an identity).
  std::vector<Record> records;
  size_t input_count = 0;  ///< records in the request
  size_t accepted = 0;     ///< input records whose products are in `records`
  /// Rejected input records, in index order. Unless `partial`, parsers may stop at the first.
  std::vector<RecordFailure> failures;
  /// Request-level failure (bad credentials 401, malformed body 400, too many records 400):
  /// when non-zero nothing is stored, whatever `records` holds.
  int error_status = 0;
  std::string error;
  /// Mixpanel /import?strict=1: valid records are stored although others failed.
  bool partial = false;
  /// Mixpanel verbose=1: answer {"status":…,"error":…} instead of "1"/"0".
  bool verbose = false;

  void Fail(int status, std::string message) {
    error_status = status;
    error = std::move(message);
  }
};

/// What the handler decided; each protocol renders it in its own form.
struct Outcome {
  int status = 200;
  /// Request-level error message (status >= 400 and no `failure`).
  std::string error;
  /// All-or-nothing rejection: the first bad record (status 400). Nothing was stored.
  const RecordFailure* failure = nullptr;
  /// Strict /import: `parsed.failures` are reported, `parsed.accepted` records were stored.
  bool partial = false;
};

/// The reason phrase of the statuses the collector sends ("Bad Request").
inline const char* HttpReason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_COLLECTOR_REQUEST_HPP
