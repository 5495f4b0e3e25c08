// bench/loadgen_payload.hpp — realistic SDK traffic for weir-loadgen: events and the request
// bodies each wire protocol carries them in.
//
// EventGenerator makes product-analytics events: a realistic event name, a distinct_id from a
// population of users (a few very active, many occasional), an event time within the last
// three days, a unique insert_id, and 16 properties of every JSON type (strings, integers,
// floats, booleans, a nested object and an array), about 500 bytes per event in canonical form.
// BuildRequest() wraps a batch of them the way that protocol's SDKs send them:
//
//   mixpanel-import  POST /import?strict=1   JSON array, token in each event's properties
//   mixpanel-track   POST /track             form body data=<base64 of the JSON array>
//   segment-batch    POST /v1/batch          {"batch":[...]}, write key in Basic auth
//   native           POST /v1/events         NDJSON of canonical events, token as Bearer
//
//   EventGenerator gen(/*seed=*/1, /*first_index=*/0);
//   std::vector<Event> batch;
//   for (int i = 0; i < 500; ++i) batch.push_back(gen.Next());
//   HttpRequestSpec req = BuildRequest(Protocol::kNative, batch, "token");
#ifndef WEIR_BENCH_LOADGEN_PAYLOAD_HPP
#define WEIR_BENCH_LOADGEN_PAYLOAD_HPP

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>

namespace weir::bench {

enum class Protocol { kMixpanelImport, kMixpanelTrack, kSegmentBatch, kNative };

/// "mixpanel-import", "mixpanel-track", "segment-batch", "native".
const char* ProtocolName(Protocol protocol);
std::optional<Protocol> ProtocolFromName(std::string_view name);

/// One generated event. `properties` is the inside of the properties object (no braces), so
/// each protocol can add its own reserved keys next to it.
struct Event {
  std::string name;
  std::string distinct_id;
  std::string insert_id;
  int64_t time_ms = 0;
  std::string properties;
};

/// Deterministic for a given (seed, first_index): the same events every run.
class EventGenerator {
 public:
  /// `now_ms` anchors the event times (they fall within the three days before it).
  EventGenerator(uint64_t seed, uint64_t first_index, int64_t now_ms);
  Event Next();

 private:
  std::mt19937_64 rng_;
  uint64_t index_;
  int64_t now_ms_;
};

/// What to send: target (path and query), headers and body.
struct HttpRequestSpec {
  std::string target;
  std::string content_type;
  std::string authorization;  ///< the Authorization header's value, or empty
  std::string body;
  size_t events = 0;
};

/// Wraps `events` for `protocol`, authenticated with `token` (a Segment write key for
/// segment-batch).
HttpRequestSpec BuildRequest(Protocol protocol, std::span<const Event> events,
                             std::string_view token);

/// Standard base64 with padding (RFC 4648 §4).
std::string Base64(std::string_view bytes);

}  // namespace weir::bench

#endif  // WEIR_BENCH_LOADGEN_PAYLOAD_HPP
