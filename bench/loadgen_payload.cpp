// bench/loadgen_payload.cpp — event generation and per-protocol request bodies for weir-loadgen.
#include "loadgen_payload.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <string>

namespace weir::bench {
namespace {

constexpr const char* kEventNames[] = {
    "Page Viewed",     "Product Viewed", "Product Added", "Cart Viewed",   "Checkout Started",
    "Order Completed", "Signed Up",      "Logged In",     "Search",        "Video Played",
    "Item Shared",     "Coupon Applied", "Plan Upgraded", "Review Posted", "App Opened"};
constexpr const char* kBrowsers[] = {"Chrome", "Safari", "Firefox", "Edge", "Samsung Internet"};
constexpr const char* kOses[] = {"Mac OS X", "Windows", "iOS", "Android", "Linux"};
constexpr const char* kSources[] = {"google", "newsletter", "facebook", "direct", "partner"};
constexpr const char* kCountries[] = {"US", "DE", "FR", "GB", "IN", "BR", "JP", "CA"};
constexpr const char* kCategories[] = {"shoes", "outerwear", "accessories",
                                       "kids",  "sale",      "new-arrivals"};
constexpr const char* kCurrencies[] = {"USD", "EUR", "GBP"};
constexpr int64_t kThreeDaysMs = 3LL * 24 * 3600 * 1000;
constexpr uint64_t kUsers = 50000;

template <size_t N>
const char* Pick(const char* const (&options)[N], std::mt19937_64& rng) {
  return options[rng() % N];
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

/// A decimal with two digits after the point, e.g. 129.90.
void AppendMoney(std::string& out, int64_t cents) {
  AppendInt(out, cents / 100);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + (cents % 100) / 10));
  out.push_back(static_cast<char>('0' + cents % 10));
}

void AppendHex(std::string& out, uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out.push_back(kHex[(v >> (4 * i)) & 0xf]);
}

void Key(std::string& out, const char* key) {
  if (!out.empty() && out.back() != '{' && out.back() != '[') out.push_back(',');
  out.push_back('"');
  out.append(key);
  out.append("\":");
}

void Str(std::string& out, const char* key, std::string_view value) {
  Key(out, key);
  out.push_back('"');
  out.append(value);
  out.push_back('"');
}

/// ISO-8601 UTC with milliseconds, as Segment libraries send timestamps.
std::string Iso8601(int64_t ms) {
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

const char* ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kMixpanelImport:
      return "mixpanel-import";
    case Protocol::kMixpanelTrack:
      return "mixpanel-track";
    case Protocol::kSegmentBatch:
      return "segment-batch";
    case Protocol::kNative:
      return "native";
  }
  return "?";
}

std::optional<Protocol> ProtocolFromName(std::string_view name) {
  for (Protocol p : {Protocol::kMixpanelImport, Protocol::kMixpanelTrack, Protocol::kSegmentBatch,
                     Protocol::kNative}) {
    if (name == ProtocolName(p)) return p;
  }
  return std::nullopt;
}

EventGenerator::EventGenerator(uint64_t seed, uint64_t first_index, int64_t now_ms)
    : rng_(seed * 0x9e3779b97f4a7c15ull + first_index), index_(first_index), now_ms_(now_ms) {}

