// plugins/s3/s3_credentials.hpp — where S3 credentials come from when the config does not
// spell them out: the AWS_* environment variables, then the shared credentials file
// (~/.aws/credentials, INI). ResolveCredentials (object_store.hpp) is the entry point; these
// pieces take the environment as a function so tests need not touch the real one.
//
//   auto creds = weir::s3::ResolveCredentialsWith({}, "", [](const char* n) { ... });
#ifndef WEIR_S3_CREDENTIALS_HPP
#define WEIR_S3_CREDENTIALS_HPP

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "object_store.hpp"

namespace weir::s3 {

/// Section -> key -> value of an INI text. Keys are lower-cased; values trimmed; lines
/// starting with '#' or ';' are comments; "[profile x]" is read as section "x" (the config
/// file's spelling). Malformed lines are skipped (the AWS CLI does likewise).
std::map<std::string, std::map<std::string, std::string>> ParseIni(std::string_view text);

/// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

/// ResolveCredentials with an injected environment and file reader (tests).
/// `read_file` returns nullopt when the file does not exist or cannot be read.
Result<Credentials> ResolveCredentialsWith(
    const Credentials& explicit_values, const std::string& profile, const EnvLookup& env,
    const std::function<std::optional<std::string>(const std::string& path)>& read_file);

}  // namespace weir::s3

#endif  // WEIR_S3_CREDENTIALS_HPP
