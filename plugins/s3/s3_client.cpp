// plugins/s3/s3_client.cpp — request building (addressing, encoding, signing), the retry
// loop, and the single-request S3 operations (PUT, GET, DELETE, ListObjectsV2, ...).
#include "s3_client.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "s3_hash.hpp"
#include "s3_retry.hpp"
#include "s3_xml.hpp"

namespace weir::s3 {
namespace {

bool IsIpLiteral(const std::string& host) {
  if (!host.empty() && host.front() == '[') return true;  // IPv6
  if (host.empty()) return false;
  return std::all_of(host.begin(), host.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

}  // namespace

// DNS-compatible bucket names are the only ones that can become a host name label.
bool IsDnsCompatibleBucket(const std::string& bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return bucket.front() != '-' && bucket.front() != '.' && bucket.back() != '-' &&
         bucket.back() != '.';
}

std::string DefaultEndpoint(const std::string& region) {
  return "https://s3." + region + ".amazonaws.com";
}

std::string S3Response::Header(std::string_view lower_name) const {
  for (const auto& [n, v] : headers) {
    if (n == lower_name) return v;
  }
  return "";
}

Result<Endpoint> ParseEndpoint(const std::string& url) {
  Endpoint ep;
  size_t sep = url.find("://");
  if (sep == std::string::npos) {
    return Status::InvalidConfig("S3 endpoint '" + url +
                                 "' has no scheme; write it as https://host[:port]");
  }
  ep.scheme = url.substr(0, sep);
  if (ep.scheme != "http" && ep.scheme != "https") {
    return Status::InvalidConfig("S3 endpoint '" + url + "' has scheme '" + ep.scheme +
                                 "'; only http and https are supported");
  }
  std::string rest = url.substr(sep + 3);
  size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    if (rest.substr(slash) != "/") {
      return Status::InvalidConfig("S3 endpoint '" + url +
                                   "' has a path; give only scheme://host[:port]");
    }
    rest.resize(slash);
  }
  if (rest.find('@') != std::string::npos) {
    return Status::InvalidConfig("S3 endpoint must not carry user info; use credentials");
  }
  size_t colon = rest.rfind(':');
  size_t bracket = rest.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    ep.port = rest.substr(colon + 1);
    rest.resize(colon);
    if (ep.port.empty() || ep.port.size() > 5 ||
        !std::all_of(ep.port.begin(), ep.port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(ep.port) < 1 || std::stoi(ep.port) > 65535) {
      return Status::InvalidConfig("S3 endpoint '" + url +
                                   "' has an invalid port (expected a number from 1 to 65535)");
    }
  }
  if (rest.empty()) return Status::InvalidConfig("S3 endpoint '" + url + "' has no host");
  ep.host = rest;
  ep.ip_literal = IsIpLiteral(ep.host);
  return ep;
}

Result<std::unique_ptr<S3Client>> S3Client::Make(const S3Config& config, Hooks hooks,
                                                 ClientOptions options,
                                                 std::unique_ptr<HttpTransport> transport) {
  if (config.bucket.empty()) return Status::InvalidConfig("S3 bucket name is empty");
  if (config.region.empty()) return Status::InvalidConfig("S3 region is empty");
  if (config.credentials.access_key_id.empty() || config.credentials.secret_access_key.empty()) {
    return Status::InvalidConfig(
        "S3 credentials are incomplete: an access key id and a secret access key are both "
        "needed (see ResolveCredentials)");
  }
  if (config.parallel_parts < 1) {
    return Status::InvalidConfig("S3 parallel_parts must be at least 1");
  }
  if (config.retry.max_attempts < 1) {
    return Status::InvalidConfig("S3 retry max_attempts must be at least 1");
  }
  std::string url = config.endpoint.empty() ? DefaultEndpoint(config.region) : config.endpoint;
  WEIR_ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(url));
  if (!config.path_style) {
    if (endpoint.ip_literal) {
      return Status::InvalidConfig(
          "S3 virtual-hosted addressing needs a host name endpoint, but " + url +
          " is an IP address (no name '" + config.bucket + "." + endpoint.host +
          "' can exist); use addressing \"path\" or a DNS name (e.g. localhost)");
    }
    if (!IsDnsCompatibleBucket(config.bucket)) {
      return Status::InvalidConfig("S3 bucket '" + config.bucket +
                                   "' cannot be a host name label; use addressing \"path\"");
    }
  }
  if (!transport) {
    transport = MakeCurlTransport({config.verify_tls, config.ca_bundle, config.connect_timeout_ms,
                                   config.request_timeout_ms});
  }
  return std::unique_ptr<S3Client>(
      new S3Client(config, std::move(endpoint), std::move(hooks), options, std::move(transport)));
}

S3Client::S3Client(S3Config config, Endpoint endpoint, Hooks hooks, ClientOptions options,
                   std::unique_ptr<HttpTransport> transport)
    : config_(std::move(config)),
      endpoint_(std::move(endpoint)),
      hooks_(std::move(hooks)),
      options_(options),
      transport_(std::move(transport)),
      seed_rng_(options.jitter_seed != 0 ? options.jitter_seed : std::random_device{}()) {}

std::string S3Client::Target(const std::string& key) const {
  return "s3://" + config_.bucket + (key.empty() ? "" : "/" + key);
}

std::string S3Client::EndpointDescription() const {
  return endpoint_.scheme + "://" + endpoint_.Authority();
}

uint64_t S3Client::NextSeed() {
  std::lock_guard<std::mutex> lock(rng_mu_);
  return seed_rng_();
}

void S3Client::Log(int32_t level, const std::string& message) const {
  if (hooks_.log) hooks_.log(level, message);
}

HttpRequest S3Client::BuildRequest(const S3Request& request) const {
  std::string authority = endpoint_.Authority();
  std::string path;
  if (config_.path_style) {
    path = "/" + UriEncode(config_.bucket, true);
    if (!request.key.empty()) path += "/" + UriEncode(request.key, false);
  } else {
    authority = config_.bucket + "." + authority;
    path = "/" + UriEncode(request.key, false);
  }
  const std::string query = CanonicalQueryString(request.query);

  const std::string amz_date = AmzDate(std::chrono::system_clock::now());
  const std::string payload_hash =
      options_.unsigned_payload ? std::string(kUnsignedPayload) : Sha256Hex(request.body);

  SigningRequest sign;
  sign.method = request.method;
  sign.canonical_uri = path;
  sign.query = request.query;
  sign.headers = {
      {"host", authority}, {"x-amz-date", amz_date}, {"x-amz-content-sha256", payload_hash}};
  if (!config_.credentials.session_token.empty()) {
    sign.headers.emplace_back("x-amz-security-token", config_.credentials.session_token);
  }
  for (const auto& h : request.headers) sign.headers.push_back(h);
  sign.payload_hash = payload_hash;
  SigV4 sig = SignV4(sign, {config_.credentials.access_key_id,
                            config_.credentials.secret_access_key, config_.region, "s3", amz_date});

  HttpRequest http;
  http.method = request.method;
  http.url = endpoint_.scheme + "://" + authority + path + (query.empty() ? "" : "?" + query);
  http.headers = std::move(sign.headers);
  http.headers.emplace_back("Authorization", std::move(sig.authorization));
  http.body = request.body;
  if (!request.ignore_cancel) http.cancelled = hooks_.cancelled;
  return http;
}

Result<S3Response> S3Client::Send(const S3Request& request) {
  const std::string target = Target(request.key);
  Backoff backoff(config_.retry, NextSeed());
  std::string last_error;
  auto cancelled = [&] { return !request.ignore_cancel && hooks_.cancelled && hooks_.cancelled(); };
  for (int attempt = 1; attempt <= config_.retry.max_attempts; ++attempt) {
    if (attempt > 1) {
      int delay = backoff.NextDelayMs();
      Log(WEIR_LOG_WARN, "S3 " + request.op + " " + target + " attempt " +
                             std::to_string(attempt - 1) + " failed (" + last_error +
                             "); retrying in " + std::to_string(delay) + " ms");
      if (!SleepUnlessCancelled(
              delay, request.ignore_cancel ? std::function<bool()>() : hooks_.cancelled)) {
        return Status::Cancelled("S3 " + request.op + " " + target +
                                 ": cancelled while waiting to retry (" + last_error + ")");
      }
      if (hooks_.counter) hooks_.counter("s3.retries", 1);
    }
    if (cancelled()) return Status::Cancelled("S3 " + request.op + " " + target + ": cancelled");

    HttpResponse r = transport_->Send(BuildRequest(request));
    if (r.cancelled) {
      return Status::Cancelled("S3 " + request.op + " " + target + ": cancelled mid-transfer");
    }
    if (!r.transport_error.empty()) {
      if (!r.transport_retryable) {
        std::string msg = "S3 " + request.op + " " + target + " at " + endpoint_.scheme + "://" +
                          endpoint_.Authority() + " failed: " + r.transport_error;
        if (r.transport_error.find("SSL") != std::string::npos ||
            r.transport_error.find("certificate") != std::string::npos) {
          msg +=
              " (TLS: set ca_bundle to the PEM of the CA that signed the endpoint's "
              "certificate, or tls_verify to false for a test endpoint)";
        }
        return Status::Error(std::move(msg));
      }
      last_error = r.transport_error;
      continue;
    }
    const bool accepted =
        std::find(request.accept.begin(), request.accept.end(), r.status) != request.accept.end();
    if ((r.status >= 200 && r.status < 300) || accepted) {
      if (request.error_in_200 && r.status == 200 && XmlText(r.body, "Error").has_value()) {
        last_error = "HTTP 200 carrying an error: " + XmlText(r.body, "Code").value_or("?");
        continue;
      }
      return S3Response{r.status, std::move(r.body), std::move(r.headers)};
    }
    const std::string code = XmlText(r.body, "Code").value_or("");
    if (IsRetryableS3Error(r.status, code)) {
      last_error = "HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code);
      continue;
    }
    return ErrorFromResponse(config_, EndpointDescription(), request.op, request.key, r.status,
                             r.body, r.Header("x-amz-bucket-region"));
  }
  return Status::Retryable("S3 " + request.op + " " + target + " failed " +
                           std::to_string(config_.retry.max_attempts) +
                           " times; the last failure: " + last_error);
}

Status S3Client::PutObject(const std::string& key, std::string_view body,
                           const PutOptions& options) {
  S3Request req{"PutObject", "PUT", key, {}, {}, body, {}, false, false};
  req.headers.emplace_back("content-md5", Base64(Md5(body)));
  if (!options.content_type.empty()) req.headers.emplace_back("content-type", options.content_type);
  if (!options.content_encoding.empty()) {
    req.headers.emplace_back("content-encoding", options.content_encoding);
  }
  if (options.if_none_match) {
    req.headers.emplace_back("if-none-match", "*");
    req.accept.push_back(412);
  }
  WEIR_ASSIGN_OR_RETURN(S3Response r, Send(req));
  if (r.status == 412) {
    Log(WEIR_LOG_DEBUG, "S3 " + Target(key) + " already exists (412 on If-None-Match): a replay");
  }
  return Status::OK();
}

Result<std::optional<std::string>> S3Client::GetObject(const std::string& key) {
  S3Request req{"GetObject", "GET", key, {}, {}, {}, {404}, false, false};
  WEIR_ASSIGN_OR_RETURN(S3Response r, Send(req));
  if (r.status == 404) {
    if (XmlText(r.body, "Code").value_or("") == "NoSuchBucket") {
      return ErrorFromResponse(config_, EndpointDescription(), req.op, key, r.status, r.body, "");
    }
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::move(r.body));
}

Status S3Client::DeleteObject(const std::string& key) {
  S3Request req{"DeleteObject", "DELETE", key, {}, {}, {}, {404}, false, false};
  WEIR_ASSIGN_OR_RETURN(S3Response r, Send(req));
  if (r.status == 404 && XmlText(r.body, "Code").value_or("") == "NoSuchBucket") {
    return ErrorFromResponse(config_, EndpointDescription(), req.op, key, r.status, r.body, "");
  }
  return Status::OK();
}

Result<std::vector<std::string>> S3Client::ListObjects(const std::string& prefix) {
  std::vector<std::string> keys;
  std::string token;
  for (int page = 0;; ++page) {
    // encoding-type=url: keys come back percent-encoded, so bytes XML 1.0 cannot carry
    // survive. Decoded only when the answer says it applied the encoding.
    S3Request req{
        "ListObjectsV2", "GET", "", {{"list-type", "2"}, {"encoding-type", "url"}}, {}, {}, {},
        false,           false};
    if (!prefix.empty()) req.query.emplace_back("prefix", prefix);
    if (!token.empty()) req.query.emplace_back("continuation-token", token);
    WEIR_ASSIGN_OR_RETURN(S3Response r, Send(req));
    const bool url_encoded = XmlText(r.body, "EncodingType").value_or("") == "url";
    for (std::string_view contents : XmlElements(r.body, "Contents")) {
      auto key = XmlText(contents, "Key");
      if (!key) continue;
      keys.push_back(url_encoded ? PercentDecode(*key, true) : *key);
    }
    const bool truncated = XmlText(r.body, "IsTruncated").value_or("false") == "true";
    token = XmlText(r.body, "NextContinuationToken").value_or("");
    if (!truncated) break;
    if (token.empty()) {
      return Status::Error("S3 ListObjectsV2 " + Target(prefix) +
                           ": the answer is truncated but carries no continuation token");
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

Result<std::vector<PendingUpload>> S3Client::ListMultipartUploads(const std::string& prefix) {
  std::vector<PendingUpload> out;
  std::string key_marker, upload_marker;
  while (true) {
    S3Request req{"ListMultipartUploads", "GET", "", {{"uploads", ""}}, {}, {}, {}, false, false};
    if (!prefix.empty()) req.query.emplace_back("prefix", prefix);
    if (!key_marker.empty()) req.query.emplace_back("key-marker", key_marker);
    if (!upload_marker.empty()) req.query.emplace_back("upload-id-marker", upload_marker);
    WEIR_ASSIGN_OR_RETURN(S3Response r, Send(req));
    for (std::string_view upload : XmlElements(r.body, "Upload")) {
      out.push_back(
          {XmlText(upload, "Key").value_or(""), XmlText(upload, "UploadId").value_or("")});
    }
    if (XmlText(r.body, "IsTruncated").value_or("false") != "true") break;
    key_marker = XmlText(r.body, "NextKeyMarker").value_or("");
    upload_marker = XmlText(r.body, "NextUploadIdMarker").value_or("");
    if (key_marker.empty() && upload_marker.empty()) break;
  }
  return out;
}

Status S3Client::CreateBucket() {
  std::string body;
  if (config_.region != "us-east-1") {
    body =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" +
        XmlEscape(config_.region) + "</LocationConstraint></CreateBucketConfiguration>";
  }
  S3Request req{"CreateBucket", "PUT", "", {}, {}, body, {}, false, false};
  return Send(req).status();
}

}  // namespace weir::s3
