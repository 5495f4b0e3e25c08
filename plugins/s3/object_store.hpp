// plugins/s3/object_store.hpp — where the s3 destination puts objects: S3 (SigV4 over libcurl)
// or a local directory (file://). The layout, compression and batching code above it
// (s3_plugin.cpp, s3_layout, s3_compress) is written against this interface only.
//
//   auto store = weir::s3::MakeS3ObjectStore(config, hooks);          // s3://bucket/prefix
//   auto local = weir::s3::MakeFileObjectStore("/data/export", hooks);  // file:///data/export
//   WEIR_RETURN_NOT_OK((*store)->Put("demo/mp_master_event/2026/11/22/10/x.json.gz", bytes, opts));
#ifndef WEIR_S3_OBJECT_STORE_HPP
#define WEIR_S3_OBJECT_STORE_HPP

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weir/plugin.hpp"

namespace weir::s3 {

/// Callbacks into the host (wired to weir::Host by the plugin; tests pass their own).
struct Hooks {
  std::function<void(const char* name, double value)> counter;  ///< e.g. "s3.retries"
  std::function<void(int32_t level, const std::string& message)> log;
  std::function<bool()> cancelled;
};

struct PutOptions {
  std::string content_type = "application/x-ndjson";
  std::string content_encoding;  ///< "gzip", "zstd" or empty
  /// Send If-None-Match: * (S3 conditional write). A 412 answer then means the object exists;
  /// since keys and bytes are deterministic per batch, Put treats it as success (a replay).
  bool if_none_match = false;
};

struct RetryPolicy {
  int max_attempts = 6;        ///< per request, the first included
  int base_backoff_ms = 200;   ///< full jitter: sleep uniform(0, min(cap, base * 2^attempt))
  int max_backoff_ms = 20000;
};

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  ///< never logged or put in a message
  std::string session_token;      ///< optional
};

struct S3Config {
  std::string bucket;
  std::string endpoint;  ///< "https://s3.<region>.amazonaws.com" by default, or e.g. "http://127.0.0.1:9000"
  std::string region = "us-east-1";
  bool path_style = false;  ///< addressing: path (endpoint/bucket/key) or virtual (bucket.endpoint/key)
  Credentials credentials;
  uint64_t part_size = 8ull << 20;       ///< multipart part size (>= 5 MiB; grown to stay <= 10,000 parts)
  uint64_t multipart_threshold = 16ull << 20;  ///< objects at least this large use multipart upload
  int parallel_parts = 4;                ///< parts in flight per object
  RetryPolicy retry;
  bool verify_tls = true;
  std::string ca_bundle;  ///< PEM file; empty = system default
  int connect_timeout_ms = 10000;
  int request_timeout_ms = 300000;
};

/// Thread-safe: Put/Delete/Get/List may be called from several threads at once.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  /// Stores `body` under `key` (relative to the store's root/bucket; the caller includes any
  /// prefix) and returns only once the store confirmed it durably (S3: PUT 200 or
  /// CompleteMultipartUpload 200; file: fsync'd file renamed into place and directory fsync'd).
  /// Retries retryable failures per the policy; a failed multipart upload is aborted.
  /// Errors a person can act on: 403 names the bucket and the access key id (never the secret),
  /// NoSuchBucket names the bucket.
  virtual Status Put(const std::string& key, std::string_view body, const PutOptions& options) = 0;
  virtual Status Delete(const std::string& key) = 0;
  /// The object's bytes, or nullopt if it does not exist.
  virtual Result<std::optional<std::string>> Get(const std::string& key) = 0;
  /// Keys under `prefix`, sorted.
  virtual Result<std::vector<std::string>> List(const std::string& prefix) = 0;
  /// "s3://bucket" or "file:///path", for messages.
  virtual std::string Describe() const = 0;
};

/// S3 (and S3-compatible: MinIO, R2, GCS with HMAC keys) over libcurl with SigV4.
Result<std::unique_ptr<ObjectStore>> MakeS3ObjectStore(const S3Config& config, Hooks hooks);

/// A local directory with the same keys as paths (atomic: temp file, fsync, rename, fsync dir).
Result<std::unique_ptr<ObjectStore>> MakeFileObjectStore(const std::filesystem::path& root,
                                                         Hooks hooks);

/// Fills in missing credentials: explicit values win, then AWS_ACCESS_KEY_ID /
/// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, then the shared credentials file
/// (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials) profile `profile` (AWS_PROFILE or
/// "default"). A non-empty `profile` skips the environment variables (like the aws CLI's
/// --profile) and cannot be combined with explicit values. Errors name what is missing and
/// where it looked, never a secret.
Result<Credentials> ResolveCredentials(const Credentials& explicit_values,
                                       const std::string& profile);

}  // namespace weir::s3

#endif  // WEIR_S3_OBJECT_STORE_HPP
