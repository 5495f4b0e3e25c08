// plugins/sdk-source/collector/collector_config.cpp — parsing and validating the collector's
// configuration JSON (simdjson DOM; the file is small and read once).
#include "collector/collector_config.hpp"

#include <simdjson.h>

#include <algorithm>
#include <limits>

#include "weir/config_json.hpp"

namespace weir::sdksource {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

Status Err(const std::string& path, const std::string& msg) {
  return Status::InvalidConfig("collector config: " + path + ": " + msg);
}

Result<uint64_t> GetUnsigned(element v, const std::string& path, uint64_t min, uint64_t max) {
  uint64_t n = 0;
  if (v.type() == element_type::UINT64) {
    n = uint64_t(v);
  } else if (v.type() == element_type::INT64 && int64_t(v) >= 0) {
    n = uint64_t(int64_t(v));
  } else {
    return Err(path, std::string("expected an integer >= ") + std::to_string(min) + ", found " +
                         JsonTypeWithArticle(v.type()));
  }
  if (n < min || n > max) {
    return Err(path, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                         ", found " + std::to_string(n));
  }
  return n;
}

Result<std::string> GetString(element v, const std::string& path) {
  if (v.type() != element_type::STRING) {
    return Err(path, std::string("expected a string, found ") + JsonTypeWithArticle(v.type()));
  }
  std::string s{std::string_view(v)};
  if (s.empty()) return Err(path, "must not be empty");
  return s;
}

bool ValidProjectName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
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

Status ParseLimits(element v, const std::string& path, Limits& limits) {
  if (v.type() != element_type::OBJECT) {
    return Err(path, std::string("expected an object, found ") + JsonTypeWithArticle(v.type()));
  }
  constexpr uint64_t kMax = std::numeric_limits<uint32_t>::max() * 16ull;
  for (auto field : simdjson::dom::object(v)) {
    std::string key(field.key);
    std::string p = path + "." + key;
    uint64_t* target = nullptr;
    uint64_t max = kMax;
    if (key == "max_body_bytes") {
      target = &limits.max_body_bytes;
      max = 1ull << 30;
    } else if (key == "max_decompressed_bytes")
      target = &limits.max_decompressed_bytes;
    else if (key == "max_header_bytes")
      target = &limits.max_header_bytes;
    else if (key == "max_records_per_request")
      target = &limits.max_records_per_request;
    else if (key == "max_properties")
      target = &limits.max_properties;
    else if (key == "max_depth") {
      target = &limits.max_depth;
      max = 64;
    } else if (key == "max_string_bytes")
      target = &limits.max_string_bytes;
    else if (key == "max_name_bytes")
      target = &limits.max_name_bytes;
    else
      return Err(p, "unknown limit (see docs/sdk-source.md for the list)");
    WEIR_ASSIGN_OR_RETURN(*target, GetUnsigned(field.value, p, key == "max_depth" ? 0 : 1, max));
  }
  if (limits.max_decompressed_bytes < limits.max_body_bytes) {
    return Err(path + ".max_decompressed_bytes", "must be >= max_body_bytes");
  }
  return Status::OK();
}

Status ParseProjects(element v, const std::string& path, CollectorConfig& out) {
  if (v.type() != element_type::OBJECT) {
    return Err(path, std::string("expected an object, found ") + JsonTypeWithArticle(v.type()));
  }
  for (auto field : simdjson::dom::object(v)) {
    std::string name(field.key);
    std::string p = path + "." + name;
    if (!ValidProjectName(name)) {
      return Err(p, "project names use letters, digits, '_', '-' and '.' (it names a directory)");
    }
    if (field.value.type() != element_type::OBJECT) {
      return Err(
          p, std::string("expected an object, found ") + JsonTypeWithArticle(field.value.type()));
    }
    ProjectConfig project;
    project.name = name;
    for (auto f : simdjson::dom::object(field.value)) {
      std::string key(f.key);
      std::string kp = p + "." + key;
      std::vector<std::string>* list = nullptr;
      if (key == "tokens")
        list = &project.tokens;
      else if (key == "write_keys")
        list = &project.write_keys;
      else
        return Err(kp, "unknown key (expected \"tokens\" or \"write_keys\")");
      if (f.value.type() != element_type::ARRAY) {
        return Err(kp, std::string("expected an array of strings, found ") +
                           JsonTypeWithArticle(f.value.type()));
      }
      size_t i = 0;
      for (element s : simdjson::dom::array(f.value)) {
        WEIR_ASSIGN_OR_RETURN(auto secret, GetString(s, kp + "[" + std::to_string(i) + "]"));
        list->push_back(std::move(secret));
        ++i;
      }
    }
    if (project.tokens.empty() && project.write_keys.empty()) {
      return Err(p, "a project needs at least one entry in \"tokens\" or \"write_keys\"");
    }
    if (std::any_of(out.projects.begin(), out.projects.end(),
                    [&](const ProjectConfig& o) { return o.name == name; })) {
      return Err(p, "project listed twice");
    }
    out.projects.push_back(std::move(project));
  }
  if (out.projects.empty()) return Err(path, "at least one project is required");
  return Status::OK();
}

}  // namespace

