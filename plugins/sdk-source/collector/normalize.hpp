// plugins/sdk-source/collector/normalize.hpp — turning protocol fields into weir's canonical
// model (DESIGN.md §2): times to milliseconds UTC, canonical JSON (keys sorted, escaped),
// limit checks that name the offending field, and the deterministic insert_id.
//
// Canonical event:    {"event","time","distinct_id","insert_id","properties":{…}}
// Canonical identity: {"distinct_id","user_id","time"}
//
//   PropertyBuilder props(limits);
//   props.AddObject(properties_object, {"token", "time"});
//   std::string props_json;
//   if (auto problem = props.Write(props_json, "properties")) return Fail(*problem);
//   std::string id = DeriveInsertId(project, event, distinct_id, time_ms, props_json);
//   std::string json = WriteEvent(event, time_ms, distinct_id, id, props_json);
#ifndef WEIR_SDK_SOURCE_COLLECTOR_NORMALIZE_HPP
#define WEIR_SDK_SOURCE_COLLECTOR_NORMALIZE_HPP

#include <simdjson.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/collector_config.hpp"
#include "weir/config_json.hpp"  // JsonTypeWithArticle
#include "weir/json.hpp"

namespace weir::sdksource {

/// Why one record (or one field of it) is unacceptable. `field` is a dotted path inside the
/// record as the client sent it ("properties.time", "properties.a.b"); empty for the record.
struct FieldError {
  std::string field;
  std::string reason;
};

/// Numbers below this are seconds since the epoch, numbers at or above it milliseconds.
/// 1e11 seconds is the year 5138; 1e11 milliseconds is March 1973, so no real event time of
/// either kind falls on the wrong side.
inline constexpr double kSecondsThreshold = 1e11;
/// Latest accepted time: 9999-12-31T23:59:59.999Z.
inline constexpr int64_t kMaxTimeMs = 253402300799999;

/// A time as a number: seconds (possibly fractional) when < kSecondsThreshold, else
/// milliseconds; rounded to the nearest millisecond. Negative, non-finite or past year 9999 is
/// an error (reason without the field name).
std::optional<std::string> TimeFromNumber(double value, int64_t& out_ms);

/// A time as a string: a number as above ("1700000000", "1700000000.5"), or ISO-8601:
/// YYYY-MM-DD, optionally followed by 'T' or ' ' and hh:mm[:ss[.fraction]], optionally followed
/// by 'Z' or an offset ±hh:mm / ±hhmm / ±hh. No offset means UTC. Fractions past
/// milliseconds are truncated.
std::optional<std::string> TimeFromString(std::string_view text, int64_t& out_ms);

/// A JSON time value (number or string) → ms UTC.
std::optional<std::string> TimeFromJson(simdjson::dom::element value, int64_t& out_ms);

/// `s` made safe to quote in an error message: every byte that is not part of a valid UTF-8
/// character becomes U+FFFD, and a text longer than `max_bytes` is cut at a character boundary
/// with "..." appended. Request lines and headers are echoed through this (a 404's path, a 415's
/// Content-Encoding), so the JSON answer stays valid JSON whatever bytes the client sent.
std::string ShownText(std::string_view s, size_t max_bytes);

/// JSON string writing is the SDK's (weir/json.hpp); simdjson has already checked the UTF-8.
using weir::AppendJsonString;
/// Appends a number the way canonical records write them: integers exactly, doubles in the
/// shortest form that reads back to the same value.
void AppendJsonNumber(std::string& out, simdjson::dom::element number);

/// Appends `value` as canonical JSON: object keys sorted byte-wise (stable for duplicate
/// keys) at every level, no whitespace.
void AppendCanonical(std::string& out, simdjson::dom::element value);

/// Collects one record's properties (or one profile operation's argument), checks them
/// against the limits and writes them as a canonical JSON object. Borrows the elements it is
/// given: write before the parser is reused.
class PropertyBuilder {
 public:
  explicit PropertyBuilder(const Limits& limits) : limits_(limits) {}

  /// Adds every field of `object` whose key is not in `skip`. Counted against max_properties.
  void AddObject(simdjson::dom::object object, std::initializer_list<std::string_view> skip = {});
  /// Adds one client-provided property. Counted against max_properties.
  void Add(std::string_view key, simdjson::dom::element value);
  /// Adds a property the collector derives (e.g. Segment's context). Checked for depth and
  /// string sizes like the rest, but not counted against max_properties.
  void AddDerived(std::string_view key, simdjson::dom::element value);
  /// Adds a derived string property unless the client already set `key`.
  void AddDerivedString(std::string_view key, std::string_view value);
  bool Has(std::string_view key) const;

  /// Checks the limits and appends the canonical object to `out`. `prefix` names the object in
  /// errors ("properties" → "properties.a.b: string is longer than max_string_bytes").
  std::optional<FieldError> Write(std::string& out, std::string_view prefix);

 private:
  struct Entry {
    std::string_view key;
    simdjson::dom::element value;
    std::string_view text;  // for derived strings (value unused)
    bool is_text = false;
  };
  std::optional<FieldError> Check(simdjson::dom::element value, std::string& path,
                                  uint64_t depth) const;

  const Limits& limits_;
  std::vector<Entry> entries_;
  uint64_t counted_ = 0;
};

/// The insert_id generated for a record that has none: the first 128 bits of SHA-256 over
/// project, stream tag, event name, distinct_id, time and the canonical properties (each
/// length-prefixed, so no two different inputs share an encoding), as 32 lowercase hex
/// digits. Canonical properties have sorted keys, so key order does not change the id; the
/// same payload sent twice (an SDK retry) gets the same id. Without a client time the id
/// depends on the receive time.
std::string DeriveInsertId(std::string_view project, std::string_view event,
                           std::string_view distinct_id, int64_t time_ms,
                           std::string_view canonical_properties);

/// The canonical event object. `properties_json` must be a canonical JSON object.
std::string WriteEvent(std::string_view event, int64_t time_ms, std::string_view distinct_id,
                       std::string_view insert_id, std::string_view properties_json);

/// The canonical identity object {"distinct_id","user_id","time"}.
std::string WriteIdentity(std::string_view distinct_id, std::string_view user_id, int64_t time_ms);

/// Reads an identifier (distinct_id, user_id): a string, or an integer written in decimal
/// (some SDKs send numeric ids). Checks max_name_bytes. `required`: an absent/null value is an
/// error (an empty string is not); otherwise absence yields "".
std::optional<FieldError> ReadId(simdjson::simdjson_result<simdjson::dom::element> value,
                                 std::string_view field, const Limits& limits, bool required,
                                 std::string& out);

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_COLLECTOR_NORMALIZE_HPP
