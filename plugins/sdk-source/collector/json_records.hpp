// plugins/sdk-source/collector/json_records.hpp — splitting a request body into records: a JSON
// array, a single JSON object, or NDJSON (one object per line), and the profile operations
// shared by Mixpanel /engage, Segment identify and native /v1/users.
//
//   auto status = ForEachRecord(parser, body, limits, parsed, [&](size_t i, element e) {
//     return HandleOne(i, e);   // false stops the loop
//   });
#ifndef WEIR_SDK_SOURCE_COLLECTOR_JSON_RECORDS_HPP
#define WEIR_SDK_SOURCE_COLLECTOR_JSON_RECORDS_HPP

#include <simdjson.h>

#include <functional>
#include <optional>
#include <string_view>

#include "collector/normalize.hpp"
#include "collector/request.hpp"

namespace weir::sdksource {

/// The parser each worker thread reuses (a simdjson parser keeps its buffers between parses).
simdjson::dom::parser& ThreadParser();

/// Calls `fn(index, record)` for each record of `body`: the elements of a JSON array, the
/// object itself, or each non-blank line of NDJSON (index = record number, blank lines do not
/// count). A body that is none of these, or has more than max_records_per_request records,
/// fails `parsed` (400) before `fn` runs. A malformed NDJSON line is a failure of that record
/// (field "", reason "invalid JSON: …"), reported through `on_bad_line`. `fn` returns false to
/// stop. Elements are valid only during their call. Sets parsed.input_count.
void ForEachRecord(simdjson::dom::parser& parser, std::string_view body, const Limits& limits,
                   ParsedRequest& parsed,
                   const std::function<bool(size_t, simdjson::dom::element)>& fn,
                   const std::function<bool(size_t, std::string)>& on_bad_line);

/// Parses one profile operation ("$set", {…}) into `out`. Returns nullopt when `key` is not an
/// operation name; sets `error` (field = `field_prefix` + key) when the argument is invalid.
std::optional<ProfileOp::Kind> ProfileOpKind(std::string_view key);
std::optional<FieldError> ParseProfileOp(ProfileOp::Kind kind, simdjson::dom::element argument,
                                         std::string_view field, const Limits& limits,
                                         ProfileOp& out);

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_COLLECTOR_JSON_RECORDS_HPP
