// plugins/sdk-source/source_config.cpp — parsing and validating the sdk-source config.
//
// simdjson's DOM API is plenty for a config of three keys; every failure names the field in
// the form the host shows an operator ("config.data_dir: expected a string, got number").
#include "source_config.hpp"


#include <simdjson.h>

#include <string>
#include <string_view>

#include "weir/config_json.hpp"

namespace weir::sdksource {

const char* const kSourceConfigSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "sdk-source",
  "description": "Reads events, user profile snapshots and identity mappings from the store the weir-collector writes for one project.",
  "type": "object",
  "additionalProperties": false,
  "required": ["data_dir", "project"],
  "properties": {
    "data_dir": {
      "type": "string",
      "minLength": 1,
      "description": "The collector's data directory (its config's data_dir); the store is <data_dir>/<project>."
    },
    "project": {
      "type": "string",
      "minLength": 1,
      "pattern": "^[^/]+$",
      "description": "The project whose store to read: one directory name, not '.' or '..'."
    },
    "retention_days": {
      "type": "integer",
      "minimum": 0,
      "description": "Accepted so the collector's project block can be shared; ignored by the reader (the collector applies retention)."
    }
  }
})json";

namespace {

constexpr std::string_view kKnownKeys[] = {"data_dir", "project", "retention_days"};
/// Far beyond any sensible retention, small enough that days * 86400000 fits an int64.
constexpr int64_t kMaxRetentionDays = 1000000;
Result<std::string> RequiredString(const simdjson::dom::object& obj, const char* key) {
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
  if (s.find('\0') != std::string_view::npos) {
    return Status::InvalidConfig(std::string("config.") + key + ": must not contain a NUL byte");
  }
  return std::string(s);
}

}  // namespace

Result<SourceConfig> ParseSourceConfig(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  WEIR_RETURN_NOT_OK(ParseConfigObject(parser, json, kKnownKeys, &obj));

  SourceConfig config;
  WEIR_ASSIGN_OR_RETURN(std::string data_dir, RequiredString(obj, "data_dir"));
  config.data_dir = std::move(data_dir);
  WEIR_ASSIGN_OR_RETURN(config.project, RequiredString(obj, "project"));
  if (config.project.find('/') != std::string::npos || config.project == "." ||
      config.project == "..") {
    return Status::InvalidConfig("config.project: '" + config.project +
                                 "' is not a project name (one directory name: no '/', not "
                                 "'.' or '..')");
  }

  simdjson::dom::element retention;
  if (obj.at_key("retention_days").get(retention) == simdjson::SUCCESS) {
    int64_t days = 0;
    if (retention.type() == simdjson::dom::element_type::UINT64)
      days = -1;  // beyond int64
    else if (retention.type() != simdjson::dom::element_type::INT64 ||
             retention.get_int64().get(days) != simdjson::SUCCESS) {
      return Status::InvalidConfig(std::string("config.retention_days: expected an integer, got ") +
                                   JsonTypeName(retention));
    }
    if (days < 0 || days > kMaxRetentionDays) {
      return Status::InvalidConfig("config.retention_days: must be between 0 and " +
                                   std::to_string(kMaxRetentionDays));
    }
    config.retention_days = days;
  }
  return config;
}

}  // namespace weir::sdksource
