// tests/plugins/good/config_json.hpp — strict config-object reading for the file test plugins.
//
// Both file plugins take a small flat JSON object as config. This header parses it with
// simdjson's DOM API and turns every problem into WEIR_INVALID_CONFIG naming the field, in the
// form the host shows an operator: "config.path: expected a string, got number". Unknown and
// duplicate keys are rejected too, so a typo ("delay" for "delay_ms") is never silently ignored.
//
//   simdjson::dom::parser parser;
//   simdjson::dom::object obj;
//   WEIR_RETURN_NOT_OK(weir::testplugins::ParseConfigObject(parser, config, {"path"}, &obj));
//   WEIR_ASSIGN_OR_RETURN(std::string path, weir::testplugins::RequiredString(obj, "path"));
#ifndef WEIR_TESTS_PLUGINS_GOOD_CONFIG_JSON_HPP
#define WEIR_TESTS_PLUGINS_GOOD_CONFIG_JSON_HPP

#include <simdjson.h>

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>

#include "weir/plugin.hpp"

namespace weir::testplugins {

/// The JSON type name of `element` as an operator would say it ("string", "number", ...).
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

/// Parses `config` into `*out` (valid as long as `parser` is untouched) and rejects anything but
/// a JSON object whose keys are all in `known_keys`, each at most once.
inline Status ParseConfigObject(simdjson::dom::parser& parser, std::string_view config,
                                std::initializer_list<std::string_view> known_keys,
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
  std::set<std::string_view> seen;
  for (simdjson::dom::key_value_pair field : obj) {
    bool known = false;
    for (std::string_view k : known_keys) known = known || k == field.key;
    if (!known) {
      std::string list;
      for (std::string_view k : known_keys) list += (list.empty() ? "" : ", ") + std::string(k);
      return Status::InvalidConfig("config." + std::string(field.key) +
                                   ": unknown key (known keys: " + list + ")");
    }
    if (!seen.insert(field.key).second) {
      return Status::InvalidConfig("config." + std::string(field.key) + ": given more than once");
    }
  }
  *out = obj;
  return Status::OK();
}

/// The required non-empty string at `key`.
inline Result<std::string> RequiredString(const simdjson::dom::object& obj, const char* key) {
  simdjson::dom::element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS) {
    return Status::InvalidConfig(std::string("config.") + key + ": required (a string)");
  }
  if (value.type() != simdjson::dom::element_type::STRING) {
    return Status::InvalidConfig(std::string("config.") + key + ": expected a string, got " +
                                 JsonTypeName(value));
  }
  std::string_view s = value.get_string().value_unsafe();
  if (s.empty()) return Status::InvalidConfig(std::string("config.") + key + ": must not be empty");
  return std::string(s);
}

/// The optional integer at `key` in [0, max_value], or `default_value` when absent.
inline Result<int64_t> OptionalCount(const simdjson::dom::object& obj, const char* key,
                                     int64_t default_value, int64_t max_value) {
  simdjson::dom::element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS) return default_value;
  const auto type = value.type();
  if (type != simdjson::dom::element_type::INT64 && type != simdjson::dom::element_type::UINT64) {
    return Status::InvalidConfig(
        std::string("config.") + key + ": expected an integer, got " + JsonTypeName(value) +
        (type == simdjson::dom::element_type::DOUBLE ? " with a fraction" : ""));
  }
  int64_t n = 0;
  if (type == simdjson::dom::element_type::UINT64 ||
      value.get_int64().get(n) != simdjson::SUCCESS || n < 0 || n > max_value) {
    return Status::InvalidConfig(std::string("config.") + key + ": must be between 0 and " +
                                 std::to_string(max_value));
  }
  return n;
}

/// The optional boolean at `key`, or `default_value` when absent.
inline Result<bool> OptionalBool(const simdjson::dom::object& obj, const char* key,
                                 bool default_value) {
  simdjson::dom::element value;
  if (obj.at_key(key).get(value) != simdjson::SUCCESS) return default_value;
  if (value.type() != simdjson::dom::element_type::BOOL) {
    return Status::InvalidConfig(std::string("config.") + key + ": expected a boolean, got " +
                                 JsonTypeName(value));
  }
  return value.get_bool().value_unsafe();
}

}  // namespace weir::testplugins

#endif  // WEIR_TESTS_PLUGINS_GOOD_CONFIG_JSON_HPP
