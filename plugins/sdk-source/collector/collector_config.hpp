// plugins/sdk-source/collector/collector_config.hpp — the collector's configuration: where the
// stores live, where to listen, which tokens / write keys belong to which project, and limits.
//
// The configuration is one JSON object (docs/sdk-source.md has the full reference):
//
//   {"data_dir": "/var/lib/weir/sdk-source", "listen": "127.0.0.1:8080", "threads": 2,
//    "projects": {"demo": {"tokens": ["abc"], "write_keys": ["wk"]}},
//    "limits": {"max_body_bytes": 10485760}, "retention_days": 0}
//
// Secrets (tokens, write keys) arrive as plain values: whoever hands the JSON over resolves
// ${ENV} references first. No error message produced here ever contains a secret.
//
//   auto config = weir::sdksource::ParseCollectorConfig(json_text);
//   if (!config.ok()) return config.status();   // "config.listen: port must be a number"
#ifndef WEIR_SDK_SOURCE_COLLECTOR_COLLECTOR_CONFIG_HPP
#define WEIR_SDK_SOURCE_COLLECTOR_COLLECTOR_CONFIG_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "weir/plugin.hpp"

namespace weir::sdksource {

/// Request and record limits. Every limit is checked before anything is stored.
struct Limits {
  /// A request body larger than this (as sent, before decompression) gets 413.
  uint64_t max_body_bytes = 10ull << 20;
  /// A compressed body that inflates past this gets 413 (gzip bombs stop here).
  uint64_t max_decompressed_bytes = 50ull << 20;
  /// The request line plus headers (a Mixpanel GET carries its data in the query string).
  uint64_t max_header_bytes = 1ull << 20;
  /// More records than this in one request gets 400 (nothing stored).
  uint64_t max_records_per_request = 2000;
  /// Top-level keys in one record's properties (or in one profile operation's argument).
  uint64_t max_properties = 255;
  /// Nesting levels of objects/arrays inside properties: a property whose value is an object or
  /// array is level 1, an object inside it level 2, and so on.
  uint64_t max_depth = 3;
  /// Bytes of any one string (key or value) inside properties.
  uint64_t max_string_bytes = 256ull << 10;
  /// Bytes of an event name, distinct_id, user_id or insert_id.
  uint64_t max_name_bytes = 255;
};

struct ProjectConfig {
  std::string name;
  std::vector<std::string> tokens;      ///< Mixpanel project tokens; native Bearer/Basic tokens
  std::vector<std::string> write_keys;  ///< Segment write keys
};

struct CollectorConfig {
  /// Each project's store lives in data_dir/<project>.
  std::filesystem::path data_dir;
  /// Address to listen on (IPv4 or IPv6 literal); port 0 lets the OS pick a free port.
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 8080;
  /// I/O threads (accepting, reading, writing).
  int threads = 2;
  /// Worker threads that parse requests and wait for Store::Append. Several appends in flight
  /// let the store share one fsync among them (group commit).
  int workers = 16;
  /// Passed to each project's store; 0 keeps everything.
  int retention_days = 0;
  Limits limits;
  std::vector<ProjectConfig> projects;

  /// The project owning `token`, or nullptr. The returned pointer lives as long as the config.
  const std::string* ProjectForToken(std::string_view token) const;
  /// The project owning the Segment write key `key`, or nullptr.
  const std::string* ProjectForWriteKey(std::string_view key) const;

  /// Filled by ParseCollectorConfig (or call BuildIndex after editing `projects` by hand).
  void BuildIndex();

 private:
  /// A credential by its SHA-256 only: lookups hash what a client sent and compare it with
  /// every entry in constant time (CRYPTO_memcmp, no early exit), so neither the time a
  /// lookup takes nor a hash table's probing tells a client how much of a guess was right.
  struct Credential {
    std::array<unsigned char, 32> digest{};
    std::string project;
  };
  static const std::string* Lookup(const std::vector<Credential>& credentials,
                                   std::string_view secret);
  std::vector<Credential> tokens_;
  std::vector<Credential> write_keys_;
};

/// Parses and validates the configuration with the SDK's getters (weir/config_json.hpp).
/// Errors are InvalidConfig and name the field as the host shows plugin config errors
/// ("config.limits.max_depth: must be between 0 and 64"). Unknown and duplicate keys are
/// errors (typos would otherwise silently fall back to defaults), as are strings with a NUL
/// byte, project names outside IsValidProjectName (store/store.hpp), and a token or write key
/// used twice.
Result<CollectorConfig> ParseCollectorConfig(std::string_view json);

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_COLLECTOR_COLLECTOR_CONFIG_HPP