Event EventGenerator::Next() {
  Event e;
  const uint64_t index = index_++;
  e.name = Pick(kEventNames, rng_);
  // Skewed population: half the traffic from the 1% most active users.
  const uint64_t user = (rng_() % 2 == 0) ? rng_() % (kUsers / 100) : rng_() % kUsers;
  e.distinct_id = "user-" + std::to_string(user);
  e.insert_id.reserve(36);
  AppendHex(e.insert_id, rng_(), 16);
  e.insert_id.push_back('-');
  AppendHex(e.insert_id, index, 16);
  e.time_ms = now_ms_ - static_cast<int64_t>(rng_() % kThreeDaysMs);

  std::string& p = e.properties;
  p.reserve(512);
  p.push_back('{');  // removed below; lets Key() see "start of object"
  Str(p, "$browser", Pick(kBrowsers, rng_));
  Str(p, "$os", Pick(kOses, rng_));
  Key(p, "$screen_width");
  AppendInt(p, 360 + static_cast<int64_t>(rng_() % 2200));
  Key(p, "$screen_height");
  AppendInt(p, 640 + static_cast<int64_t>(rng_() % 800));
  const uint64_t product = rng_() % 100000;
  Str(p, "$current_url", "https://shop.example.com/products/" + std::to_string(product));
  Str(p, "utm_source", Pick(kSources, rng_));
  Str(p, "country", Pick(kCountries, rng_));
  Str(p, "category", Pick(kCategories, rng_));
  Key(p, "product_id");
  AppendInt(p, static_cast<int64_t>(product));
  Key(p, "price");
  AppendMoney(p, 199 + static_cast<int64_t>(rng_() % 49800));
  Key(p, "quantity");
  AppendInt(p, 1 + static_cast<int64_t>(rng_() % 5));
  Key(p, "in_stock");
  p.append(rng_() % 10 != 0 ? "true" : "false");
  Key(p, "logged_in");
  p.append(rng_() % 3 != 0 ? "true" : "false");
  Key(p, "session_id");
  p.push_back('"');
  AppendHex(p, rng_(), 16);
  p.push_back('"');
  Key(p, "cart");
  p.push_back('{');
  Key(p, "items");
  AppendInt(p, static_cast<int64_t>(rng_() % 12));
  Key(p, "total");
  AppendMoney(p, static_cast<int64_t>(rng_() % 250000));
  Str(p, "currency", Pick(kCurrencies, rng_));
  p.push_back('}');
  Key(p, "tags");
  p.push_back('[');
  const int tags = 1 + static_cast<int>(rng_() % 3);
  for (int i = 0; i < tags; ++i) {
    if (i > 0) p.push_back(',');
    p.push_back('"');
    p.append(Pick(kCategories, rng_));
    p.push_back('"');
  }
  p.push_back(']');
  Str(p, "app_version", "4." + std::to_string(rng_() % 20) + "." + std::to_string(rng_() % 10));
  p.erase(0, 1);
  return e;
}

HttpRequestSpec BuildRequest(Protocol protocol, std::span<const Event> events,
                             std::string_view token) {
  HttpRequestSpec req;
  req.events = events.size();
  std::string& b = req.body;
  b.reserve(events.size() * 640 + 64);
  switch (protocol) {
    case Protocol::kMixpanelImport:
    case Protocol::kMixpanelTrack: {
      std::string array = "[";
      array.reserve(events.size() * 640 + 2);
      for (const Event& e : events) {
        if (array.size() > 1) array.push_back(',');
        array.append(R"({"event":")").append(e.name).append(R"(","properties":{"time":)");
        AppendInt(array, e.time_ms);
        array.append(R"(,"distinct_id":")").append(e.distinct_id);
        array.append(R"(","$insert_id":")").append(e.insert_id);
        array.append(R"(","token":")").append(token).append("\",");
        array.append(e.properties).append("}}");
      }
      array.push_back(']');
      if (protocol == Protocol::kMixpanelImport) {
        req.target = "/import?strict=1";
        req.content_type = "application/json";
        b = std::move(array);
      } else {
        // What the browser SDK sends: a form field holding base64 JSON.
        req.target = "/track";
        req.content_type = "application/x-www-form-urlencoded";
        b = "data=";
        for (char c : Base64(array)) {  // '+', '/' and '=' must be percent-encoded in a form
          if (c == '+')
            b.append("%2B");
          else if (c == '/')
            b.append("%2F");
          else if (c == '=')
            b.append("%3D");
          else
            b.push_back(c);
        }
      }
      break;
    }
    case Protocol::kSegmentBatch: {
      req.target = "/v1/batch";
      req.content_type = "application/json";
      req.authorization = "Basic " + Base64(std::string(token) + ":");
      b = R"({"batch":[)";
      bool first = true;
      for (const Event& e : events) {
        if (!first) b.push_back(',');
        first = false;
        b.append(R"({"type":"track","event":")").append(e.name);
        b.append(R"(","userId":")").append(e.distinct_id);
        b.append(R"(","messageId":")").append(e.insert_id);
        b.append(R"(","timestamp":")").append(Iso8601(e.time_ms));
        b.append(R"(","properties":{)").append(e.properties);
        b.append(R"(},"context":{"library":{"name":"analytics-node","version":"6.2.0"}}})");
      }
      b.append(R"(],"sentAt":")")
          .append(Iso8601(events.empty() ? 0 : events.back().time_ms))
          .append("\"}");
      break;
    }
    case Protocol::kNative: {
      req.target = "/v1/events";
      req.content_type = "application/x-ndjson";
      req.authorization = "Bearer " + std::string(token);
      for (const Event& e : events) {
        b.append(R"({"event":")").append(e.name).append(R"(","time":)");
        AppendInt(b, e.time_ms);
        b.append(R"(,"distinct_id":")").append(e.distinct_id);
        b.append(R"(","insert_id":")").append(e.insert_id);
        b.append(R"(","properties":{)").append(e.properties).append("}}\n");
      }
      break;
    }
  }
  return req;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace weir::bench
