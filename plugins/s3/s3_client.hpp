// plugins/s3/s3_client.hpp — the S3 REST client the s3 ObjectStore is built on: addressing
// (path or virtual-hosted), SigV4 signing of every attempt, retries with full-jitter backoff,
// and errors a person can act on. One S3Client serves one bucket and is thread-safe.
//
//   WEIR_ASSIGN_OR_RETURN(auto client, weir::s3::S3Client::Make(config, hooks));
//   WEIR_RETURN_NOT_OK(client->PutObject("a/b.json.gz", bytes, {}));
//   WEIR_ASSIGN_OR_RETURN(auto keys, client->ListObjects("a/"));
//
// Hooks are called from whichever thread runs a request (multipart parts run on several):
// counter/log/cancelled must be thread-safe. Every retry adds 1 to counter "s3.retries".
#ifndef WEIR_S3_CLIENT_HPP
#define WEIR_S3_CLIENT_HPP

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "object_store.hpp"
#include "s3_http.hpp"
#include "s3_sigv4.hpp"

namespace weir::s3 {

/// Knobs that are not part of S3Config (which is the plugin's public surface).
struct ClientOptions {
  /// Send x-amz-content-sha256: UNSIGNED-PAYLOAD instead of hashing bodies. Saves one
  /// SHA-256 pass per byte; only sensible over https, where TLS protects the body. Content-MD5
  /// is still sent, so S3 still rejects a corrupted body.
  bool unsigned_payload = false;
  /// Seeds the jitter (0: from std::random_device).
  uint64_t jitter_seed = 0;
};

/// A parsed endpoint: "http://127.0.0.1:9000" -> {http, 127.0.0.1, 9000}.
struct Endpoint {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< name or IP literal (IPv6 in brackets)
  std::string port;    ///< "" when the URL had none
  bool ip_literal = false;
  /// host[:port], as the Host header carries it.
  std::string Authority() const { return port.empty() ? host : host + ":" + port; }
};

/// Parses `url` (scheme http/https, no path other than "/", a port of 1-65535 when given);
/// errors name the offending part. The s3 plugin's config validation calls it too, so a bad
/// endpoint is refused at open, not at the first request.
Result<Endpoint> ParseEndpoint(const std::string& url);

/// "https://s3.<region>.amazonaws.com": the endpoint used when none is configured.
std::string DefaultEndpoint(const std::string& region);

/// True when `bucket` can be a host name label, i.e. used with virtual-hosted addressing:
/// 3-63 characters of lowercase letters, digits, '-' and '.', starting and ending with a
/// letter or digit. The s3 plugin's config defaults to path style for any other name.
bool IsDnsCompatibleBucket(const std::string& bucket);

/// One S3 operation. `key` is the raw object key ("" = the bucket itself).
struct S3Request {
  std::string op;      ///< for messages: "PutObject", "UploadPart 3/5", ...
  std::string method;  ///< GET HEAD PUT POST DELETE
  std::string key;
  NameValues query;    ///< raw names/values
  NameValues headers;  ///< extra headers; all are signed (content-type, content-md5, ...)
  std::string_view body;
  /// Statuses (besides 2xx) handed back to the caller instead of becoming an error (404, 412).
  std::vector<long> accept;
  /// CompleteMultipartUpload can answer 200 with an <Error> body; treat that as retryable.
  bool error_in_200 = false;
  /// Keep retrying even when hooks.cancelled() is true (AbortMultipartUpload cleans up after
  /// a cancelled upload); still bounded by RetryPolicy::max_attempts.
  bool ignore_cancel = false;
};

struct S3Response {
  long status = 0;
  std::string body;
  NameValues headers;
  std::string Header(std::string_view lower_name) const;
};

/// A pending multipart upload, as ListMultipartUploads reports it.
struct PendingUpload {
  std::string key;
  std::string upload_id;
};

class S3Client {
 public:
  /// Validates `config` (bucket, endpoint, addressing, credentials present) and builds the
  /// client. `transport` null = libcurl with the config's TLS/timeouts.
  static Result<std::unique_ptr<S3Client>> Make(const S3Config& config, Hooks hooks,
                                                ClientOptions options = {},
                                                std::unique_ptr<HttpTransport> transport = nullptr);

  /// Signs and sends `request`, retrying per the policy. Returns the response for 2xx and
  /// `accept`ed statuses; otherwise a Status: Cancelled, a fatal 4xx error (message names the
  /// bucket, the key and, for 403, the access key id), or a retryable error once the attempts
  /// are used up.
  Result<S3Response> Send(const S3Request& request);

  /// PUT of a whole object with Content-MD5 (and If-None-Match: * when asked; a 412 answer
  /// then counts as success: the same deterministic bytes are already there).
  Status PutObject(const std::string& key, std::string_view body, const PutOptions& options);
  /// The object's bytes, nullopt on NoSuchKey.
  Result<std::optional<std::string>> GetObject(const std::string& key);
  /// Deletes; a missing key is not an error (S3 semantics).
  Status DeleteObject(const std::string& key);
  /// All keys under `prefix`, sorted, following continuation tokens.
  Result<std::vector<std::string>> ListObjects(const std::string& prefix);
  /// Multipart uploads started but neither completed nor aborted, under `prefix`.
  Result<std::vector<PendingUpload>> ListMultipartUploads(const std::string& prefix);
  /// Creates the bucket (tests and tooling; the destination never creates buckets).
  Status CreateBucket();

  const S3Config& config() const { return config_; }
  const Hooks& hooks() const { return hooks_; }
  /// "s3://bucket/key" for messages.
  std::string Target(const std::string& key) const;
  /// "scheme://host[:port]" of the endpoint, for messages.
  std::string EndpointDescription() const;

 private:
  S3Client(S3Config config, Endpoint endpoint, Hooks hooks, ClientOptions options,
           std::unique_ptr<HttpTransport> transport);
  HttpRequest BuildRequest(const S3Request& request) const;
  uint64_t NextSeed();
  void Log(int32_t level, const std::string& message) const;

  S3Config config_;
  Endpoint endpoint_;
  Hooks hooks_;
  ClientOptions options_;
  std::unique_ptr<HttpTransport> transport_;
  std::mutex rng_mu_;
  std::mt19937_64 seed_rng_;
};

/// The part size actually used for an object of `object_size` bytes: at least `configured`
/// and 5 MiB, grown (in whole MiB) so the object needs at most 10,000 parts.
uint64_t EffectivePartSize(uint64_t configured, uint64_t object_size);

/// Uploads `body` as a multipart upload: Create, parts in parallel (config.parallel_parts
/// threads, Content-MD5 on each), Complete (with If-None-Match: * when asked; 412 = success).
/// On any failure or cancellation the upload is aborted before returning the error.
Status PutMultipart(S3Client& client, const std::string& key, std::string_view body,
                    const PutOptions& options);

/// The fatal error for an S3 answer that is neither success nor retryable (exposed for tests).
Status ErrorFromResponse(const S3Config& config, const std::string& endpoint_description,
                         const std::string& op, const std::string& key, long status,
                         std::string_view body, const std::string& bucket_region_header);

}  // namespace weir::s3

#endif  // WEIR_S3_CLIENT_HPP
