// plugins/sdk-source/collector/native.hpp — weir's native ingestion API: POST /v1/events and
// POST /v1/users with records already in the canonical model, as NDJSON or a JSON array.
//
//   /v1/events  {"event","time","distinct_id","insert_id"?,"properties"?}
//   /v1/users   {"distinct_id","time"?,"$set":{…},"$unset":[…],…}  (operations in order)
// Auth: "Authorization: Bearer <token>" or Basic with the token as user name.
//
//   ParsedRequest parsed = ParseNative(NativeEndpoint::kEvents, request, config);
#ifndef WEIR_SDK_SOURCE_COLLECTOR_NATIVE_HPP
#define WEIR_SDK_SOURCE_COLLECTOR_NATIVE_HPP

#include "collector/collector_config.hpp"
#include "collector/request.hpp"

namespace weir::sdksource {

enum class NativeEndpoint { kEvents, kUsers };

/// Parses a native request (body already inflated). Pure: no I/O. Thread-safe.
ParsedRequest ParseNative(NativeEndpoint endpoint, const HttpRequestView& request,
                          const CollectorConfig& config);

/// {"accepted":N}, {"error":"…"} or {"error":"invalid record","index":i,"field":"…","reason":"…"}.
HttpResponse RenderNative(const ParsedRequest& parsed, const Outcome& outcome);

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_COLLECTOR_NATIVE_HPP
