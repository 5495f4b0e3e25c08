// host/pipeline/redact.hpp — plugin configs made safe to print.
//
// `weir pipeline show` prints each plugin's config as written in the pipeline file
// (PluginRef::config_raw). ${ENV} references are safe to show (they name a variable, not its
// value), but an operator may still have pasted a literal password or key into the file. Before
// a config is printed, RedactConfig blanks every value that looks like a secret:
//
//   - the value of a key whose name says it holds one (IsSecretKeyName, case-insensitive):
//     containing password, passwd, secret, token, passphrase, private_key/privatekey,
//     api_key/apikey, credential or signature ("secret_access_key", "session_token",
//     "PRIVATE_KEY_PEM"), or being pwd, auth, authorization, sas, *_pwd, *_sas; a name ending
//     in _id, _ids, keyid, clientid, _url, _uri, _file, _path, _env, _name or _type names
//     something instead and is kept ("access_key_id", "token_url", "password_env");
//   - "PWD=..." / "PASSWORD=..." parts of ODBC-style connection strings, in any string;
//   - the password of a URL's userinfo ("https://user:pw@host" -> "https://user:***@host").
//
// A value that is exactly one ${VAR} reference is kept: it is how secrets should be given, and
// showing which variable is used helps. Everything else prints as "***".
//
//   RedactConfig(R"({"password":"hunter2","user":"me"})")  // {"password":"***","user":"me"}
#ifndef WEIR_HOST_PIPELINE_REDACT_HPP
#define WEIR_HOST_PIPELINE_REDACT_HPP

#include <string>
#include <string_view>

namespace weir::host {

inline constexpr std::string_view kRedacted = "***";

/// `config_json` (a JSON document) with secret-looking values replaced by "***", compact.
/// Text that is not valid JSON comes back as "<config not shown: not valid JSON>", so a
/// broken config never leaks either.
std::string RedactConfig(std::string_view config_json);

/// True when a config key's name says its value is a secret ("secret_access_key": true,
/// "access_key_id": false).
bool IsSecretKeyName(std::string_view key);

/// `text` with connection-string passwords (PWD=, PASSWORD=) and URL userinfo passwords
/// replaced by "***".
std::string RedactSecretsInText(std::string_view text);

}  // namespace weir::host

#endif  // WEIR_HOST_PIPELINE_REDACT_HPP
