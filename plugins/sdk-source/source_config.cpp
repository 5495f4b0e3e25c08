// plugins/sdk-source/source_config.cpp — parsing and validating the sdk-source config.
//
// simdjson's DOM API is plenty for a config of three keys; every failure names the field in
// the form the host shows an operator ("config.data_dir: expected a string, got number").
#include "source_config.hpp"

#include <simdjson.h>

#include <string>
#include <string_view>

#include "store/store.hpp"
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
      "maxLength": 128,
      "pattern": "^[A-Za-z0-9_.-]+$",
      "description": "The project whose store to read, as named in the collector's config: 1 to 128 letters, digits, '_', '-' or '.', not '.' or '..' (it names the store's directory)."
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

}  // namespace

Result<SourceConfig> ParseSourceConfig(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  WEIR_RETURN_NOT_OK(ParseConfigObject(parser, json, kKnownKeys, &obj));

  SourceConfig config;
  WEIR_ASSIGN_OR_RETURN(std::string data_dir, RequiredString(obj, "config.", "data_dir"));
  config.data_dir = std::move(data_dir);
  WEIR_ASSIGN_OR_RETURN(config.project, RequiredString(obj, "config.", "project"));
  // The collector's rule: a name it could never have created a store for is a typo.
  if (!IsValidProjectName(config.project)) {
    return Status::InvalidConfig("config.project: '" + config.project +
                                 "' is not a project name (" + kProjectNameRule + ")");
  }

  WEIR_ASSIGN_OR_RETURN(config.retention_days,
                        OptionalInt(obj, "config.", "retention_days", 0, 0, kMaxRetentionDays));
  return config;
}

}  // namespace weir::sdksource
