// tests/sdk_source/collector/test_util.hpp — helpers shared by the collector tests: gzip and
// base64 encoding of request bodies (the collector only decodes; tests need the other side).
#ifndef WEIR_TESTS_SDK_SOURCE_COLLECTOR_TEST_UTIL_HPP
#define WEIR_TESTS_SDK_SOURCE_COLLECTOR_TEST_UTIL_HPP

#include <zlib.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace weir::sdksource::testing {

/// gzip (window_bits 15 + 16) or zlib (15) or raw deflate (-15) compression of `in`.
inline std::string Compress(std::string_view in, int window_bits = 15 + 16) {
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string out(deflateBound(&zs, uLong(in.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = uInt(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  return out;
}

/// Standard base64 with padding; `url_safe` uses -_ and drops the padding.
inline std::string Base64(std::string_view in, bool url_safe = false) {
  const char* alphabet = url_safe
                             ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v =
        (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (i + 1 < in.size()) out += alphabet[(v >> 6) & 63];
    if (!url_safe) out += i + 1 < in.size() ? "=" : "==";
  }
  return out;
}

/// Percent-encodes everything but unreserved characters (what SDKs do for data=).
inline std::string UrlEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace weir::sdksource::testing

#endif  // WEIR_TESTS_SDK_SOURCE_COLLECTOR_TEST_UTIL_HPP
