// plugins/sdk-source/collector/normalize.cpp — times, canonical JSON, limits, insert_id.
#include "collector/normalize.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <stdexcept>

namespace weir::sdksource {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

/// Reads exactly `n` digits at `pos`.
bool Digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

/// Length of the valid UTF-8 character starting at s[i], or 0 if the bytes there are not one
/// (overlong forms, surrogates and code points past U+10FFFF are not).
size_t Utf8CharLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint32_t cp = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
    return 0;
  }
  return n;
}

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(out, ShownText(s, 64));
  return out;
}

std::optional<std::string> ParseIso8601(std::string_view s, int64_t& out_ms) {
  const std::string bad =
      "cannot parse " + Quoted(s) + " as a time (expected seconds, milliseconds or ISO-8601)";
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(s, pos, 4, year) || pos >= s.size() || s[pos++] != '-' || !Digits(s, pos, 2, month) ||
      pos >= s.size() || s[pos++] != '-' || !Digits(s, pos, 2, day)) {
    return bad;
  }
  int64_t millis = 0;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    ++pos;
    if (!Digits(s, pos, 2, hour) || pos >= s.size() || s[pos++] != ':' ||
        !Digits(s, pos, 2, minute)) {
      return bad;
    }
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!Digits(s, pos, 2, second)) return bad;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        size_t start = pos;
        int scale = 100;
        while (pos < s.size() && IsDigit(s[pos])) {
          millis += int64_t{s[pos] - '0'} * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) return bad;
      }
    }
  }
  int64_t offset_minutes = 0;
  if (pos < s.size()) {
    char c = s[pos];
    if ((c == 'Z' || c == 'z') && pos + 1 == s.size()) {
      ++pos;
    } else if (c == '+' || c == '-') {
      ++pos;
      int oh = 0, om = 0;
      if (!Digits(s, pos, 2, oh)) return bad;
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (pos < s.size() && !Digits(s, pos, 2, om)) return bad;
      if (oh > 23 || om > 59) return bad;
      offset_minutes = int64_t{c == '+' ? 1 : -1} * (oh * 60 + om);
    }
    if (pos != s.size()) return bad;
  }
  if (hour > 23 || minute > 59 || second > 60) return bad;
  namespace chr = std::chrono;
  chr::year_month_day ymd{chr::year{year}, chr::month{unsigned(month)}, chr::day{unsigned(day)}};
  if (!ymd.ok()) return "invalid date in " + Quoted(s);
  int64_t days = chr::sys_days(ymd).time_since_epoch().count();
  int64_t ms =
      ((days * 24 + hour) * 60 + minute - offset_minutes) * 60000 + int64_t(second) * 1000 + millis;
  if (ms < 0) return "time " + Quoted(s) + " is before 1970";
  if (ms > kMaxTimeMs) return "time " + Quoted(s) + " is after year 9999";
  out_ms = ms;
  return std::nullopt;
}

void AppendHex(std::string& out, const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 15]);
  }
}

void AppendLengthPrefixed(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out.push_back(':');
  out += s;
}

/// Sorted (key, value) pairs of an object; stable so duplicate keys keep their order and the
/// last one wins when written (as most JSON readers do).
void SortedFields(simdjson::dom::object object,
                  std::vector<std::pair<std::string_view, element>>& fields) {
  fields.clear();
  for (auto field : object) fields.emplace_back(field.key, field.value);
  std::stable_sort(fields.begin(), fields.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

}  // namespace

std::string ShownText(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes) + 3);
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8CharLength(s, i);
    const std::string_view ch = n == 0 ? std::string_view("\xef\xbf\xbd") : s.substr(i, n);
    if (out.size() + ch.size() > max_bytes) {
      out += "...";
      break;
    }
    out += ch;
    i += n == 0 ? 1 : n;
  }
  return out;
}

std::optional<std::string> TimeFromNumber(double value, int64_t& out_ms) {
  if (!std::isfinite(value)) return "time is not a finite number";
  if (value < 0) return "time must not be negative";
  double ms = value < kSecondsThreshold ? value * 1000.0 : value;
  if (ms > double(kMaxTimeMs)) {
    // The value as sent (shortest form: 1e+300, not a clamped integer), then what is allowed.
    char shown[40];
    const auto r = std::to_chars(shown, shown + sizeof shown, value);
    return "time " + std::string(shown, r.ptr) +
           " is out of range (expected seconds or milliseconds since 1970, up to "
           "9999-12-31T23:59:59.999Z)";
  }
  out_ms = std::llround(ms);
  return std::nullopt;
}

