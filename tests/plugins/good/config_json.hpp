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

#include "weir/config_json.hpp"
#include "weir/plugin.hpp"

namespace weir::testplugins {

using weir::JsonTypeName;       // weir/config_json.hpp
using weir::ParseConfigObject;  // weir/config_json.hpp

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
