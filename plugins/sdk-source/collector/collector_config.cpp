// plugins/sdk-source/collector/collector_config.cpp — parsing and validating the collector's
// configuration JSON (simdjson DOM; the file is small and read once) with the SDK's strict
// getters (weir/config_json.hpp): unknown and duplicate keys are refused, strings must not be
// empty or contain a NUL byte, and every message names the field as "config.limits.max_depth".
#include "collector/collector_config.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "weir/config_json.hpp"

namespace weir::sdksource {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr std::string_view kTopKeys[] = {"data_dir", "listen",         "threads", "workers",
                                         "limits",   "retention_days", "projects"};
constexpr std::string_view kProjectKeys[] = {"tokens", "write_keys"};

/// Upper bound of the byte and count limits (beyond any sensible request; fits an int64).
constexpr int64_t kMaxLimit = int64_t{std::numeric_limits<uint32_t>::max()} * 16;

/// One limit: its key, where it is stored, and its bounds.
struct LimitField {
  const char* key;
  uint64_t Limits::*field;
  int64_t min;
  int64_t max;
};

constexpr LimitField kLimitFields[] = {
    {"max_body_bytes", &Limits::max_body_bytes, 1, int64_t{1} << 30},
    {"max_decompressed_bytes", &Limits::max_decompressed_bytes, 1, kMaxLimit},
    {"max_header_bytes", &Limits::max_header_bytes, 1, kMaxLimit},
    {"max_records_per_request", &Limits::max_records_per_request, 1, kMaxLimit},
    {"max_properties", &Limits::max_properties, 1, kMaxLimit},
    {"max_depth", &Limits::max_depth, 0, 64},
    {"max_string_bytes", &Limits::max_string_bytes, 1, kMaxLimit},
    {"max_name_bytes", &Limits::max_name_bytes, 1, kMaxLimit},
};

/// WEIR_INVALID_CONFIG "<path>: <what>", the SDK's form (weir/config_json.hpp).
Status Err(const std::string& path, const std::string& what) {
  return Status::InvalidConfig(path + ": " + what);
}

/// The object at `path` (`value`), or "<path>: expected an object, got array".
Result<object> AsObject(const element& value, const std::string& path) {
  if (value.type() != element_type::OBJECT) {
    return Err(path, std::string("expected an object, got ") + JsonTypeName(value));
  }
  return value.get_object().value_unsafe();
}

Status ParseListen(std::string_view s, const std::string& path, CollectorConfig& out) {
  // "host:port" or "[v6]:port".
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) {
    return Err(path, "expected \"host:port\", e.g. \"127.0.0.1:8080\"");
  }
  std::string_view host = s.substr(0, colon);
  std::string_view port = s.substr(colon + 1);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return Err(path, "bad IPv6 literal in brackets");
    host = host.substr(1, host.size() - 2);
  }
  uint32_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return Err(path, "port must be a number");
    p = p * 10 + uint32_t(c - '0');
    if (p > 65535) return Err(path, "port must be between 0 and 65535");
  }
  out.listen_address = std::string(host);
  out.listen_port = uint16_t(p);
  return Status::OK();
}

Status ParseLimits(const element& value, Limits& limits) {
  const std::string where = "config.limits.";
  WEIR_ASSIGN_OR_RETURN(object obj, AsObject(value, "config.limits"));
  std::vector<std::string_view> known;
  for (const LimitField& f : kLimitFields) known.push_back(f.key);
  WEIR_RETURN_NOT_OK(CheckConfigKeys(obj, where, known));
  for (const LimitField& f : kLimitFields) {
    WEIR_ASSIGN_OR_RETURN(
        int64_t n, OptionalInt(obj, where, f.key, int64_t(limits.*f.field), f.min, f.max));
    limits.*f.field = uint64_t(n);
  }
  if (limits.max_decompressed_bytes < limits.max_body_bytes) {
    return Err(where + "max_decompressed_bytes", "must be >= max_body_bytes");
  }
  return Status::OK();
}