std::optional<std::string> TimeFromString(std::string_view text, int64_t& out_ms) {
  if (text.empty()) return "time is an empty string";
  // A plain decimal number in a string: "1700000000" or "1700000000.123".
  size_t digits = 0, dots = 0;
  for (char c : text) {
    if (IsDigit(c)) {
      ++digits;
    } else if (c == '.') {
      ++dots;
    } else {
      digits = 0;
      break;
    }
  }
  if (digits > 0 && dots <= 1 && text.size() <= 32 && text.front() != '.' && text.back() != '.') {
    double v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && ptr == text.data() + text.size()) return TimeFromNumber(v, out_ms);
  }
  return ParseIso8601(text, out_ms);
}

std::optional<std::string> TimeFromJson(element value, int64_t& out_ms) {
  switch (value.type()) {
    case element_type::INT64:
      return TimeFromNumber(double(int64_t(value)), out_ms);
    case element_type::UINT64:
      return TimeFromNumber(double(uint64_t(value)), out_ms);
    case element_type::DOUBLE:
      return TimeFromNumber(double(value), out_ms);
    case element_type::STRING:
      return TimeFromString(std::string_view(value), out_ms);
    default:
      return std::string("expected a number or an ISO-8601 string, found ") +
             JsonTypeWithArticle(value.type());
  }
}

void AppendJsonNumber(std::string& out, element number) {
  char buf[40];
  std::to_chars_result r{};
  switch (number.type()) {
    case element_type::INT64:
      r = std::to_chars(buf, buf + sizeof buf, int64_t(number));
      break;
    case element_type::UINT64:
      r = std::to_chars(buf, buf + sizeof buf, uint64_t(number));
      break;
    default:
      r = std::to_chars(buf, buf + sizeof buf, double(number));
      break;
  }
  out.append(buf, r.ptr);
}

void AppendCanonical(std::string& out, element value) {
  switch (value.type()) {
    case element_type::OBJECT: {
      std::vector<std::pair<std::string_view, element>> fields;
      SortedFields(simdjson::dom::object(value), fields);
      out.push_back('{');
      bool first = true;
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i + 1 < fields.size() && fields[i + 1].first == fields[i].first) continue;
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(out, fields[i].first);
        out.push_back(':');
        AppendCanonical(out, fields[i].second);
      }
      out.push_back('}');
      return;
    }
    case element_type::ARRAY: {
      out.push_back('[');
      bool first = true;
      for (element v : simdjson::dom::array(value)) {
        if (!first) out.push_back(',');
        first = false;
        AppendCanonical(out, v);
      }
      out.push_back(']');
      return;
    }
    case element_type::STRING:
      AppendJsonString(out, std::string_view(value));
      return;
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      AppendJsonNumber(out, value);
      return;
    case element_type::BOOL:
      out += bool(value) ? "true" : "false";
      return;
    case element_type::NULL_VALUE:
      out += "null";
      return;
  }
}

void PropertyBuilder::AddObject(simdjson::dom::object object,
                                std::initializer_list<std::string_view> skip) {
  for (auto field : object) {
    if (std::find(skip.begin(), skip.end(), field.key) != skip.end()) continue;
    Add(field.key, field.value);
  }
}

void PropertyBuilder::Add(std::string_view key, element value) {
  entries_.push_back(Entry{key, value, {}, false});
  ++counted_;
}

void PropertyBuilder::AddDerived(std::string_view key, element value) {
  entries_.push_back(Entry{key, value, {}, false});
}

void PropertyBuilder::AddDerivedString(std::string_view key, std::string_view value) {
  if (Has(key)) return;
  entries_.push_back(Entry{key, element(), value, true});
}

bool PropertyBuilder::Has(std::string_view key) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const Entry& e) { return e.key == key; });
}

