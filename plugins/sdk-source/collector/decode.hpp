// plugins/sdk-source/collector/decode.hpp — the byte-level decoders the wire protocols need:
// base64 (Mixpanel's data=), URL/form decoding (query strings, form bodies), gzip/deflate
// request bodies (zlib) with a cap on the inflated size, and the Authorization header forms.
//
// Pure functions, no allocation beyond their outputs, safe on arbitrary bytes (fuzzed by
// tests/fuzz/fuzz_parsers.cpp).
//
//   std::string json;
//   if (!Base64Decode(data_param, json)) return BadRequest("data is neither JSON nor base64");
//   auto inflated = Inflate(body, limits.max_decompressed_bytes);
#ifndef WEIR_SDK_SOURCE_COLLECTOR_DECODE_HPP
#define WEIR_SDK_SOURCE_COLLECTOR_DECODE_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weir::sdksource {

/// Decodes base64 in the standard (+/) or URL-safe (-_) alphabet, with or without '='
/// padding. ASCII whitespace is skipped and ' ' reads as '+' (a form decoder turned an
/// unescaped '+' into a space). Returns false (out unspecified) on any other byte, on data
/// after padding, or on a dangling single character.
bool Base64Decode(std::string_view in, std::string& out);

/// Percent-decoding for query strings and form bodies: "%41" → 'A', '+' → ' '. A '%' not
/// followed by two hex digits is kept literally (browsers and SDKs send such strings).
std::string UrlDecode(std::string_view in);

/// The decoded value of the first `name=value` pair in an application/x-www-form-urlencoded
/// string (query string or body), or nullopt if absent.
std::optional<std::string> FormValue(std::string_view form, std::string_view name);

/// Splits a request target into its path and query (without '?').
void SplitTarget(std::string_view target, std::string_view& path, std::string_view& query);

struct InflateResult {
  enum class Code { kOk, kTooLarge, kCorrupt };
  Code code = Code::kOk;
  std::string data;     ///< the inflated bytes (kOk)
  std::string message;  ///< what went wrong (kTooLarge / kCorrupt)
};

/// Inflates a gzip, zlib or raw-deflate stream (concatenated gzip members included). Stops
/// with kTooLarge as soon as the output would pass `max_out` bytes, so a gzip bomb never
/// allocates more than `max_out`.
InflateResult Inflate(std::string_view in, uint64_t max_out);

/// The user name of an "Authorization: Basic base64(user:password)" header, or nullopt if
/// the header is not Basic or does not decode.
std::optional<std::string> BasicAuthUser(std::string_view authorization);

/// The token of an "Authorization: Bearer <token>" header, or nullopt.
std::optional<std::string> BearerToken(std::string_view authorization);

}  // namespace weir::sdksource

#endif  // WEIR_SDK_SOURCE_COLLECTOR_DECODE_HPP
