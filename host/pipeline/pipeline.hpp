// host/pipeline/pipeline.hpp — pipeline definition files: one JSON file per pipeline.
//
// A pipeline moves one stream from a source plugin to a destination plugin. Definitions live
// as `<pipelines-dir>/<name>.json` and are parsed with simdjson. `${ENV_VAR}` references in
// string values of the plugin configs are resolved from the environment when the pipeline is
// loaded (`$${` writes a literal `${`), so secrets never need to be written into the file.
// The file's own fields are read with weir/config_json.hpp: unknown keys, keys given twice and
// strings with a NUL byte are refused. Every error names the file and the JSON path of the bad
// field:
//
//   pipelines/demo.json: $.batch.max_records: must be between 1 and 100000000
//   pipelines/demo.json: $.project: given more than once
//
//   auto p = weir::host::LoadPipelineFile("pipelines/demo.json", weir::host::ProcessEnv());
//   if (!p.ok()) { std::cerr << p.status().message() << "\n"; }
#ifndef WEIR_HOST_PIPELINE_PIPELINE_HPP
#define WEIR_HOST_PIPELINE_PIPELINE_HPP

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "weir/json.hpp"
#include "weir/plugin.hpp"

namespace weir::host {

/// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
/// The process environment.
EnvLookup ProcessEnv();

struct PluginRef {
  std::string plugin;       ///< plugin name, e.g. "s3"
  std::string config_json;  ///< config object with ${ENV} resolved: passed to the plugin only
  std::string config_raw;   ///< config object as written (safe to print: secrets unresolved)
};

struct Schedule {
  enum class Kind { kNone, kEvery, kDaily };
  Kind kind = Kind::kNone;
  int64_t every_seconds = 0;   ///< kEvery: the period, from "Nh" (1-23), "Nm" or "Ns" (1-59)
  std::string daily_at;        ///< kDaily: "HH:MM"
  std::string timezone = "UTC";  ///< IANA name, e.g. "Europe/Berlin"
  std::string ToString() const;
};

struct BatchLimits {
  uint64_t max_records = 100000;
  uint64_t max_bytes = 64ull << 20;  // 64 MiB: large enough to amortize a warehouse commit
};

struct RetryPolicy {
  int max_attempts = 6;        ///< attempts per operation, first one included
  int initial_backoff_ms = 500;
  int max_backoff_ms = 30000;
};

struct Pipeline {
  std::filesystem::path file;
  std::string name;     ///< [a-z0-9][a-z0-9_-]*, equals the file's stem
  std::string project;  ///< the project the data belongs to
  std::string stream;   ///< events | users | identities (or another stream both plugins declare)
  PluginRef source;
  PluginRef destination;
  Schedule schedule;
  /// Where the incremental export starts, fixed at the pipeline's first run or backfill:
  /// "beginning" (default: the oldest record; backfill then has nothing left to do) or "now"
  /// (what arrives after that moment; `weir backfill` exports the history before it, by day).
  std::string start = "beginning";
  BatchLimits batch;
  RetryPolicy retry;
};

/// Parses and validates one definition file. Plugins are not consulted here.
Result<Pipeline> LoadPipelineFile(const std::filesystem::path& file, const EnvLookup& env);

/// Every `*.json` file of `dir`, sorted by name: the pipelines that loaded and one error line
/// for each file that did not. A missing directory yields an error.
struct PipelineScan {
  std::vector<Pipeline> pipelines;
  std::vector<std::string> errors;
};
Result<PipelineScan> LoadPipelineDir(const std::filesystem::path& dir, const EnvLookup& env);

/// `name_or_file` is a pipeline name (looked up as `<dir>/<name>.json`) or a path to a file.
Result<Pipeline> FindPipeline(const std::filesystem::path& dir, const std::string& name_or_file,
                              const EnvLookup& env);

/// Parses `json` (a plugin config object given on the command line or in a file named
/// `origin`) and returns it compact with ${ENV} references resolved; errors name origin and path.
Result<std::string> ResolveConfigJson(std::string_view json, const std::string& origin,
                                      const EnvLookup& env);

/// True for a valid pipeline name: [a-z0-9][a-z0-9_-]*, at most 64 characters.
bool IsValidPipelineName(std::string_view name);

/// True for what may stand between ${ and } in a config string: [A-Za-z0-9_]+.
bool IsValidEnvName(std::string_view name);

using weir::JsonQuote;  // weir/json.hpp

}  // namespace weir::host

#endif  // WEIR_HOST_PIPELINE_PIPELINE_HPP