std::optional<FieldError> PropertyBuilder::Check(element value, std::string& path,
                                                 uint64_t depth) const {
  switch (value.type()) {
    case element_type::STRING:
      if (std::string_view(value).size() > limits_.max_string_bytes) {
        return FieldError{path, "string of " + std::to_string(std::string_view(value).size()) +
                                    " bytes is longer than max_string_bytes (" +
                                    std::to_string(limits_.max_string_bytes) + ")"};
      }
      return std::nullopt;
    case element_type::OBJECT:
    case element_type::ARRAY: {
      if (depth > limits_.max_depth) {
        return FieldError{path, "nested " + std::to_string(depth) + " levels deep; max_depth is " +
                                    std::to_string(limits_.max_depth)};
      }
      size_t base = path.size();
      if (value.type() == element_type::OBJECT) {
        for (auto field : simdjson::dom::object(value)) {
          path.push_back('.');
          path.append(field.key);
          if (field.key.size() > limits_.max_string_bytes) {
            return FieldError{path, "key is longer than max_string_bytes (" +
                                        std::to_string(limits_.max_string_bytes) + ")"};
          }
          if (auto e = Check(field.value, path, depth + 1)) return e;
          path.resize(base);
        }
      } else {
        size_t i = 0;
        for (element v : simdjson::dom::array(value)) {
          path += "[" + std::to_string(i++) + "]";
          if (auto e = Check(v, path, depth + 1)) return e;
          path.resize(base);
        }
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<FieldError> PropertyBuilder::Write(std::string& out, std::string_view prefix) {
  if (counted_ > limits_.max_properties) {
    return FieldError{std::string(prefix), "has " + std::to_string(counted_) +
                                               " properties; max_properties is " +
                                               std::to_string(limits_.max_properties)};
  }
  std::string path;
  for (const Entry& e : entries_) {
    path.assign(prefix);
    path.push_back('.');
    path.append(e.key);
    if (e.key.size() > limits_.max_string_bytes) {
      return FieldError{path, "key is longer than max_string_bytes (" +
                                  std::to_string(limits_.max_string_bytes) + ")"};
    }
    if (e.is_text) continue;
    if (auto problem = Check(e.value, path, 1)) return problem;
  }
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const Entry& a, const Entry& b) { return a.key < b.key; });
  out.push_back('{');
  bool first = true;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (i + 1 < entries_.size() && entries_[i + 1].key == entries_[i].key) continue;
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, entries_[i].key);
    out.push_back(':');
    if (entries_[i].is_text) {
      AppendJsonString(out, entries_[i].text);
    } else {
      AppendCanonical(out, entries_[i].value);
    }
  }
  out.push_back('}');
  return std::nullopt;
}

std::string DeriveInsertId(std::string_view project, std::string_view event,
                           std::string_view distinct_id, int64_t time_ms,
                           std::string_view canonical_properties) {
  // Fetched once: an implicit fetch per call would take OpenSSL's provider lock every time.
  // Lives for the process (OpenSSL frees it at exit).
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::string input;
  input.clear();
  AppendLengthPrefixed(input, project);
  AppendLengthPrefixed(input, "events");
  AppendLengthPrefixed(input, event);
  AppendLengthPrefixed(input, distinct_id);
  AppendLengthPrefixed(input, std::to_string(time_ms));
  AppendLengthPrefixed(input, canonical_properties);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string out;
  if (sha256 == nullptr ||
      EVP_Digest(input.data(), input.size(), digest, &len, sha256, nullptr) != 1 || len < 16) {
    // Unreachable with a working libcrypto; fail loudly rather than emit colliding ids.
    throw std::runtime_error("SHA-256 is unavailable in libcrypto");
  }
  AppendHex(out, digest, 16);
  return out;
}

std::string WriteEvent(std::string_view event, int64_t time_ms, std::string_view distinct_id,
                       std::string_view insert_id, std::string_view properties_json) {
  std::string out;
  out.reserve(64 + event.size() + distinct_id.size() + insert_id.size() + properties_json.size());
  out += "{\"event\":";
  AppendJsonString(out, event);
  out += ",\"time\":";
  out += std::to_string(time_ms);
  out += ",\"distinct_id\":";
  AppendJsonString(out, distinct_id);
  out += ",\"insert_id\":";
  AppendJsonString(out, insert_id);
  out += ",\"properties\":";
  out += properties_json;
  out.push_back('}');
  return out;
}

std::string WriteIdentity(std::string_view distinct_id, std::string_view user_id, int64_t time_ms) {
  std::string out = "{\"distinct_id\":";
  AppendJsonString(out, distinct_id);
  out += ",\"user_id\":";
  AppendJsonString(out, user_id);
  out += ",\"time\":";
  out += std::to_string(time_ms);
  out.push_back('}');
  return out;
}

std::optional<FieldError> ReadId(simdjson::simdjson_result<element> value, std::string_view field,
                                 const Limits& limits, bool required, std::string& out) {
  out.clear();
  element v;
  if (value.get(v) != simdjson::SUCCESS || v.type() == element_type::NULL_VALUE) {
    if (required) return FieldError{std::string(field), "missing"};
    return std::nullopt;
  }
  switch (v.type()) {
    case element_type::STRING:
      out.assign(std::string_view(v));
      break;
    case element_type::INT64:
      out = std::to_string(int64_t(v));
      break;
    case element_type::UINT64:
      out = std::to_string(uint64_t(v));
      break;
    default:
      return FieldError{std::string(field),
                        std::string("expected a string, found ") + JsonTypeWithArticle(v.type())};
  }
  if (out.size() > limits.max_name_bytes) {
    return FieldError{std::string(field),
                      "longer than max_name_bytes (" + std::to_string(limits.max_name_bytes) + ")"};
  }
  return std::nullopt;
}

}  // namespace weir::sdksource
