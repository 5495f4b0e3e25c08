// plugins/sdk-source/collector/mixpanel.hpp — the Mixpanel ingestion API: /track, /engage and
// /import, as the official SDKs send them.
//
// /track and /engage: data=<base64 or JSON> in the query string (GET) or a form body (POST), or
// a JSON body (POST); one object or an array. The project comes from each record's token
// (properties.token / $token). verbose=1 answers {"status":1,"error":null}, otherwise "1"/"0".
// /import: a JSON array or NDJSON body (or a form data=), project by each event's
// properties.token or by Basic auth with a project token as the user name; strict=1 reports
// per-record failures while storing the valid records. docs/sdk-source.md has the mapping.
//
//   ParsedRequest parsed = ParseMixpanel(MixpanelEndpoint::kTrack, request, config);
//   ... store parsed.records, decide the Outcome ...
//   HttpResponse response = RenderMixpanel(MixpanelEndpoint::kTrack, parsed, outcome);
#ifndef WEIR_SDK_SOURCE_COLLECTOR_MIXPANEL_HPP
#define WEIR_SDK_SOURCE_COLLECTOR_MIXPANEL_HPP

#include "collector/collector_config.hpp"
#include "collector/request.hpp"

namespace weir::sdksource {

enum class MixpanelEndpoint { kTrack, kEngage, kImport };

/// Parses a Mixpanel request (body already inflated). Pure: no I/O. Thread-safe (uses the
/// calling thread's simdjson parser).
ParsedRequest ParseMixpanel(MixpanelEndpoint endpoint, const HttpRequestView& request,
                            const CollectorConfig& config);

/// Reads only verbose= / strict= (for answering a request that failed before parsing).
void ParseMixpanelFlags(const HttpRequestView& request, ParsedRequest& parsed);

/// Renders the answer in Mixpanel's forms (see docs/sdk-source.md, "Errors").
HttpResponse RenderMixpanel(MixpanelEndpoint endpoint, const ParsedRequest& parsed,
                            const Outcome& outcome);

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_COLLECTOR_MIXPANEL_HPP
