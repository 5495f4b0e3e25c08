// plugins/s3/s3_config.cpp — parsing and validating the s3 destination's config (simdjson DOM).
//
// Config objects are tiny and parsed once per open(), so the DOM API's convenience wins over
// on-demand here. Every message names the field as "config.<key>"; values of secret fields are
// never echoed, and neither are values that failed validation when they could be a secret
// pasted into the wrong field.
#include "s3_config.hpp"

#include <simdjson.h>

#include <algorithm>
#include <initializer_list>
#include <iterator>
#include <string>
#include <utility>

#include "s3_client.hpp"
#include "s3_layout.hpp"
#include "weir/config_json.hpp"

namespace weir::s3 {
namespace {

constexpr std::string_view kKnownKeys[] = {"url",
                                           "endpoint",
                                           "region",
                                           "project_id",
                                           "access_key_id",
                                           "secret_access_key",
                                           "session_token",
                                           "profile",
                                           "addressing",
                                           "compression",
                                           "compression_level",
                                           "granularity",
                                           "partition_timezone",
                                           "max_object_bytes",
                                           "part_size",
                                           "conditional_writes",
                                           "tls_verify",
                                           "ca_bundle",
                                           "parallelism"};
/// A rejected value, quoted, as far as it is safe to show: short keywords are echoed; anything
/// long or unusual (possibly a secret pasted into the wrong field) only by its length, and
/// user info in URLs ("user:password@") never.
std::string Echo(const std::string& value, size_t max_len = 24) {
  const bool plain = value.size() <= max_len && std::all_of(value.begin(), value.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                              c == '/' || c == ':' || c == '+';
                     });
  if (plain) return "\"" + value + "\"";
  const size_t at = value.find('@');
  if (at != std::string::npos && value.find("://") != std::string::npos) {
    const size_t scheme = value.find("://") + 3;
    return "\"" + value.substr(0, scheme) + "…@" + value.substr(at + 1, 60) + "\"";
  }
  if (value.size() <= 80 && value.find_first_of(" \t\r\n") == std::string::npos &&
      value.find("://") != std::string::npos) {
    return "\"" + value + "\"";  // a URL without user info
  }
  return "a string of " + std::to_string(value.size()) + " characters";
}

Status FieldError(std::string_view key, const std::string& what) {
  return Status::InvalidConfig("config." + std::string(key) + ": " + what);
}

/// Reads the config object; a flat object of known keys, each at most once.
class ConfigReader {
 public:
  Status Parse(std::string_view json) {
    WEIR_RETURN_NOT_OK(ParseConfigObject(parser_, json, kKnownKeys, &obj_));
    return Status::OK();
  }

  bool Has(const char* key) const {
    simdjson::dom::element value;
    return obj_.at_key(key).get(value) == simdjson::SUCCESS;
  }

  // The typed getters of weir/config_json.hpp, for a field of the top-level object.
  Result<std::string> String(const char* key, std::string fallback,
                             bool allow_empty = false) const {
    return OptionalString(obj_, "config.", key, std::move(fallback), allow_empty);
  }
  Result<int64_t> Int(const char* key, int64_t fallback, int64_t min, int64_t max) const {
    return OptionalInt(obj_, "config.", key, fallback, min, max);
  }
  Result<bool> Bool(const char* key, bool fallback) const {
    return OptionalBool(obj_, "config.", key, fallback);
  }

