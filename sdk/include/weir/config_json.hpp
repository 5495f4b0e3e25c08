// sdk/include/weir/config_json.hpp — strict reading of a plugin's JSON config with simdjson.
//
// Optional part of the SDK: include it only in a plugin that links simdjson (every weir plugin
// does; a third party need not). A plugin config is a JSON object whose keys the plugin knows;
// this header parses it with simdjson's DOM API and turns every problem into
// WEIR_INVALID_CONFIG naming the field in the form the host shows an operator, e.g.
// "config.path: expected a string, got number". Unknown and duplicate keys are refused, so a
// typo ("delay" for "delay_ms") is never silently ignored.
//
// The typed getters below read one field each (a string, an integer, a boolean, an array of
// strings), with one wording for every plugin ("config.delay_ms: must be between 0 and
// 60000"); they never echo a string value, which may be a secret.
//
//   simdjson::dom::parser parser;
//   simdjson::dom::object obj;
//   WEIR_RETURN_NOT_OK(weir::ParseConfigObject(parser, config, {"path", "delay_ms"}, &obj));
//   WEIR_ASSIGN_OR_RETURN(std::string path, weir::RequiredString(obj, "config.", "path"));
//   WEIR_ASSIGN_OR_RETURN(int64_t delay_ms,
//                         weir::OptionalInt(obj, "config.", "delay_ms", 0, 0, 60000));
#ifndef WEIR_CONFIG_JSON_HPP
#define WEIR_CONFIG_JSON_HPP

#include <simdjson.h>

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weir/plugin.hpp"

