// plugins/sdk-source/collector/decode.cpp — base64, URL/form decoding, zlib inflate with a cap,
// and Authorization header parsing.
#include "collector/decode.hpp"

#include <zlib.h>

#include <array>
#include <cstring>
#include <vector>

namespace weir::sdksource {
namespace {

constexpr int8_t kInvalid = -1;
constexpr int8_t kSkip = -2;
constexpr int8_t kPad = -3;

constexpr std::array<int8_t, 256> MakeBase64Table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (size_t i = 0; i < 26; ++i) {
    t[size_t{'A'} + i] = int8_t(i);
    t[size_t{'a'} + i] = int8_t(26 + i);
  }
  for (size_t i = 0; i < 10; ++i) t[size_t{'0'} + i] = int8_t(52 + i);
  t[size_t('+')] = 62;
  t[size_t(' ')] = 62;  // an unescaped '+' that a form decoder turned into a space
  t[size_t('-')] = 62;
  t[size_t('/')] = 63;
  t[size_t('_')] = 63;
  t[size_t('\n')] = kSkip;
  t[size_t('\r')] = kSkip;
  t[size_t('\t')] = kSkip;
  t[size_t('=')] = kPad;
  return t;
}
constexpr std::array<int8_t, 256> kBase64 = MakeBase64Table();

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = char(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool Base64Decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  int chars = 0;  // significant characters in the current 4-character group
  bool padded = false;
  for (unsigned char c : in) {
    int8_t v = kBase64[c];
    if (v == kSkip) continue;
    if (v == kPad) {
      padded = true;
      continue;
    }
    if (v == kInvalid || padded) return false;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    chars = (chars + 1) & 3;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xFF));
    }
  }
  // A lone trailing character carries only 6 bits: not a byte.
  return chars != 1;
}

std::string UrlDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 &&
               HexValue(in[i + 2]) >= 0) {
      out.push_back(char(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> FormValue(std::string_view form, std::string_view name) {
  while (!form.empty()) {
    size_t amp = form.find('&');
    std::string_view pair = form.substr(0, amp);
    form = amp == std::string_view::npos ? std::string_view() : form.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    // Keys are short; decode only when they contain an escape.
    bool match =
        key.find_first_of("%+") == std::string_view::npos ? key == name : UrlDecode(key) == name;
    if (match) return UrlDecode(value);
  }
  return std::nullopt;
}

void SplitTarget(std::string_view target, std::string_view& path, std::string_view& query) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) {
    path = target;
    query = {};
  } else {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
}

namespace {

/// Whether the gzip/zlib stream `in` inflates to more than `limit` bytes, found by inflating
/// into a scratch buffer and counting. False also when it is corrupt or truncated before that
/// (the real inflate then says which).
bool InflatesPast(std::string_view in, uint64_t limit) {
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return false;
  struct Guard {
    z_stream* zs;
    ~Guard() { inflateEnd(zs); }
  } guard{&zs};
  std::vector<unsigned char> scratch(64 << 10);
  uint64_t produced = 0;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = uInt(in.size());
  for (;;) {
    zs.next_out = scratch.data();
    zs.avail_out = uInt(scratch.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced += scratch.size() - zs.avail_out;
    if (produced > limit) return true;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 || inflateReset(&zs) != Z_OK) return false;
      continue;
    }
    if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_out == 0)) return false;
  }
}

}  // namespace