  /// One of `choices`, or `fallback` when absent; the message lists the choices.
  Result<std::string> Choice(const char* key, std::string fallback,
                             std::initializer_list<const char*> choices) const {
    WEIR_ASSIGN_OR_RETURN(std::string v, String(key, fallback, true));
    for (const char* c : choices) {
      if (v == c) return v;
    }
    std::string list;
    for (const char* c : choices) list += (list.empty() ? "\"" : ", \"") + std::string(c) + "\"";
    return FieldError(key, "expected one of " + list + ", got " + Echo(v));
  }

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::object obj_;
};

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsBucketChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

/// Splits "s3://bucket/a/b/" into bucket "bucket" and prefix "a/b".
Status ParseS3Url(std::string_view rest, ExportConfig* out) {
  const size_t slash = rest.find('/');
  std::string_view bucket = rest.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  const bool valid_bucket = bucket.size() >= 3 && bucket.size() <= 222 &&
                            std::all_of(bucket.begin(), bucket.end(), IsBucketChar) &&
                            IsAlnum(bucket[0]) && IsAlnum(bucket.back());
  // "s3://key:secret@bucket/...": user info. Neither part is echoed. A secret may contain '/',
  // so an '@' anywhere after an invalid bucket counts too ("s3://AKIA:a/b@bucket").
  if (bucket.find('@') != std::string_view::npos ||
      (!valid_bucket && rest.find('@') != std::string_view::npos)) {
    return FieldError("url",
                      "must not carry credentials (user:password@); give access_key_id/"
                      "secret_access_key or use the environment or a credentials file profile");
  }
  if (!valid_bucket) {
    return FieldError("url", Echo(std::string(bucket)) +
                                 " is not a valid bucket name (3-222 lowercase letters, digits, "
                                 "'.', '-', '_'; starting and ending with a letter or digit)");
  }
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (!prefix.empty()) {
    size_t start = 0;
    while (start <= prefix.size()) {
      size_t end = prefix.find('/', start);
      if (end == std::string_view::npos) end = prefix.size();
      if (!IsValidKeySegment(prefix.substr(start, end - start))) {
        return FieldError("url", "the prefix " + Echo(std::string(prefix)) +
                                     " has an empty, '.' or '..' segment or a control character");
      }
      start = end + 1;
    }
  }
  out->scheme = ExportConfig::Scheme::kS3;
  out->bucket = std::string(bucket);
  out->prefix = std::string(prefix);
  return Status::OK();
}

Status ParseFileUrl(std::string_view rest, ExportConfig* out) {
  if (rest.empty() || rest[0] != '/') {
    return FieldError("url", "a file URL needs an absolute path and no host: file:///path/to/dir");
  }
  std::string path(rest);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  out->scheme = ExportConfig::Scheme::kFile;
  out->root = path;
  return Status::OK();
}

Status ParseUrl(const std::string& url, ExportConfig* out) {
  constexpr std::string_view kS3 = "s3://";
  constexpr std::string_view kFile = "file://";
  std::string_view u = url;
  if (u.substr(0, kS3.size()) == kS3) return ParseS3Url(u.substr(kS3.size()), out);
  if (u.substr(0, kFile.size()) == kFile) return ParseFileUrl(u.substr(kFile.size()), out);
  return FieldError("url", "expected s3://bucket/prefix or file:///path, got " + Echo(url, 80));
}

Result<std::string> ParseConfigEndpoint(std::string endpoint) {
  std::string_view e = endpoint;
  size_t scheme_len = 0;
  if (e.substr(0, 7) == "http://") scheme_len = 7;
  if (e.substr(0, 8) == "https://") scheme_len = 8;
  if (scheme_len == 0) {
    return FieldError("endpoint", "expected http://host[:port] or https://host[:port], got " +
                                      Echo(endpoint, 80));
  }
  while (endpoint.size() > scheme_len && endpoint.back() == '/') endpoint.pop_back();
  std::string_view host = std::string_view(endpoint).substr(scheme_len);
  if (host.empty() || host.find_first_of("/?#@ ") != std::string_view::npos) {
    return FieldError("endpoint",
                      "expected a scheme, a host and an optional port, without a path or user "
                      "info, got " +
                          Echo(endpoint, 80));
  }
  // The client's parser is the one requests are built with: what it refuses is refused here,
  // at open, rather than at the first request.
  if (!weir::s3::ParseEndpoint(endpoint).ok()) {
    return FieldError("endpoint",
                      "expected http(s)://host[:port] with a host and a port from 1 to 65535, "
                      "got " +
                          Echo(endpoint, 80));
  }
  return endpoint;
}

}  // namespace