Status ParseProjects(const element& value, CollectorConfig& out) {
  WEIR_ASSIGN_OR_RETURN(object projects, AsObject(value, "config.projects"));
  for (simdjson::dom::key_value_pair field : projects) {
    const std::string name(field.key);
    const std::string path = "config.projects." + name;
    if (!IsValidProjectName(name)) {
      return Err(path, std::string("not a project name (") + kProjectNameRule + ")");
    }
    if (std::any_of(out.projects.begin(), out.projects.end(),
                    [&](const ProjectConfig& o) { return o.name == name; })) {
      return Err(path, "given more than once");
    }
    WEIR_ASSIGN_OR_RETURN(object obj, AsObject(field.value, path));
    const std::string where = path + ".";
    WEIR_RETURN_NOT_OK(CheckConfigKeys(obj, where, kProjectKeys));
    ProjectConfig project;
    project.name = name;
    WEIR_ASSIGN_OR_RETURN(project.tokens, OptionalStringArray(obj, where, "tokens"));
    WEIR_ASSIGN_OR_RETURN(project.write_keys, OptionalStringArray(obj, where, "write_keys"));
    if (project.tokens.empty() && project.write_keys.empty()) {
      return Err(path, "a project needs at least one entry in \"tokens\" or \"write_keys\"");
    }
    out.projects.push_back(std::move(project));
  }
  if (out.projects.empty()) return Err("config.projects", "at least one project is required");
  return Status::OK();
}

}  // namespace

namespace {

std::array<unsigned char, 32> Sha256(std::string_view s) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out.data());
  return out;
}

}  // namespace

const std::string* CollectorConfig::Lookup(const std::vector<Credential>& credentials,
                                           std::string_view secret) {
  const std::array<unsigned char, 32> digest = Sha256(secret);
  const std::string* found = nullptr;
  for (const Credential& c : credentials) {
    // Every entry is compared, whatever matched before: the time depends only on how many
    // credentials are configured. Credentials are unique (ParseCollectorConfig refuses
    // duplicates), so at most one matches.
    const bool match = CRYPTO_memcmp(digest.data(), c.digest.data(), digest.size()) == 0;
    found = match ? &c.project : found;
  }
  return found;
}

const std::string* CollectorConfig::ProjectForToken(std::string_view token) const {
  return Lookup(tokens_, token);
}

const std::string* CollectorConfig::ProjectForWriteKey(std::string_view key) const {
  return Lookup(write_keys_, key);
}

void CollectorConfig::BuildIndex() {
  tokens_.clear();
  write_keys_.clear();
  for (const auto& p : projects) {
    for (const auto& t : p.tokens) tokens_.push_back(Credential{Sha256(t), p.name});
    for (const auto& k : p.write_keys) write_keys_.push_back(Credential{Sha256(k), p.name});
  }
}

Result<CollectorConfig> ParseCollectorConfig(std::string_view json) {
  simdjson::dom::parser parser;
  object root;
  WEIR_RETURN_NOT_OK(ParseConfigObject(parser, json, kTopKeys, &root));
  CollectorConfig config;
  WEIR_ASSIGN_OR_RETURN(std::string data_dir, RequiredString(root, "config.", "data_dir"));
  config.data_dir = std::move(data_dir);
  WEIR_ASSIGN_OR_RETURN(std::string listen,
                        OptionalString(root, "config.", "listen", "127.0.0.1:8080"));
  WEIR_RETURN_NOT_OK(ParseListen(listen, "config.listen", config));
  WEIR_ASSIGN_OR_RETURN(int64_t threads, OptionalInt(root, "config.", "threads", 2, 1, 256));
  config.threads = int(threads);
  WEIR_ASSIGN_OR_RETURN(int64_t workers, OptionalInt(root, "config.", "workers", 16, 1, 1024));
  config.workers = int(workers);
  WEIR_ASSIGN_OR_RETURN(int64_t retention_days,
                        OptionalInt(root, "config.", "retention_days", 0, 0, 100000));
  config.retention_days = int(retention_days);
  element value;
  if (root.at_key("limits").get(value) == simdjson::SUCCESS) {
    WEIR_RETURN_NOT_OK(ParseLimits(value, config.limits));
  }
  if (root.at_key("projects").get(value) != simdjson::SUCCESS) {
    return Err("config.projects", "required (an object)");
  }
  WEIR_RETURN_NOT_OK(ParseProjects(value, config));

  // A secret shared by two projects would make routing ambiguous. Name where, never what.
  std::unordered_map<std::string, std::string> seen_tokens, seen_keys;
  for (const auto& project : config.projects) {
    for (size_t i = 0; i < project.tokens.size(); ++i) {
      auto [it, inserted] = seen_tokens.emplace(project.tokens[i], project.name);
      if (!inserted) {
        return Err("config.projects." + project.name + ".tokens[" + std::to_string(i) + "]",
                   "token is already used by project \"" + it->second + "\"");
      }
    }
    for (size_t i = 0; i < project.write_keys.size(); ++i) {
      auto [it, inserted] = seen_keys.emplace(project.write_keys[i], project.name);
      if (!inserted) {
        return Err("config.projects." + project.name + ".write_keys[" + std::to_string(i) + "]",
                   "write key is already used by project \"" + it->second + "\"");
      }
    }
  }
  config.BuildIndex();
  return config;
}

}  // namespace weir::sdksource
