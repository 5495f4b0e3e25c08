// sdk/include/weir/json.hpp — writing JSON strings, shared by the host and the plugins.
//
// Header-only and dependency-free (parsing is simdjson's job; this is only the writing side
// that every producer of canonical records, configs and answers needs). Escapes per RFC 8259:
// '"', '\\' and control characters; everything else, UTF-8 included, is copied as is.
//
//   std::string out = "{\"event\":";
//   weir::AppendJsonString(out, name);   // "{\"event\":\"sign \\\"up\\\"\""
#ifndef WEIR_JSON_HPP
#define WEIR_JSON_HPP

#include <string>
#include <string_view>

namespace weir {

/// Appends `s` to `out` as a quoted JSON string.
inline void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the current run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

/// `s` as a quoted JSON string.
inline std::string JsonQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendJsonString(out, s);
  return out;
}

}  // namespace weir

#endif  // WEIR_JSON_HPP
