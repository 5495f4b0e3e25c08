// sdk/include/weir/config_json.hpp — strict reading of a plugin's JSON config with simdjson.
//
// Optional part of the SDK: include it only in a plugin that links simdjson (every weir plugin
// does; a third party need not). A plugin config is a JSON object whose keys the plugin knows;
// this header parses it with simdjson's DOM API and turns every problem into
// WEIR_INVALID_CONFIG naming the field in the form the host shows an operator, e.g.
// "config.path: expected a string, got number". Unknown and duplicate keys are refused, so a
// typo ("delay" for "delay_ms") is never silently ignored.
//
//   simdjson::dom::parser parser;
//   simdjson::dom::object obj;
//   WEIR_RETURN_NOT_OK(weir::ParseConfigObject(parser, config, {"path", "delay_ms"}, &obj));
#ifndef WEIR_CONFIG_JSON_HPP
#define WEIR_CONFIG_JSON_HPP

#include <simdjson.h>

#include <initializer_list>
#include <set>
#include <string>
#include <string_view>

#include "weir/plugin.hpp"

namespace weir {

/// The JSON type of `element` as an operator would say it ("string", "number", ...).
inline const char* JsonTypeName(const simdjson::dom::element& element) {
  switch (element.type()) {
    case simdjson::dom::element_type::ARRAY: return "array";
    case simdjson::dom::element_type::OBJECT: return "object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE: return "number";
    case simdjson::dom::element_type::STRING: return "string";
    case simdjson::dom::element_type::BOOL: return "boolean";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "unknown";
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
Status ParseConfigObject(simdjson::dom::parser& parser, std::string_view config,
                         const Keys& known, simdjson::dom::object* out) {
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

}  // namespace weir

#endif  // WEIR_CONFIG_JSON_HPP
