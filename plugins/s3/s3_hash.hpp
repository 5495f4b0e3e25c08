// plugins/s3/s3_hash.hpp — the digests S3 requests need: SHA-256 (payload hash, SigV4
// string to sign), HMAC-SHA256 (SigV4 key derivation and signature) and MD5 (Content-MD5),
// all through OpenSSL's libcrypto EVP interface; plus the hex/base64 renderings S3 wants.
//
//   std::string h = weir::s3::Sha256Hex(body);            // x-amz-content-sha256
//   std::string md5 = weir::s3::Base64(weir::s3::Md5(body)); // Content-MD5
#ifndef WEIR_S3_HASH_HPP
#define WEIR_S3_HASH_HPP

#include <string>
#include <string_view>

namespace weir::s3 {

/// Raw 32-byte SHA-256 digest of `data`.
std::string Sha256(std::string_view data);
/// Lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);
/// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
/// Raw 16-byte MD5 digest of `data` (for Content-MD5 only: an integrity check, not security).
std::string Md5(std::string_view data);
/// Lower-case hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);
/// Standard base64 (RFC 4648, with padding).
std::string Base64(std::string_view bytes);

}  // namespace weir::s3

#endif  // WEIR_S3_HASH_HPP
