// plugins/sdk-source/collector/segment.hpp — the Segment HTTP Tracking API: /v1/track, /v1/page,
// /v1/screen, /v1/group, /v1/identify, /v1/alias and /v1/batch.
//
// The write key comes as the Basic auth user name (Segment's libraries) or as "writeKey" in the
// body. Mapping to the canonical model (docs/sdk-source.md has the table):
//   track              → event `event`
//   page / screen      → event "Page Viewed" / "Screen Viewed"; name and category go into
//                        properties (unless the client set them there)
//   group              → event "Group" with properties group_id and $group_traits
//   identify           → identity anonymousId → userId (when both are sent) and a profile
//                        $set of the traits (when there are any)
//   alias              → identity previousId → userId
// distinct_id = userId, else anonymousId; time = timestamp, else originalTimestamp, else the
// receive time; insert_id = messageId; context is kept in properties under "$segment_context".
//
//   ParsedRequest parsed = ParseSegment(SegmentEndpoint::kBatch, request, config);
#ifndef WEIR_SDK_SOURCE_COLLECTOR_SEGMENT_HPP
#define WEIR_SDK_SOURCE_COLLECTOR_SEGMENT_HPP

#include "collector/collector_config.hpp"
#include "collector/request.hpp"

namespace weir::sdksource {

enum class SegmentEndpoint { kTrack, kPage, kScreen, kGroup, kIdentify, kAlias, kBatch };

/// Parses a Segment request (body already inflated). Pure: no I/O. Thread-safe.
ParsedRequest ParseSegment(SegmentEndpoint endpoint, const HttpRequestView& request,
                           const CollectorConfig& config);

/// {"success":true}, or {"success":false,"error":"…"[,"index":i]}.
HttpResponse RenderSegment(const ParsedRequest& parsed, const Outcome& outcome);

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_COLLECTOR_SEGMENT_HPP
