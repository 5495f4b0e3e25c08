// host/pipeline/redact.cpp — see redact.hpp.
#include "pipeline/redact.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "pipeline/pipeline.hpp"
#include "weir/json.hpp"

namespace weir::host {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// "${NAME}" and nothing else (the reference LoadPipelineFile resolves).
bool IsOneEnvReference(std::string_view v) {
  return v.size() >= 4 && v.substr(0, 2) == "${" && v.back() == '}' &&
         IsValidEnvName(v.substr(2, v.size() - 3));
}

/// Replaces the value after each `name=` (case-insensitive, at the start or after ';') up to
/// the next ';' or the end.
void RedactAssignments(std::string& s, std::string_view name) {
  const std::string lower = Lower(s);
  std::string out;
  size_t from = 0;
  size_t pos = 0;
  const std::string needle = std::string(name) + "=";
  while ((pos = lower.find(needle, pos)) != std::string::npos) {
    const bool at_part_start = pos == 0 || lower[pos - 1] == ';' || lower[pos - 1] == ' ';
    if (!at_part_start) {
      pos += needle.size();
      continue;
    }
    size_t value = pos + needle.size();
    size_t end = s.find(';', value);
    if (end == std::string::npos) end = s.size();
    // ODBC braces a value holding ';': "PWD={a;b}".
    if (value < s.size() && s[value] == '{') {
      size_t close = s.find('}', value);
      if (close != std::string::npos) end = close + 1;
    }
    out.append(s, from, value - from).append(kRedacted);
    from = end;
    pos = end;
  }
  if (from == 0) return;
  out.append(s, from, std::string::npos);
  s = std::move(out);
}

/// "scheme://user:password@host" -> "scheme://user:***@host".
void RedactUrlPasswords(std::string& s) {
  size_t pos = 0;
  while ((pos = s.find("://", pos)) != std::string::npos) {
    const size_t auth = pos + 3;
    const size_t end = s.find_first_of("/?# ", auth);
    const size_t at = s.rfind('@', end == std::string::npos ? s.size() : end);
    pos = auth;
    if (at == std::string::npos || at < auth) continue;
    const size_t colon = s.find(':', auth);
    if (colon == std::string::npos || colon > at) continue;
    s.replace(colon + 1, at - colon - 1, kRedacted);
    pos = colon + 1 + kRedacted.size();
  }
}

void Write(simdjson::dom::element e, bool secret, std::string& out) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      if (secret) {
        AppendJsonString(out, kRedacted);
        return;
      }
      out += '{';
      bool first = true;
      simdjson::dom::object object;
      if (e.get(object) != simdjson::SUCCESS) return;  // the type was checked above
      for (auto field : object) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(out, field.key);
        out += ':';
        Write(field.value, IsSecretKeyName(field.key), out);
      }
      out += '}';
      return;
    }
    case element_type::ARRAY: {
      if (secret) {
        AppendJsonString(out, kRedacted);
        return;
      }
      out += '[';
      bool first = true;
      simdjson::dom::array array;
      if (e.get(array) != simdjson::SUCCESS) return;
      for (auto v : array) {
        if (!first) out += ',';
        first = false;
        Write(v, false, out);
      }
      out += ']';
      return;
    }
    case element_type::STRING: {
      std::string_view v;
      if (e.get(v) != simdjson::SUCCESS) return;
      if (secret && !IsOneEnvReference(v)) {
        AppendJsonString(out, v.empty() ? "" : kRedacted);
      } else {
        AppendJsonString(out, RedactSecretsInText(v));
      }
      return;
    }
    default:
      if (secret && !e.is_null()) {
        AppendJsonString(out, kRedacted);
      } else {
        out += simdjson::minify(e);
      }
      return;
  }
}

}  // namespace

bool IsSecretKeyName(std::string_view key) {
  const std::string k = Lower(key);
  // Names of identifiers, addresses, files and variables: not the secret itself.
  static constexpr std::array<std::string_view, 11> kNotSecret = {
      "_id", "_ids", "keyid", "clientid", "_url", "_uri", "_file", "_path", "_env", "_name", "_type"};
  for (std::string_view s : kNotSecret) {
    if (EndsWith(k, s)) return false;
  }
  static constexpr std::array<std::string_view, 12> kSecret = {
      "password", "passwd",    "secret",      "token",      "passphrase", "private_key",
      "privatekey", "api_key", "apikey",      "credential", "signature",  "sas"};
  for (std::string_view s : kSecret) {
    if (s == "sas") {
      if (k == "sas" || EndsWith(k, "_sas")) return true;
      continue;
    }
    if (k.find(s) != std::string::npos) return true;
  }
  return k == "pwd" || k == "auth" || k == "authorization" || EndsWith(k, "_pwd");
}

std::string RedactSecretsInText(std::string_view text) {
  std::string s(text);
  RedactAssignments(s, "pwd");
  RedactAssignments(s, "password");
  RedactUrlPasswords(s);
  return s;
}

std::string RedactConfig(std::string_view config_json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(config_json);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) {
    return "<config not shown: not valid JSON>";
  }
  std::string out;
  out.reserve(config_json.size());
  Write(root, false, out);
  return out;
}

}  // namespace weir::host
