// plugins/sdk-source/collector/handler.hpp — one HTTP request in, one response out: routing,
// Content-Encoding, the protocol parsers, the partial-acceptance rule, and the store append.
//
// No sockets here (http_server.hpp does those) and no store (the caller passes an AppendFn),
// so the whole request path is testable and fuzzable in-process.
//
// The partial-acceptance rule (docs/sdk-source.md):
//   - Mixpanel /import?strict=1: valid records are stored, failed ones reported, answer 400
//     (200 if none failed).
//   - Every other request is all-or-nothing: any bad record → 4xx naming the first bad
//     record's index and reason, nothing of that request stored.
//   - A 2xx is sent only after AppendFn returned OK (durable). AppendFn failing → 503, with a
//     fixed message: the caller logs the store's error (it names server paths).
//
//   HttpResponse r = HandleRequest(view, config, [&](const std::string& project,
//                                                    std::vector<Record> records) {
//     return stores.at(project)->Append(std::move(records)).status();
//   });
#ifndef WEIR_SDK_SOURCE_COLLECTOR_HANDLER_HPP
#define WEIR_SDK_SOURCE_COLLECTOR_HANDLER_HPP

#include <functional>
#include <string>
#include <vector>

#include "collector/collector_config.hpp"
#include "collector/request.hpp"

namespace weir::sdksource {

/// Stores `records` in `project`'s store and returns once they are durable. Called at most
/// once per request, never with an empty vector. May be called from many threads at once.
using AppendFn = std::function<Status(const std::string& project, std::vector<Record> records)>;

/// The projects whose store is broken (a write or fsync failed, so it refuses every append
/// until reopened); empty when all are healthy. Called by GET /healthz; must be cheap and
/// thread-safe.
using HealthFn = std::function<std::vector<std::string>()>;

/// Handles one request. Thread-safe for concurrent calls with the same config. Never throws
/// for bad input; errors inside `append` become 503 with a fixed message (the error itself,
/// which may name server paths, is for the server's log, not the client). /healthz answers
/// {"status":"ok"}, or 503 naming the broken projects when `health` reports any (an empty
/// `health` means always healthy).
HttpResponse HandleRequest(const HttpRequestView& request, const CollectorConfig& config,
                           const AppendFn& append, const HealthFn& health = {});

/// The 413 answer for a request whose body passed max_body_bytes while it was being read
/// (`request.body` is empty: the server stopped reading), in the route's protocol form.
HttpResponse HandleBodyTooLarge(const HttpRequestView& request, const CollectorConfig& config);

/// The generic JSON error {"error":"…"} (unknown path, wrong method, server trouble).
HttpResponse JsonError(int status, std::string_view message);

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_COLLECTOR_HANDLER_HPP
