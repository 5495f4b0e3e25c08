// plugins/s3/s3_sigv4.hpp — AWS Signature Version 4 for S3 requests, written here rather than
// taken from libcurl: curl 7.88's CURLOPT_AWS_SIGV4 omits x-amz-content-sha256 (which S3
// requires) and mis-signs keys that need percent-encoding. This signer follows the S3 flavour
// of SigV4: the URI path is percent-encoded exactly once (RFC 3986 unreserved characters kept,
// '/' kept), the query is sorted by encoded name, and every header handed in is signed.
//
//   weir::s3::SigningRequest req{"PUT", "/bucket/a%20b.json", {}, {{"host", "127.0.0.1:9000"},
//       {"x-amz-date", date}, {"x-amz-content-sha256", hash}}, hash};
//   weir::s3::SigV4 sig = weir::s3::SignV4(req, {key_id, secret, "us-east-1", "s3", date});
//   // send sig.authorization as the Authorization header, and exactly the signed headers.
#ifndef WEIR_S3_SIGV4_HPP
#define WEIR_S3_SIGV4_HPP

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weir::s3 {

/// The hash S3 accepts in place of a payload hash when the body is not signed.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

using NameValues = std::vector<std::pair<std::string, std::string>>;

/// What gets signed. Everything in `headers` is signed (names in any case; values are
/// trimmed and inner runs of spaces collapsed, per the spec) and must be sent verbatim.
struct SigningRequest {
  std::string method;         ///< "GET", "PUT", ...
  std::string canonical_uri;  ///< the path as sent, already encoded once (UriEncode(path, false))
  NameValues query;           ///< raw (not yet encoded) names and values; "" for a bare name
  NameValues headers;         ///< must include host and x-amz-date
  std::string payload_hash;   ///< Sha256Hex(body) or kUnsignedPayload
};

/// Who signs, for which scope, when. `amz_date` is "YYYYMMDDTHHMMSSZ" (see AmzDate).
struct SigningScope {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;
  std::string service = "s3";
  std::string amz_date;
};

/// The intermediate strings (for tests and debugging; they contain no secret) and the result.
struct SigV4 {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  ///< "host;x-amz-content-sha256;x-amz-date"
  std::string signature;       ///< lower-case hex
  std::string authorization;   ///< the full Authorization header value
};

/// Signs `request`. Pure function: same inputs, same output.
SigV4 SignV4(const SigningRequest& request, const SigningScope& scope);

/// RFC 3986 percent-encoding as SigV4 wants it: A-Z a-z 0-9 - . _ ~ stay, every other byte
/// becomes %XX (upper-case hex); '/' stays unless `encode_slash`. Input is raw bytes (UTF-8),
/// never already-encoded text: encoding "%41" gives "%2541", once.
std::string UriEncode(std::string_view raw, bool encode_slash);

/// The canonical query string: names and values UriEncode'd (slash too), sorted by name then
/// value, joined with '&'. Also what the client puts on the wire, so the two cannot differ.
std::string CanonicalQueryString(const NameValues& query);

/// "YYYYMMDDTHHMMSSZ" in UTC.
std::string AmzDate(std::chrono::system_clock::time_point t);

}  // namespace weir::s3

#endif  // WEIR_S3_SIGV4_HPP
