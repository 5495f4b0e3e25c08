// plugins/sdk-source/collector/handler.cpp — routing, decoding and the partial-acceptance rule.
#include "collector/handler.hpp"

#include <optional>
#include <variant>

#include "collector/decode.hpp"
#include "collector/mixpanel.hpp"
#include "collector/native.hpp"
#include "collector/normalize.hpp"
#include "collector/segment.hpp"

namespace weir::sdksource {
namespace {

struct Health {};
using Endpoint = std::variant<MixpanelEndpoint, SegmentEndpoint, NativeEndpoint, Health>;

struct Route {
  std::string_view path;
  Endpoint endpoint;
  bool allow_get = false;  // every ingestion route takes POST
};

constexpr Route kRoutes[] = {
    {"/track", MixpanelEndpoint::kTrack, true},
    {"/engage", MixpanelEndpoint::kEngage, true},
    {"/import", MixpanelEndpoint::kImport, false},
    {"/v1/track", SegmentEndpoint::kTrack, false},
    {"/v1/page", SegmentEndpoint::kPage, false},
    {"/v1/screen", SegmentEndpoint::kScreen, false},
    {"/v1/group", SegmentEndpoint::kGroup, false},
    {"/v1/identify", SegmentEndpoint::kIdentify, false},
    {"/v1/alias", SegmentEndpoint::kAlias, false},
    {"/v1/batch", SegmentEndpoint::kBatch, false},
    {"/v1/import", SegmentEndpoint::kBatch, false},  // Segment's older name for batch
    {"/v1/events", NativeEndpoint::kEvents, false},
    {"/v1/users", NativeEndpoint::kUsers, false},
    {"/healthz", Health{}, true},
};

const Route* FindRoute(std::string_view path) {
  // SDKs differ on the trailing slash (mixpanel-js posts to "/track/").
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  for (const Route& r : kRoutes) {
    if (r.path == path) return &r;
  }
  return nullptr;
}

ParsedRequest Parse(const Endpoint& endpoint, const HttpRequestView& request,
                    const CollectorConfig& config) {
  if (auto* m = std::get_if<MixpanelEndpoint>(&endpoint)) {
    return ParseMixpanel(*m, request, config);
  }
  if (auto* s = std::get_if<SegmentEndpoint>(&endpoint)) return ParseSegment(*s, request, config);
  return ParseNative(std::get<NativeEndpoint>(endpoint), request, config);
}

HttpResponse Render(const Endpoint& endpoint, const ParsedRequest& parsed, const Outcome& outcome) {
  if (auto* m = std::get_if<MixpanelEndpoint>(&endpoint)) {
    return RenderMixpanel(*m, parsed, outcome);
  }
  if (std::holds_alternative<SegmentEndpoint>(endpoint)) return RenderSegment(parsed, outcome);
  return RenderNative(parsed, outcome);
}

/// Answers a request that failed before its records were parsed.
HttpResponse EarlyError(const Endpoint& endpoint, const HttpRequestView& request, int status,
                        std::string message) {
  ParsedRequest parsed;
  if (std::holds_alternative<MixpanelEndpoint>(endpoint)) ParseMixpanelFlags(request, parsed);
  Outcome outcome;
  outcome.status = status;
  outcome.error = std::move(message);
  return Render(endpoint, parsed, outcome);
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

/// The /healthz answer: ok, or 503 naming the projects whose store is broken.
HttpResponse HealthResponse(const HealthFn& health) {
  std::vector<std::string> broken;
  if (health) broken = health();
  HttpResponse response;
  if (broken.empty()) {
    response.body = "{\"status\":\"ok\"}";
    return response;
  }
  // Project names only: the store's own error names files on the server.
  response.status = 503;
  response.body = "{\"status\":\"broken\",\"broken_projects\":[";
  for (size_t i = 0; i < broken.size(); ++i) {
    if (i > 0) response.body.push_back(',');
    AppendJsonString(response.body, broken[i]);
  }
  response.body +=
      "],\"error\":\"a store failed a write or fsync and refuses every append until the "
      "collector is restarted (the server log has the cause)\"}";
  return response;
}

}  // namespace

HttpResponse JsonError(int status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = "{\"error\":";
  AppendJsonString(response.body, message);
  response.body.push_back('}');
  return response;
}

HttpResponse HandleBodyTooLarge(const HttpRequestView& request, const CollectorConfig& config) {
  std::string message =
      "body is larger than max_body_bytes (" + std::to_string(config.limits.max_body_bytes) + ")";
  std::string_view path, query;
  SplitTarget(request.target, path, query);
  const Route* route = FindRoute(path);
  if (route == nullptr || std::holds_alternative<Health>(route->endpoint)) {
    return JsonError(413, message);
  }
  return EarlyError(route->endpoint, request, 413, std::move(message));
}

HttpResponse HandleRequest(const HttpRequestView& request, const CollectorConfig& config,
                           const AppendFn& append, const HealthFn& health) {
  std::string_view path, query;
  SplitTarget(request.target, path, query);
  const Route* route = FindRoute(path);
  if (route == nullptr) {
    std::string shown = ShownText(path, 200);
    return JsonError(404, "unknown path " + shown +
                              " (endpoints: /track /engage /import /v1/track /v1/page "
                              "/v1/screen /v1/group /v1/identify /v1/alias /v1/batch "
                              "/v1/events /v1/users)");
  }
  const std::string allowed = route->allow_get ? "GET, POST, OPTIONS" : "POST, OPTIONS";
  if (request.method == "OPTIONS") {  // CORS preflight from browser SDKs
    HttpResponse response;
    response.status = 204;
    response.headers = {
        {"Access-Control-Allow-Methods", allowed},
        {"Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding"},
        {"Access-Control-Max-Age", "86400"}};
    return response;
  }
  bool method_ok = request.method == "POST" || (route->allow_get && request.method == "GET");
  if (!method_ok) {
    std::string method(request.method.substr(0, 16));
    HttpResponse response =
        JsonError(405, "method " + method + " is not allowed on " + std::string(route->path) +
                           " (allowed: " + allowed + ")");
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  if (std::holds_alternative<Health>(route->endpoint)) return HealthResponse(health);
  const Limits& limits = config.limits;
  if (request.body.size() > limits.max_body_bytes) {
    return EarlyError(route->endpoint, request, 413,
                      "body of " + std::to_string(request.body.size()) +
                          " bytes is larger than max_body_bytes (" +
                          std::to_string(limits.max_body_bytes) + ")");
  }

  HttpRequestView view = request;
  InflateResult inflated;
  std::string_view encoding = request.content_encoding;
  if (!encoding.empty() && !EqualsNoCase(encoding, "identity")) {
    if (!EqualsNoCase(encoding, "gzip") && !EqualsNoCase(encoding, "x-gzip") &&
        !EqualsNoCase(encoding, "deflate")) {
      return EarlyError(route->endpoint, request, 415,
                        "unsupported Content-Encoding \"" + ShownText(encoding, 32) +
                            "\" (supported: gzip, deflate)");
    }
    inflated = Inflate(request.body, limits.max_decompressed_bytes);
    if (inflated.code == InflateResult::Code::kTooLarge) {
      return EarlyError(route->endpoint, request, 413, inflated.message);
    }
    if (inflated.code == InflateResult::Code::kCorrupt) {
      return EarlyError(route->endpoint, request, 400, inflated.message);
    }
    view.body = inflated.data;
  }

  ParsedRequest parsed = Parse(route->endpoint, view, config);
  Outcome outcome;
  if (parsed.error_status != 0) {
    outcome.status = parsed.error_status;
    outcome.error = parsed.error;
    return Render(route->endpoint, parsed, outcome);
  }
  if (!parsed.failures.empty() && !parsed.partial) {
    outcome.status = 400;
    outcome.failure = &parsed.failures.front();
    return Render(route->endpoint, parsed, outcome);
  }
  if (!parsed.records.empty()) {
    Status stored = append(parsed.project, std::move(parsed.records));
    if (!stored.ok()) {
      outcome.status = 503;
      // The store's message names files on the server (and the server's log has it already,
      // see AppendFn): the client learns only that it must retry.
      outcome.error = "could not store the records (nothing was acknowledged; retry)";
      parsed.accepted = 0;
      return Render(route->endpoint, parsed, outcome);
    }
  }
  if (!parsed.failures.empty()) {
    outcome.status = 400;
    outcome.partial = true;
  }
  return Render(route->endpoint, parsed, outcome);
}

}  // namespace weir::sdksource
