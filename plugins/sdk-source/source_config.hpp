// plugins/sdk-source/source_config.hpp — the sdk-source plugin's config object.
//
// The source reads the store the collector writes for one project, so its config names the
// collector's data directory and the project:
//
//   {"data_dir": "/var/lib/weir/sdk-source", "project": "demo", "retention_days": 30}
//
// `retention_days` is accepted (so the collector and the pipeline can share one config block)
// and ignored: retention is applied by the store's writer, never by a reader. Every problem is
// WEIR_INVALID_CONFIG naming the field ("config.project: required (a string)"); unknown and
// duplicate keys are rejected so a typo is never silently ignored.
//
//   WEIR_ASSIGN_OR_RETURN(SourceConfig config, ParseSourceConfig(json));
//   auto store = Store::OpenReadOnly({.dir = config.StoreDir()});
#ifndef WEIR_PLUGINS_SDK_SOURCE_SOURCE_CONFIG_HPP
#define WEIR_PLUGINS_SDK_SOURCE_SOURCE_CONFIG_HPP

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "weir/plugin.hpp"

namespace weir::sdksource {

/// The JSON Schema (draft 2020-12) of the config, as published in the plugin descriptor.
extern const char* const kSourceConfigSchema;

/// A validated config.
struct SourceConfig {
  std::filesystem::path data_dir;  ///< the collector's data directory (non-empty)
  std::string project;             ///< one path component: no '/', not "." or ".."
  int64_t retention_days = 0;      ///< accepted, not used by the reader

  /// The project's store directory, data_dir/project.
  std::filesystem::path StoreDir() const { return data_dir / project; }
};

/// Parses and validates `json`; errors are WEIR_INVALID_CONFIG naming the field.
Result<SourceConfig> ParseSourceConfig(std::string_view json);

}  // namespace weir::sdksource

#endif  // WEIR_PLUGINS_SDK_SOURCE_SOURCE_CONFIG_HPP
