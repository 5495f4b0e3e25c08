// tests/fuzz/fuzz_parsers.cpp — libFuzzer target for the collector's request path: the Mixpanel,
// Segment and native parsers (through HandleRequest, with a store append that only checks what
// it is given), and the time, base64, form and gzip decoders. No store, no sockets.
//
// Input: the first byte picks the endpoint (byte % kRoutes), the rest is the request body (or,
// for the GET route, the data= value). Seeds in tests/fuzz/corpus/ start with '0'..'9', ':'
// or ';' (48..59, i.e. routes 0..11). Built and run by tests/fuzz/run_fuzz.sh.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collector/collector_config.hpp"
#include "collector/decode.hpp"
#include "collector/handler.hpp"
#include "collector/normalize.hpp"

namespace {

using weir::sdksource::CollectorConfig;
using weir::sdksource::HttpRequestView;
using weir::sdksource::Record;

struct Route {
  const char* method;
  const char* target;
  const char* content_type;
  const char* content_encoding;
  const char* authorization;
};

// "tok" / "wk" are the credentials of the seeds; "Basic dG9rOg==" is base64("tok:").
constexpr Route kRoutes[] = {
    {"GET", "/track?verbose=1&data=", "", "", ""},
    {"POST", "/track", "application/x-www-form-urlencoded", "", ""},
    {"POST", "/engage?verbose=1", "application/json", "", ""},
    {"POST", "/import?strict=1", "application/json", "", "Basic dG9rOg=="},
    {"POST", "/import", "application/x-ndjson", "", ""},
    {"POST", "/v1/batch", "application/json", "", "Basic d2s6"},
    {"POST", "/v1/track", "application/json", "", "Basic d2s6"},
    {"POST", "/v1/identify", "application/json", "", "Basic d2s6"},
    {"POST", "/v1/events", "application/x-ndjson", "", "Bearer tok"},
    {"POST", "/v1/users", "application/json", "", "Bearer tok"},
    {"POST", "/v1/events", "application/json", "gzip", "Bearer tok"},
    {"POST", "/track", "application/json", "deflate", ""},
};
constexpr size_t kRouteCount = sizeof kRoutes / sizeof kRoutes[0];

const CollectorConfig& Config() {
  static const CollectorConfig config = [] {
    auto parsed = weir::sdksource::ParseCollectorConfig(R"({
      "data_dir": "/nonexistent", "listen": "127.0.0.1:0",
      "projects": {"demo": {"tokens": ["tok"], "write_keys": ["wk"]},
                   "other": {"tokens": ["tok2"]}},
      "limits": {"max_body_bytes": 1048576, "max_decompressed_bytes": 4194304,
                 "max_records_per_request": 500, "max_properties": 64, "max_depth": 4,
                 "max_string_bytes": 4096}})");
    if (!parsed.ok()) std::abort();
    return std::move(parsed).value();
  }();
  return config;
}

/// Everything the parsers hand to the store must be canonical JSON the store can take.
void CheckRecord(const Record& record) {
  if (record.stream == weir::sdksource::Stream::kUsers) {
    if (record.distinct_id.empty() || record.ops.empty()) std::abort();
    return;
  }
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(record.json).get(doc) != simdjson::SUCCESS) std::abort();
  if (doc.type() != simdjson::dom::element_type::OBJECT) std::abort();
  if (record.event_time_ms < 0 || record.event_time_ms > weir::sdksource::kMaxTimeMs) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Route& route = kRoutes[data[0] % kRouteCount];
  std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string target = route.target;
  HttpRequestView request;
  request.method = route.method;
  request.content_type = route.content_type;
  request.content_encoding = route.content_encoding;
  request.authorization = route.authorization;
  request.now_ms = 1700000000000;
  if (request.method == "GET") {
    target += payload;
  } else {
    request.body = payload;
  }
  request.target = target;
  auto response = weir::sdksource::HandleRequest(
      request, Config(), [](const std::string& project, std::vector<Record> records) {
        if (project.empty() || records.empty()) std::abort();
        for (const auto& r : records) CheckRecord(r);
        return weir::Status::OK();
      });
  if (response.status < 200 || response.status > 599 || response.body.empty()) std::abort();

  // The decoders on their own, on the same bytes.
  std::string out;
  (void)weir::sdksource::Base64Decode(payload, out);
  (void)weir::sdksource::FormValue(payload, "data");
  (void)weir::sdksource::BasicAuthUser(payload);
  int64_t ms = 0;
  if (!weir::sdksource::TimeFromString(payload, ms) &&
      (ms < 0 || ms > weir::sdksource::kMaxTimeMs)) {
    std::abort();
  }
  auto inflated = weir::sdksource::Inflate(payload, 1 << 20);
  if (inflated.data.size() > (1u << 20)) std::abort();
  return 0;
}