bool IsValidKeySegment(std::string_view segment) {
  if (segment.empty() || segment.size() > 255 || segment == "." || segment == "..") return false;
  for (char c : segment) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\' || u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

std::string ExportConfig::Describe() const {
  if (scheme == Scheme::kFile) return "file://" + root.string();
  return "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix);
}

Result<ExportConfig> ParseExportConfig(std::string_view json) {
  ConfigReader in;
  WEIR_RETURN_NOT_OK(in.Parse(json));
  ExportConfig c;

  if (!in.Has("url")) return FieldError("url", "required (s3://bucket/prefix or file:///path)");
  WEIR_ASSIGN_OR_RETURN(std::string url, in.String("url", ""));
  WEIR_RETURN_NOT_OK(ParseUrl(url, &c));

  WEIR_ASSIGN_OR_RETURN(std::string endpoint, in.String("endpoint", ""));
  if (!endpoint.empty()) {
    WEIR_ASSIGN_OR_RETURN(c.endpoint, ParseConfigEndpoint(std::move(endpoint)));
  }
  WEIR_ASSIGN_OR_RETURN(c.region, in.String("region", "us-east-1"));
  if (c.region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    return FieldError("region", "expected a region name such as \"us-east-1\" or \"auto\"");
  }
  WEIR_ASSIGN_OR_RETURN(c.project_id, in.String("project_id", ""));
  if (in.Has("project_id") && !IsValidKeySegment(c.project_id)) {
    return FieldError("project_id",
                      "must be usable as one path segment (no '/', not '.' or '..', at most 255 "
                      "bytes)");
  }

  // Credentials: the values are never echoed, only the field names.
  WEIR_ASSIGN_OR_RETURN(c.credentials.access_key_id, in.String("access_key_id", ""));
  WEIR_ASSIGN_OR_RETURN(c.credentials.secret_access_key, in.String("secret_access_key", ""));
  WEIR_ASSIGN_OR_RETURN(c.credentials.session_token, in.String("session_token", ""));
  const bool has_id = !c.credentials.access_key_id.empty();
  const bool has_secret = !c.credentials.secret_access_key.empty();
  if (has_id != has_secret) {
    return FieldError(has_id ? "secret_access_key" : "access_key_id",
                      std::string("required when ") +
                          (has_id ? "access_key_id" : "secret_access_key") +
                          " is given (give both, or neither to use the environment or a "
                          "credentials file profile)");
  }
  if (!c.credentials.session_token.empty() && !has_id) {
    return FieldError("session_token", "requires access_key_id and secret_access_key");
  }
  WEIR_ASSIGN_OR_RETURN(c.profile, in.String("profile", ""));
  if (!c.profile.empty() && has_id) {
    return FieldError("profile",
                      "cannot be combined with access_key_id/secret_access_key (give either the "
                      "keys or a credentials file profile)");
  }

  WEIR_ASSIGN_OR_RETURN(
      std::string addressing,
      in.Choice("addressing", c.endpoint.empty() ? "virtual" : "path", {"path", "virtual"}));
  c.path_style = addressing == "path";
  if (c.scheme == ExportConfig::Scheme::kS3) {
    // The client's rule for names that can be a host name label (3-63 characters, no '_').
    const bool dns_bucket = IsDnsCompatibleBucket(c.bucket);
    if (!in.Has("addressing")) {
      // A dotted bucket name cannot be a virtual host under a TLS wildcard certificate either.
      if (!dns_bucket || c.bucket.find('.') != std::string::npos) c.path_style = true;
    } else if (!c.path_style) {
      if (!dns_bucket) {
        return FieldError("addressing",
                          "\"virtual\" needs a bucket name that can be a host name label (3-63 "
                          "lowercase letters, digits, '-', '.'), and " +
                              Echo(c.bucket, 63) + " is not one; use \"path\"");
      }
      auto ep =
          weir::s3::ParseEndpoint(c.endpoint.empty() ? DefaultEndpoint(c.region) : c.endpoint);
      if (ep.ok() && ep->ip_literal) {
        return FieldError("addressing",
                          "\"virtual\" needs a host name endpoint, and config.endpoint is an IP "
                          "address; use \"path\" or a DNS name (e.g. localhost)");
      }
    }
  }

  WEIR_ASSIGN_OR_RETURN(std::string compression,
                        in.Choice("compression", "gzip", {"gzip", "zstd", "none"}));
  if (compression == "gzip") {
    c.compression = Compression::kGzip;
    WEIR_ASSIGN_OR_RETURN(int64_t level, in.Int("compression_level", kDefaultGzipLevel, 1, 12));
    c.compression_level = static_cast<int>(level);
  } else if (compression == "zstd") {
    c.compression = Compression::kZstd;
    WEIR_ASSIGN_OR_RETURN(int64_t level, in.Int("compression_level", kDefaultZstdLevel, 1, 19));
    c.compression_level = static_cast<int>(level);
  } else {
    c.compression = Compression::kNone;
    c.compression_level = 0;
    if (in.Has("compression_level")) {
      return FieldError("compression_level", "has no meaning with compression \"none\"");
    }
  }

  WEIR_ASSIGN_OR_RETURN(std::string granularity,
                        in.Choice("granularity", "hourly", {"hourly", "daily"}));
  c.granularity = granularity == "daily" ? Granularity::kDaily : Granularity::kHourly;
  WEIR_ASSIGN_OR_RETURN(c.partition_timezone, in.String("partition_timezone", "UTC"));
  // The writer's own check, so the two cannot disagree ("UTC" needs no tz database).
  if (!Partitioner::Make(c.granularity, c.partition_timezone).ok()) {
    return FieldError("partition_timezone",
                      "unknown time zone " + Echo(c.partition_timezone, 32) +
                          " (expected an IANA name such as \"UTC\" or \"America/New_York\")");
  }

  WEIR_ASSIGN_OR_RETURN(
      int64_t max_object_bytes,
      in.Int("max_object_bytes", static_cast<int64_t>(kDefaultMaxObjectBytes),
             static_cast<int64_t>(kMinMaxObjectBytes), static_cast<int64_t>(kMaxMaxObjectBytes)));
  c.max_object_bytes = static_cast<uint64_t>(max_object_bytes);
  WEIR_ASSIGN_OR_RETURN(
      int64_t part_size,
      in.Int("part_size", static_cast<int64_t>(kDefaultPartSize),
             static_cast<int64_t>(kMinPartSize), static_cast<int64_t>(kMaxPartSize)));
  c.part_size = static_cast<uint64_t>(part_size);
  WEIR_ASSIGN_OR_RETURN(c.conditional_writes, in.Bool("conditional_writes", false));
  WEIR_ASSIGN_OR_RETURN(c.tls_verify, in.Bool("tls_verify", true));
  WEIR_ASSIGN_OR_RETURN(c.ca_bundle, in.String("ca_bundle", ""));
  WEIR_ASSIGN_OR_RETURN(int64_t parallelism,
                        in.Int("parallelism", kDefaultParallelism, 1, kMaxParallelism));
  c.parallelism = static_cast<int>(parallelism);
  return c;
}

S3Config MakeS3Config(const ExportConfig& config, const Credentials& credentials) {
  S3Config s3;
  s3.bucket = config.bucket;
  s3.region = config.region;
  s3.endpoint = config.endpoint.empty() ? DefaultEndpoint(config.region) : config.endpoint;
  s3.path_style = config.path_style;
  s3.credentials = credentials;
  s3.part_size = config.part_size;
  // Objects of at least two parts go multipart; below that one PUT is cheaper.
  s3.multipart_threshold = 2 * config.part_size;
  s3.parallel_parts = std::max(2, std::min(config.parallelism, 8));
  s3.verify_tls = config.tls_verify;
  s3.ca_bundle = config.ca_bundle;
  return s3;
}

const char* const kExportConfigSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "s3",
  "description": "Writes Mixpanel-compatible NDJSON objects (gzip, zstd or plain) to an S3-compatible bucket or a local directory. Reference: docs/s3.md.",
  "type": "object",
  "additionalProperties": false,
  "required": ["url"],
  "properties": {
    "url": {"type": "string", "pattern": "^(s3://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/.*)?|file:///.*)$",
            "description": "s3://bucket/prefix or file:///absolute/dir"},
    "endpoint": {"type": "string", "pattern": "^https?://[^/?#@ ]+/?$",
                 "description": "S3 endpoint; default https://s3.<region>.amazonaws.com. E.g. https://storage.googleapis.com, http://127.0.0.1:9000"},
    "region": {"type": "string", "default": "us-east-1", "description": "Signing region (\"auto\" for R2)"},
    "project_id": {"type": "string", "minLength": 1, "description": "Project folder in object keys; default: the pipeline's project"},
    "access_key_id": {"type": "string", "minLength": 1, "description": "Use ${ENV} references; default: AWS_* environment, then the credentials file"},
    "secret_access_key": {"type": "string", "minLength": 1, "writeOnly": true, "description": "Secret; never logged"},
    "session_token": {"type": "string", "minLength": 1, "writeOnly": true, "description": "Temporary credentials' token; never logged"},
    "profile": {"type": "string", "minLength": 1, "description": "Shared credentials file profile (default AWS_PROFILE or \"default\"); when given, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not used; not together with access_key_id"},
    "addressing": {"enum": ["path", "virtual"], "description": "Default: virtual without an endpoint (AWS), path with one"},
    "compression": {"enum": ["gzip", "zstd", "none"], "default": "gzip"},
    "compression_level": {"type": "integer", "minimum": 1, "maximum": 19, "description": "gzip 1-12 (default 6), zstd 1-19 (default 3)"},
    "granularity": {"enum": ["hourly", "daily"], "default": "hourly"},
    "partition_timezone": {"type": "string", "default": "UTC", "description": "IANA time zone of the event-time partitions"},
    "max_object_bytes": {"type": "integer", "minimum": 1024, "maximum": 4294967296, "default": 33554432, "description": "Uncompressed bytes per object at most (split at record boundaries)"},
    "part_size": {"type": "integer", "minimum": 5242880, "maximum": 5368709120, "default": 8388608, "description": "Multipart upload part size"},
    "conditional_writes": {"type": "boolean", "default": false, "description": "PUT with If-None-Match: * (a replay keeps the first copy)"},
    "tls_verify": {"type": "boolean", "default": true},
    "ca_bundle": {"type": "string", "minLength": 1, "description": "PEM file of trusted CAs"},
    "parallelism": {"type": "integer", "minimum": 1, "maximum": 64, "default": 4, "description": "Objects compressed and uploaded at once"}
  }
})json";

}  // namespace weir::s3
