// plugins/s3/s3_credentials.cpp — credential resolution: explicit values, AWS_* environment
// variables, shared credentials file profile. Messages say what was missing and where it was
// looked for; they never contain a secret or a token.
#include "s3_credentials.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace weir::s3 {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::map<std::string, std::map<std::string, std::string>> ParseIni(std::string_view text) {
  std::map<std::string, std::map<std::string, std::string>> out;
  std::string section;
  bool in_section = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = Trim(text.substr(pos, eol - pos));
    pos = eol + 1;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      size_t close = line.find(']');
      if (close == std::string_view::npos) {
        in_section = false;
        continue;
      }
      std::string_view name = Trim(line.substr(1, close - 1));
      if (name.substr(0, 8) == "profile " || name.substr(0, 8) == "profile\t") {
        name = Trim(name.substr(8));
      }
      section = std::string(name);
      in_section = true;
      out[section];
      continue;
    }
    size_t eq = line.find('=');
    if (!in_section || eq == std::string_view::npos) continue;
    out[section][Lower(Trim(line.substr(0, eq)))] = std::string(Trim(line.substr(eq + 1)));
  }
  return out;
}

Result<Credentials> ResolveCredentialsWith(
    const Credentials& explicit_values, const std::string& profile, const EnvLookup& env,
    const std::function<std::optional<std::string>(const std::string& path)>& read_file) {
  // 1. Explicit values (config, ${ENV} references already expanded by the caller).
  if (!explicit_values.access_key_id.empty() || !explicit_values.secret_access_key.empty()) {
    if (!profile.empty()) {
      return Status::InvalidConfig("S3 credentials: both keys and profile '" + profile +
                                   "' are configured; give one or the other");
    }
    if (explicit_values.access_key_id.empty()) {
      return Status::InvalidConfig(
          "S3 credentials: a secret access key is configured but no access key id");
    }
    if (explicit_values.secret_access_key.empty()) {
      return Status::InvalidConfig("S3 credentials: access key id '" +
                                   explicit_values.access_key_id +
                                   "' is configured without a secret access key");
    }
    return explicit_values;
  }

  // 2. The standard environment variables, unless a profile is named explicitly (as the aws
  //    CLI's --profile does; AWS_PROFILE, being environment too, does not skip them).
  auto key_id = profile.empty() ? env("AWS_ACCESS_KEY_ID") : std::nullopt;
  auto secret = profile.empty() ? env("AWS_SECRET_ACCESS_KEY") : std::nullopt;
  if ((key_id && !key_id->empty()) || (secret && !secret->empty())) {
    if (!key_id || key_id->empty()) {
      return Status::InvalidConfig(
          "S3 credentials: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    }
    if (!secret || secret->empty()) {
      return Status::InvalidConfig("S3 credentials: AWS_ACCESS_KEY_ID is set ('" + *key_id +
                                   "') but AWS_SECRET_ACCESS_KEY is not");
    }
    Credentials c{*key_id, *secret, env("AWS_SESSION_TOKEN").value_or("")};
    return c;
  }

  // 3. The shared credentials file.
  const std::string not_elsewhere = profile.empty()
                                        ? "none in the config, AWS_ACCESS_KEY_ID is not set, and "
                                        : "profile '" + profile +
                                              "' is configured (so AWS_ACCESS_KEY_ID and "
                                              "AWS_SECRET_ACCESS_KEY are not used), and ";
  std::string path;
  if (auto p = env("AWS_SHARED_CREDENTIALS_FILE"); p && !p->empty()) {
    path = *p;
  } else if (auto home = env("HOME"); home && !home->empty()) {
    path = *home + "/.aws/credentials";
  } else {
    return Status::InvalidConfig(
        "S3 credentials: " + not_elsewhere +
        "neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set to find a shared credentials file");
  }
  std::string name = profile;
  if (name.empty()) name = env("AWS_PROFILE").value_or("");
  if (name.empty()) name = "default";

  auto text = read_file(path);
  if (!text) {
    return Status::InvalidConfig("S3 credentials: " + not_elsewhere +
                                 "the shared credentials file " + path +
                                 " does not exist or cannot be read");
  }
  auto ini = ParseIni(*text);
  auto it = ini.find(name);
  if (it == ini.end()) {
    std::string found;
    for (const auto& [section, values] : ini) found += (found.empty() ? "" : ", ") + section;
    return Status::InvalidConfig("S3 credentials: profile '" + name + "' is not in " + path +
                                 " (profiles there: " + (found.empty() ? "none" : found) + ")");
  }
  const auto& values = it->second;
  auto get = [&values](const char* k) {
    auto v = values.find(k);
    return v == values.end() ? std::string() : v->second;
  };
  Credentials c{get("aws_access_key_id"), get("aws_secret_access_key"), get("aws_session_token")};
  if (c.session_token.empty()) c.session_token = get("aws_security_token");  // older spelling
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status::InvalidConfig(
        "S3 credentials: profile '" + name + "' in " + path + " lacks " +
        (c.access_key_id.empty() ? "aws_access_key_id" : "aws_secret_access_key") +
        " (other credential sources such as SSO or role_arn are not supported)");
  }
  return c;
}

Result<Credentials> ResolveCredentials(const Credentials& explicit_values,
                                       const std::string& profile) {
  return ResolveCredentialsWith(
      explicit_values, profile,
      [](const char* name) -> std::optional<std::string> {
        const char* v = std::getenv(name);
        if (v == nullptr) return std::nullopt;
        return std::string(v);
      },
      [](const std::string& path) -> std::optional<std::string> {
        std::ifstream in(path, std::ios::binary);
        if (!in) return std::nullopt;
        std::ostringstream ss;
        ss << in.rdbuf();
        if (in.bad()) return std::nullopt;
        return ss.str();
      });
}

}  // namespace weir::s3