InflateResult Inflate(std::string_view in, uint64_t max_out) {
  InflateResult result;
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  // 15 + 32: zlib or gzip, detected from the header. Raw deflate (what some clients send as
  // "Content-Encoding: deflate") has no header; retried below with -15.
  bool raw = false;
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    result.code = InflateResult::Code::kCorrupt;
    result.message = "cannot initialize zlib";
    return result;
  }
  struct Guard {
    z_stream* zs;
    ~Guard() { inflateEnd(zs); }
  } guard{&zs};

  std::string& out = result.data;
  uint64_t initial = std::max<uint64_t>(in.size() * 4, 4096);
  if (in.size() >= 18 && static_cast<unsigned char>(in[0]) == 0x1f &&
      static_cast<unsigned char>(in[1]) == 0x8b) {
    // A gzip trailer ends in ISIZE, the inflated size (mod 2^32) of the last member; it is the
    // client's word, so it only decides how to inflate. Saying more than the limit (a bomb, or
    // a truncated body whose last bytes are not a trailer): count first, into a small scratch
    // buffer, so a bomb is refused having cost 64 KiB instead of 1.5 times the limit in a
    // growing buffer. Otherwise it sizes the buffer, so an honest body is inflated in place.
    const auto b = [&](size_t i) {
      return uint64_t(static_cast<unsigned char>(in[in.size() - 4 + i]));
    };
    const uint64_t isize = b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24);
    if (isize > max_out && InflatesPast(in, max_out)) {
      result.code = InflateResult::Code::kTooLarge;
      result.message =
          "body inflates to more than max_decompressed_bytes (" + std::to_string(max_out) + ")";
      return result;
    }
    if (isize <= max_out) initial = std::max<uint64_t>(isize, 4096);
  }
  out.resize(std::min<uint64_t>(max_out, initial));
  uint64_t produced = 0;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = uInt(in.size());  // bodies are capped far below 4 GiB
  for (;;) {
    if (produced == out.size()) {
      if (produced >= max_out) {
        result.code = InflateResult::Code::kTooLarge;
        result.message =
            "body inflates to more than max_decompressed_bytes (" + std::to_string(max_out) + ")";
        result.data.clear();
        return result;
      }
      out.resize(std::min<uint64_t>(max_out, out.size() * 2));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = uInt(std::min<uint64_t>(out.size() - produced, 1u << 30));
    uInt before = zs.avail_out;
    int rc = inflate(&zs, Z_NO_FLUSH);
    produced += before - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows (concatenated gzip is valid gzip).
      if (inflateReset(&zs) != Z_OK) {
        result.code = InflateResult::Code::kCorrupt;
        result.message = "corrupt compressed body";
        return result;
      }
      continue;
    }
    if (rc == Z_DATA_ERROR && !raw && produced == 0 && zs.total_in <= 2) {
      // Not a zlib/gzip header: try raw deflate from the start.
      raw = true;
      inflateEnd(&zs);
      std::memset(&zs, 0, sizeof zs);
      if (inflateInit2(&zs, -15) != Z_OK) {
        result.code = InflateResult::Code::kCorrupt;
        result.message = "cannot initialize zlib";
        return result;
      }
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      zs.avail_in = uInt(in.size());
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && zs.avail_out != 0) {
      result.code = InflateResult::Code::kCorrupt;
      result.message = "compressed body is truncated";
      result.data.clear();
      return result;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      result.code = InflateResult::Code::kCorrupt;
      result.message = std::string("corrupt compressed body: ") +
                       (zs.msg != nullptr ? zs.msg : "inflate failed");
      result.data.clear();
      return result;
    }
  }
  out.resize(produced);
  return result;
}

std::optional<std::string> BasicAuthUser(std::string_view authorization) {
  authorization = Trim(authorization);
  if (!StartsWithNoCase(authorization, "basic ")) return std::nullopt;
  std::string decoded;
  if (!Base64Decode(Trim(authorization.substr(6)), decoded)) return std::nullopt;
  return decoded.substr(0, decoded.find(':'));
}

std::optional<std::string> BearerToken(std::string_view authorization) {
  authorization = Trim(authorization);
  if (!StartsWithNoCase(authorization, "bearer ")) return std::nullopt;
  std::string_view token = Trim(authorization.substr(7));
  if (token.empty()) return std::nullopt;
  return std::string(token);
}

}  // namespace weir::sdksource