namespace weir {

/// The JSON type of `element` as an operator would say it ("string", "number", ...).
inline const char* JsonTypeName(const simdjson::dom::element& element) {
  switch (element.type()) {
    case simdjson::dom::element_type::ARRAY:
      return "array";
    case simdjson::dom::element_type::OBJECT:
      return "object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      return "number";
    case simdjson::dom::element_type::STRING:
      return "string";
    case simdjson::dom::element_type::BOOL:
      return "boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

/// The JSON type `type` with its article, for prose messages ("expected an object, found an
/// array"): "an array", "an object", "an integer" (INT64 and UINT64), "a number" (DOUBLE),
/// "a string", "a boolean", "null". Never null; the string is static.
inline const char* JsonTypeWithArticle(simdjson::dom::element_type type) {
  switch (type) {
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
      return "an integer";
    case simdjson::dom::element_type::DOUBLE:
      return "a number";
    case simdjson::dom::element_type::STRING:
      return "a string";
    case simdjson::dom::element_type::BOOL:
      return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

/// Refuses keys of `obj` that are not in `known` (listed, in `known`'s order, in the message)
/// and keys given twice. `where` prefixes the key in messages: "config." or "config.tables.".
template <typename Keys>
Status CheckConfigKeys(const simdjson::dom::object& obj, std::string_view where,
                       const Keys& known) {
  std::set<std::string_view> seen;
  for (simdjson::dom::key_value_pair field : obj) {
    bool is_known = false;
    for (const auto& k : known) is_known = is_known || std::string_view(k) == field.key;
    if (!is_known) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return Status::InvalidConfig(std::string(where) + std::string(field.key) +
                                   ": unknown key (known keys: " + list + ")");
    }
    if (!seen.insert(field.key).second) {
      return Status::InvalidConfig(std::string(where) + std::string(field.key) +
                                   ": given more than once");
    }
  }
  return Status::OK();
}

/// As above, with the known keys written inline: CheckConfigKeys(obj, "config.", {"a", "b"}).
inline Status CheckConfigKeys(const simdjson::dom::object& obj, std::string_view where,
                              std::initializer_list<std::string_view> known) {
  return CheckConfigKeys<std::initializer_list<std::string_view>>(obj, where, known);
}

/// Parses `config` into `*out` (valid as long as `parser` is untouched): a JSON object whose
/// keys are all in `known`, each at most once.
template <typename Keys>
Status ParseConfigObject(simdjson::dom::parser& parser, std::string_view config, const Keys& known,
                         simdjson::dom::object* out) {
  simdjson::dom::element root;
  if (auto error = parser.parse(config.data(), config.size()).get(root); error) {
    return Status::InvalidConfig(std::string("config: not valid JSON (") +
                                 simdjson::error_message(error) + ")");
  }
  if (root.type() != simdjson::dom::element_type::OBJECT) {
    return Status::InvalidConfig(std::string("config: expected a JSON object, got ") +
                                 JsonTypeName(root));
  }
  simdjson::dom::object obj = root.get_object().value_unsafe();
  WEIR_RETURN_NOT_OK(CheckConfigKeys(obj, "config.", known));
  *out = obj;
  return Status::OK();
}

/// As above, with the known keys written inline: ParseConfigObject(p, c, {"a", "b"}, &obj).
inline Status ParseConfigObject(simdjson::dom::parser& parser, std::string_view config,
                                std::initializer_list<std::string_view> known,
                                simdjson::dom::object* out) {
  return ParseConfigObject<std::initializer_list<std::string_view>>(parser, config, known, out);
}

namespace internal {

/// WEIR_INVALID_CONFIG "<where><key>: <what>".
inline Status ConfigFieldError(std::string_view where, const char* key, std::string_view what) {
  std::string message(where);
  message += key;
  message += ": ";
  message += what;
  return Status::InvalidConfig(std::move(message));
}

/// The string `value` of the field `key`, checked; see OptionalString.
inline Result<std::string> ConfigString(const simdjson::dom::element& value, std::string_view where,
                                        const char* key, bool allow_empty) {
  if (value.type() != simdjson::dom::element_type::STRING) {
    return ConfigFieldError(where, key,
                            std::string("expected a string, got ") + JsonTypeName(value));
  }
  std::string_view s = value.get_string().value_unsafe();
  if (s.empty() && !allow_empty) return ConfigFieldError(where, key, "must not be empty");
  // Config strings become paths, SQL identifiers and connection strings, where an embedded NUL
  // would silently cut the value short.
  if (s.find('\0') != std::string_view::npos) {
    return ConfigFieldError(where, key, "must not contain a NUL byte");
  }
  return std::string(s);
}

}  // namespace internal

// The typed getters. Each reads the field `key` of `obj` (from ParseConfigObject or a nested
// object); `where` prefixes `key` in messages, as in CheckConfigKeys: "config." or
// "config.tables.". Errors are WEIR_INVALID_CONFIG; no message contains a string value.

/// The string at `key`: required, non-empty, without a NUL byte. Messages:
/// "<where><key>: required (a string)", "...: expected a string, got number",
/// "...: must not be empty", "...: must not contain a NUL byte".
inline Result<std::string> RequiredString(const simdjson::dom::object& obj, std::string_view where,
                                          const char* key) {
  simdjson::dom::element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS) {
    return internal::ConfigFieldError(where, key, "required (a string)");
  }
  return internal::ConfigString(value, where, key, /*allow_empty=*/false);
}

/// The string at `key`, or `fallback` (returned unchecked) when the key is absent. An empty
/// string is refused unless `allow_empty`; other messages as RequiredString's.
inline Result<std::string> OptionalString(const simdjson::dom::object& obj, std::string_view where,
                                          const char* key, std::string fallback,
                                          bool allow_empty = false) {
  simdjson::dom::element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS) return fallback;
  return internal::ConfigString(value, where, key, allow_empty);
}

/// The integer at `key`, within [min, max], or `fallback` (returned unchecked) when the key is
/// absent. Messages: "<where><key>: expected an integer, got string", "...: expected an
/// integer, got number with a fraction" (any JSON number simdjson reads as a double, 1.5 or
/// 1e3), "...: must be between <min> and <max>" (also for integers beyond int64).
inline Result<int64_t> OptionalInt(const simdjson::dom::object& obj, std::string_view where,
                                   const char* key, int64_t fallback, int64_t min, int64_t max) {
  simdjson::dom::element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS) return fallback;
  const auto type = value.type();
  if (type != simdjson::dom::element_type::INT64 && type != simdjson::dom::element_type::UINT64) {
    return internal::ConfigFieldError(
        where, key,
        std::string("expected an integer, got ") + JsonTypeName(value) +
            (type == simdjson::dom::element_type::DOUBLE ? " with a fraction" : ""));
  }
  int64_t n = 0;
  // UINT64 is simdjson's type for integers above INT64_MAX only: beyond any int64 `max`.
  if (type == simdjson::dom::element_type::UINT64 ||
      value.get_int64().get(n) != simdjson::SUCCESS || n < min || n > max) {
    return internal::ConfigFieldError(
        where, key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return n;
}

/// The array of strings at `key`, or an empty vector when the key is absent. Each element is
/// checked as RequiredString checks a value (non-empty unless `allow_empty`, no NUL byte), and
/// named by its index. Messages: "<where><key>: expected an array of strings, got object",
/// "<where><key>[2]: expected a string, got number", "...[0]: must not be empty",
/// "...[0]: must not contain a NUL byte". Duplicates are the caller's to judge.
inline Result<std::vector<std::string>> OptionalStringArray(const simdjson::dom::object& obj,
                                                            std::string_view where, const char* key,
                                                            bool allow_empty = false) {
  std::vector<std::string> out;
  simdjson::dom::element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS) return out;
  if (value.type() != simdjson::dom::element_type::ARRAY) {
    return internal::ConfigFieldError(
        where, key, std::string("expected an array of strings, got ") + JsonTypeName(value));
  }
  const simdjson::dom::array items = value.get_array().value_unsafe();
  size_t index = 0;
  for (simdjson::dom::element item : items) {
    const std::string name = std::string(key) + "[" + std::to_string(index++) + "]";
    auto s = internal::ConfigString(item, where, name.c_str(), allow_empty);
    if (!s.ok()) return s.status();
    out.push_back(std::move(s).value());
  }
  return out;
}

/// The boolean at `key`, or `fallback` when the key is absent. Message:
/// "<where><key>: expected a boolean, got string".
inline Result<bool> OptionalBool(const simdjson::dom::object& obj, std::string_view where,
                                 const char* key, bool fallback) {
  simdjson::dom::element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS) return fallback;
  if (value.type() != simdjson::dom::element_type::BOOL) {
    return internal::ConfigFieldError(
        where, key, std::string("expected a boolean, got ") + JsonTypeName(value));
  }
  return value.get_bool().value_unsafe();
}

}  // namespace weir

#endif  // WEIR_CONFIG_JSON_HPP