const std::string* CollectorConfig::ProjectForToken(std::string_view token) const {
  auto it = token_project_.find(std::string(token));
  return it == token_project_.end() ? nullptr : &it->second;
}

const std::string* CollectorConfig::ProjectForWriteKey(std::string_view key) const {
  auto it = write_key_project_.find(std::string(key));
  return it == write_key_project_.end() ? nullptr : &it->second;
}

void CollectorConfig::BuildIndex() {
  token_project_.clear();
  write_key_project_.clear();
  for (const auto& p : projects) {
    for (const auto& t : p.tokens) token_project_.emplace(t, p.name);
    for (const auto& k : p.write_keys) write_key_project_.emplace(k, p.name);
  }
}

Result<CollectorConfig> ParseCollectorConfig(std::string_view json) {
  simdjson::dom::parser parser;
  element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root)) {
    return Status::InvalidConfig(std::string("collector config: not valid JSON: ") +
                                 simdjson::error_message(error));
  }
  if (root.type() != element_type::OBJECT) {
    return Err("$", std::string("expected an object, found ") + JsonTypeWithArticle(root.type()));
  }
  CollectorConfig config;
  bool have_data_dir = false, have_projects = false;
  for (auto field : simdjson::dom::object(root)) {
    std::string key(field.key);
    std::string p = "$." + key;
    if (key == "data_dir") {
      WEIR_ASSIGN_OR_RETURN(auto dir, GetString(field.value, p));
      config.data_dir = dir;
      have_data_dir = true;
    } else if (key == "listen") {
      WEIR_ASSIGN_OR_RETURN(auto listen, GetString(field.value, p));
      WEIR_RETURN_NOT_OK(ParseListen(listen, p, config));
    } else if (key == "threads") {
      WEIR_ASSIGN_OR_RETURN(auto n, GetUnsigned(field.value, p, 1, 256));
      config.threads = int(n);
    } else if (key == "workers") {
      WEIR_ASSIGN_OR_RETURN(auto n, GetUnsigned(field.value, p, 1, 1024));
      config.workers = int(n);
    } else if (key == "retention_days") {
      WEIR_ASSIGN_OR_RETURN(auto n, GetUnsigned(field.value, p, 0, 100000));
      config.retention_days = int(n);
    } else if (key == "limits") {
      WEIR_RETURN_NOT_OK(ParseLimits(field.value, p, config.limits));
    } else if (key == "projects") {
      WEIR_RETURN_NOT_OK(ParseProjects(field.value, p, config));
      have_projects = true;
    } else {
      return Err(p, "unknown key (see docs/sdk-source.md for the configuration reference)");
    }
  }
  if (!have_data_dir) return Err("$", "missing required field \"data_dir\"");
  if (!have_projects) return Err("$", "missing required field \"projects\"");

  // A secret shared by two projects would make routing ambiguous. Name where, never what.
  std::unordered_map<std::string, std::string> seen_tokens, seen_keys;
  for (const auto& project : config.projects) {
    for (size_t i = 0; i < project.tokens.size(); ++i) {
      auto [it, inserted] = seen_tokens.emplace(project.tokens[i], project.name);
      if (!inserted) {
        return Err("$.projects." + project.name + ".tokens[" + std::to_string(i) + "]",
                   "token is already used by project \"" + it->second + "\"");
      }
    }
    for (size_t i = 0; i < project.write_keys.size(); ++i) {
      auto [it, inserted] = seen_keys.emplace(project.write_keys[i], project.name);
      if (!inserted) {
        return Err("$.projects." + project.name + ".write_keys[" + std::to_string(i) + "]",
                   "write key is already used by project \"" + it->second + "\"");
      }
    }
  }
  config.BuildIndex();
  return config;
}

}  // namespace weir::sdksource
