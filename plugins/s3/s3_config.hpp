// plugins/s3/s3_config.hpp — the s3 destination's configuration: parsing, validation, schema.
//
// The pipeline's destination config is one flat JSON object (parsed with simdjson). Every
// problem becomes WEIR_INVALID_CONFIG naming the field ("config.compression: expected one of
// \"gzip\", \"zstd\", \"none\", got \"gz\""); unknown keys are refused so a typo never silently
// falls back to a default. Secret values (secret_access_key, session_token) never appear in a
// message. The reference for operators is docs/s3.md and kExportConfigSchema below.
//
//   WEIR_ASSIGN_OR_RETURN(weir::s3::ExportConfig config, weir::s3::ParseExportConfig(json));
//   if (config.scheme == weir::s3::ExportConfig::Scheme::kS3) { ... MakeS3Config(config, creds) }
#ifndef WEIR_S3_S3_CONFIG_HPP
#define WEIR_S3_S3_CONFIG_HPP

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "object_store.hpp"
#include "weir/plugin.hpp"

namespace weir::s3 {

enum class Compression { kGzip, kZstd, kNone };
enum class Granularity { kHourly, kDaily };

/// Defaults and limits, shared by the parser, the schema and the docs.
inline constexpr uint64_t kDefaultMaxObjectBytes = 32ull << 20;
inline constexpr uint64_t kMinMaxObjectBytes = 1024;
inline constexpr uint64_t kMaxMaxObjectBytes = 4ull << 30;
inline constexpr uint64_t kDefaultPartSize = 8ull << 20;
inline constexpr uint64_t kMinPartSize = 5ull << 20;  // S3's minimum for all but the last part
inline constexpr uint64_t kMaxPartSize = 5ull << 30;  // and its maximum
inline constexpr int kDefaultGzipLevel = 6;
inline constexpr int kDefaultZstdLevel = 3;
inline constexpr int kDefaultParallelism = 4;
inline constexpr int kMaxParallelism = 64;

/// The validated destination config. Plain data: copyable, no I/O done to build it.
struct ExportConfig {
  enum class Scheme { kS3, kFile };
  Scheme scheme = Scheme::kFile;
  /// s3:// only: the bucket and the key prefix (no leading or trailing '/', may be empty).
  std::string bucket;
  std::string prefix;
  /// file:// only: the absolute directory objects are written below.
  std::filesystem::path root;

  /// s3:// only. Empty endpoint = AWS ("https://s3.<region>.amazonaws.com").
  std::string endpoint;
  std::string region = "us-east-1";
  bool path_style = false;  ///< default: virtual for AWS, path when an endpoint is given
  Credentials credentials;  ///< explicit values from the config (may be partly empty)
  std::string profile;      ///< shared credentials file profile when keys are absent
  bool tls_verify = true;
  std::string ca_bundle;
  uint64_t part_size = kDefaultPartSize;
  bool conditional_writes = false;

  /// Overrides the write request's project in object keys when non-empty.
  std::string project_id;
  Compression compression = Compression::kGzip;
  int compression_level = kDefaultGzipLevel;
  Granularity granularity = Granularity::kHourly;
  std::string partition_timezone = "UTC";
  uint64_t max_object_bytes = kDefaultMaxObjectBytes;
  int parallelism = kDefaultParallelism;

  /// "s3://bucket/prefix" or "file:///root", for messages (never contains a secret).
  std::string Describe() const;
};

/// Parses and validates the destination config JSON. Checks the time zone name against the
/// IANA database. Errors are WEIR_INVALID_CONFIG naming the field; no secret is ever echoed.
Result<ExportConfig> ParseExportConfig(std::string_view json);

/// The ObjectStore settings for an s3:// config, with the given (resolved) credentials.
S3Config MakeS3Config(const ExportConfig& config, const Credentials& credentials);

/// True when `segment` can be one path segment of an object key: non-empty, at most 255
/// bytes, not "." or "..", and free of '/', '\\' and control characters.
bool IsValidKeySegment(std::string_view segment);

/// The config's JSON Schema (draft 2020-12), for the plugin descriptor.
extern const char* const kExportConfigSchema;

}  // namespace weir::s3

#endif  // WEIR_S3_S3_CONFIG_HPP
