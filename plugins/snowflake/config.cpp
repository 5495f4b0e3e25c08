// plugins/snowflake/config.cpp — parsing and validating the snowflake destination's config
// (simdjson DOM; the config is small and read once per instance).
#include "snowflake/config.hpp"

#include <simdjson.h>

#include <set>
#include <utility>

#include "weir/config_json.hpp"

namespace weir::snowflake {

const char* const kConfigSchema = R"json({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "snowflake",
  "description": "Loads events, users and identities into Snowflake through ODBC, effectively once: staging table + MERGE + batch ledger in one transaction per batch. Secrets belong in ${ENV} references.",
  "type": "object",
  "additionalProperties": false,
  "required": ["schema"],
  "anyOf": [{"required": ["connection_string"]}, {"required": ["dsn"]}],
  "properties": {
    "connection_string": {"type": "string", "description": "ODBC attributes, e.g. Driver=SnowflakeDSIIDriver (or a driver .so path). Keep secrets out of it."},
    "dsn": {"type": "string", "description": "An ODBC data source name from odbc.ini."},
    "account": {"type": "string", "description": "Account identifier; sets Server=<account>.snowflakecomputing.com."},
    "user": {"type": "string"},
    "password": {"type": "string", "description": "Secret: write \"${SNOWFLAKE_PASSWORD}\"."},
    "authenticator": {"enum": ["snowflake", "snowflake_jwt", "SNOWFLAKE", "SNOWFLAKE_JWT"], "description": "snowflake (password, default) or snowflake_jwt (key pair)."},
    "private_key_file": {"type": "string", "description": "PKCS#8 private key file for snowflake_jwt."},
    "private_key_passphrase": {"type": "string", "description": "Secret: passphrase of an encrypted private key; write \"${ENV}\"."},
    "warehouse": {"type": "string"},
    "database": {"type": "string"},
    "schema": {"type": "string", "minLength": 1, "description": "Schema of the target tables (upper-cased and sanitized)."},
    "role": {"type": "string"},
    "tables": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "events": {"type": "string", "default": "EVENTS"},
        "users": {"type": "string", "default": "USERS"},
        "identities": {"type": "string", "default": "IDENTITIES"},
        "ledger": {"type": "string", "default": "_WEIR_BATCHES"}
      }
    },
    "load_method": {"enum": ["insert", "stage"], "default": "insert"},
    "rows_per_statement": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1000, "description": "Rows per ODBC parameter array; statements are also kept under 1 MB."},
    "stage_dir": {"type": "string", "default": "/tmp", "description": "Local directory for the gzip files of load_method stage."},
    "login_timeout_s": {"type": "integer", "minimum": 1, "maximum": 3600, "default": 30},
    "dialect": {"enum": ["snowflake", "postgresql"], "default": "snowflake", "description": "postgresql exists only for weir's own tests against PostgreSQL."},
    "promoted_columns": {
      "type": "array",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["path", "column", "type"],
        "properties": {
          "path": {"type": "string", "description": "JSON Pointer into properties, e.g. /$browser."},
          "column": {"type": "string"},
          "type": {"enum": ["VARCHAR", "NUMBER", "FLOAT", "BOOLEAN", "TIMESTAMP_NTZ", "VARIANT"]},
          "stream": {"enum": ["events", "users"], "default": "events"}
        }
      }
    }
  }
})json";

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
/// Config strings may be empty here: the checks after each read say what "" means for the
/// field (absent credentials, a required schema, an invalid identifier).
constexpr bool kEmptyOk = true;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status ParseTables(const object& root, TableNames* tables) {
  element e;
  if (root.at_key("tables").get(e)) return Status::OK();
  object obj;
  if (e.get_object().get(obj)) {
    return Status::InvalidConfig(std::string("config.tables: expected an object, got ") +
                                 JsonTypeName(e));
  }
  const std::string where = "config.tables.";
  WEIR_RETURN_NOT_OK(CheckConfigKeys(obj, where, {"events", "users", "identities", "ledger"}));
  struct Slot {
    const char* key;
    std::string* out;
  };
  for (Slot slot : {Slot{"events", &tables->events}, Slot{"users", &tables->users},
                    Slot{"identities", &tables->identities}, Slot{"ledger", &tables->ledger}}) {
    WEIR_ASSIGN_OR_RETURN(std::string raw,
                          OptionalString(obj, where, slot.key, *slot.out, kEmptyOk));
    WEIR_ASSIGN_OR_RETURN(*slot.out, SanitizeIdentifier(raw, where + slot.key));
  }
  std::set<std::string> distinct = {tables->events, tables->users, tables->identities,
                                    tables->ledger};
  if (distinct.size() != 4) {
    return Status::InvalidConfig(
        "config.tables: events, users, identities and ledger must name four different tables "
        "(after upper-casing)");
  }
  return Status::OK();
}

/// Names a promoted column may not take: the stream's own columns.
std::set<std::string> ReservedColumns(StreamKind stream) {
  std::set<std::string> out = {"_WEIR_BATCH", "_WEIR_LOADED_AT"};
  SqlBuilder sql(Dialect::kSnowflake, TableNames{}, {});
  for (const std::string& c : sql.StageColumns(stream)) out.insert(c);
  return out;
}

Status ParsePromoted(const object& root, std::vector<PromotedColumn>* out) {
  element e;
  if (root.at_key("promoted_columns").get(e)) return Status::OK();
  simdjson::dom::array arr;
  if (e.get_array().get(arr)) {
    return Status::InvalidConfig(std::string("config.promoted_columns: expected an array, got ") +
                                 JsonTypeName(e));
  }
  std::set<std::string> used_events = ReservedColumns(StreamKind::kEvents);
  std::set<std::string> used_users = ReservedColumns(StreamKind::kUsers);
  size_t index = 0;
  for (element item : arr) {
    const std::string where = "config.promoted_columns[" + std::to_string(index++) + "].";
    object obj;
    if (item.get_object().get(obj)) {
      return Status::InvalidConfig(where.substr(0, where.size() - 1) +
                                   ": expected an object, got " + JsonTypeName(item));
    }
    WEIR_RETURN_NOT_OK(CheckConfigKeys(obj, where, {"path", "column", "type", "stream"}));
    PromotedColumn p;
    WEIR_ASSIGN_OR_RETURN(p.pointer, OptionalString(obj, where, "path", "", kEmptyOk));
    if (p.pointer.empty() || p.pointer[0] != '/') {
      return Status::InvalidConfig(where +
                                   "path: required, a JSON Pointer into properties such as "
                                   "\"/$browser\" or \"/cart/total\"");
    }
    WEIR_ASSIGN_OR_RETURN(std::string column, OptionalString(obj, where, "column", "", kEmptyOk));
    WEIR_ASSIGN_OR_RETURN(p.column, SanitizeIdentifier(column, where + "column"));
    WEIR_ASSIGN_OR_RETURN(std::string type, OptionalString(obj, where, "type", "", kEmptyOk));
    if (!ParseColumnType(type, &p.type)) {
      return Status::InvalidConfig(where + "type: '" + type +
                                   "' is not one of VARCHAR, NUMBER, FLOAT, BOOLEAN, "
                                   "TIMESTAMP_NTZ, VARIANT");
    }
    WEIR_ASSIGN_OR_RETURN(std::string stream,
                          OptionalString(obj, where, "stream", "events", kEmptyOk));
    if (!ParseStreamKind(stream, &p.stream) || p.stream == StreamKind::kIdentities) {
      return Status::InvalidConfig(where + "stream: '" + stream + "' is not one of events, users");
    }
    auto& used = p.stream == StreamKind::kEvents ? used_events : used_users;
    if (!used.insert(p.column).second) {
      return Status::InvalidConfig(where + "column: " + p.column + " is already a column of the " +
                                   StreamName(p.stream) + " table");
    }
    out->push_back(std::move(p));
  }
  return Status::OK();
}

/// The value of every attribute of an ODBC connection string whose key names a secret.
void ConnectionStringSecrets(std::string_view cs, std::vector<std::string>* out) {
  size_t i = 0;
  while (i < cs.size()) {
    const size_t eq = cs.find('=', i);
    if (eq == std::string_view::npos) return;
    std::string key = Lower(cs.substr(i, eq - i));
    while (!key.empty() && key.front() == ' ') key.erase(key.begin());
    while (!key.empty() && key.back() == ' ') key.pop_back();
    std::string value;
    size_t j = eq + 1;
    if (j < cs.size() && cs[j] == '{') {
      for (++j; j < cs.size(); ++j) {
        if (cs[j] == '}') {
          if (j + 1 < cs.size() && cs[j + 1] == '}') {
            value.push_back('}');
            ++j;
            continue;
          }
          ++j;
          break;
        }
        value.push_back(cs[j]);
      }
      const size_t semi = cs.find(';', j);
      j = semi == std::string_view::npos ? cs.size() : semi;
    } else {
      const size_t semi = cs.find(';', j);
      const size_t end = semi == std::string_view::npos ? cs.size() : semi;
      value = std::string(cs.substr(j, end - j));
      j = end;
    }
    if (key == "pwd" || key == "password" || key == "priv_key_file_pwd" || key == "token" ||
        key == "priv_key_base64" || key == "passcode") {
      if (!value.empty()) out->push_back(value);
    }
    i = j + 1;
  }
}

}  // namespace

std::string OdbcValue(std::string_view value) {
  bool brace = !value.empty() && (value.front() == ' ' || value.back() == ' ');
  for (char c : value) brace = brace || c == ';' || c == '{' || c == '}' || c == '=';
  if (!brace) return std::string(value);
  std::string out = "{";
  for (char c : value) {
    out.push_back(c);
    if (c == '}') out.push_back('}');
  }
  out.push_back('}');
  return out;
}

Result<Config> ParseConfig(std::string_view json) {
  simdjson::dom::parser parser;
  object obj;
  WEIR_RETURN_NOT_OK(
      ParseConfigObject(parser, json,
                        {"connection_string", "dsn", "account", "user", "password", "authenticator",
                         "private_key_file", "private_key_passphrase", "warehouse", "database",
                         "schema", "role", "tables", "load_method", "rows_per_statement",
                         "stage_dir", "login_timeout_s", "dialect", "promoted_columns"},
                        &obj));
  const std::string where = "config.";
  Config c;
  WEIR_ASSIGN_OR_RETURN(c.connection_string,
                        OptionalString(obj, where, "connection_string", "", kEmptyOk));
  WEIR_ASSIGN_OR_RETURN(c.dsn, OptionalString(obj, where, "dsn", "", kEmptyOk));
  if (c.connection_string.empty() && c.dsn.empty()) {
    return Status::InvalidConfig(
        "config.connection_string: required unless config.dsn is given (an ODBC connection "
        "string such as \"Driver=SnowflakeDSIIDriver\")");
  }
  WEIR_ASSIGN_OR_RETURN(c.account, OptionalString(obj, where, "account", "", kEmptyOk));
  WEIR_ASSIGN_OR_RETURN(c.user, OptionalString(obj, where, "user", "", kEmptyOk));
  WEIR_ASSIGN_OR_RETURN(c.password, OptionalString(obj, where, "password", "", kEmptyOk));
  WEIR_ASSIGN_OR_RETURN(std::string authenticator,
                        OptionalString(obj, where, "authenticator", "", kEmptyOk));
  authenticator = Lower(authenticator);
  if (authenticator == "snowflake_jwt") {
    c.authenticator = "SNOWFLAKE_JWT";
  } else if (!authenticator.empty() && authenticator != "snowflake") {
    return Status::InvalidConfig("config.authenticator: '" + authenticator +
                                 "' is not one of snowflake, snowflake_jwt");
  }
  WEIR_ASSIGN_OR_RETURN(c.private_key_file,
                        OptionalString(obj, where, "private_key_file", "", kEmptyOk));
  WEIR_ASSIGN_OR_RETURN(c.private_key_passphrase,
                        OptionalString(obj, where, "private_key_passphrase", "", kEmptyOk));
  if (c.authenticator == "SNOWFLAKE_JWT") {
    if (c.private_key_file.empty()) {
      return Status::InvalidConfig(
          "config.private_key_file: required with authenticator snowflake_jwt");
    }
    if (!c.password.empty()) {
      return Status::InvalidConfig(
          "config.password: not used with authenticator snowflake_jwt (key-pair "
          "authentication); remove it");
    }
  } else if (!c.private_key_file.empty() || !c.private_key_passphrase.empty()) {
    return Status::InvalidConfig(
        "config.private_key_file: key-pair authentication needs \"authenticator\": "
        "\"snowflake_jwt\"");
  }
  WEIR_ASSIGN_OR_RETURN(c.warehouse, OptionalString(obj, where, "warehouse", "", kEmptyOk));
  WEIR_ASSIGN_OR_RETURN(c.database, OptionalString(obj, where, "database", "", kEmptyOk));
  WEIR_ASSIGN_OR_RETURN(c.role, OptionalString(obj, where, "role", "", kEmptyOk));
  WEIR_ASSIGN_OR_RETURN(std::string schema, OptionalString(obj, where, "schema", "", kEmptyOk));
  if (schema.empty()) {
    return Status::InvalidConfig("config.schema: required (the schema of the target tables)");
  }
  WEIR_ASSIGN_OR_RETURN(c.tables.schema, SanitizeIdentifier(schema, "config.schema"));
  WEIR_RETURN_NOT_OK(ParseTables(obj, &c.tables));

  WEIR_ASSIGN_OR_RETURN(std::string dialect,
                        OptionalString(obj, where, "dialect", "snowflake", kEmptyOk));
  if (dialect == "postgresql") {
    c.dialect = Dialect::kPostgres;
  } else if (dialect != "snowflake") {
    return Status::InvalidConfig("config.dialect: '" + dialect +
                                 "' is not one of snowflake, postgresql");
  }
  WEIR_ASSIGN_OR_RETURN(std::string method,
                        OptionalString(obj, where, "load_method", "insert", kEmptyOk));
  if (method == "stage") {
    c.load_method = LoadMethod::kStage;
    if (c.dialect != Dialect::kSnowflake) {
      return Status::InvalidConfig(
          "config.load_method: 'stage' (PUT and COPY INTO) needs dialect snowflake");
    }
  } else if (method != "insert") {
    return Status::InvalidConfig("config.load_method: '" + method +
                                 "' is not one of insert, stage");
  }
  WEIR_ASSIGN_OR_RETURN(c.rows_per_statement,
                        OptionalInt(obj, where, "rows_per_statement", 1000, 1, 100000));
  WEIR_ASSIGN_OR_RETURN(c.login_timeout_s, OptionalInt(obj, where, "login_timeout_s", 30, 1, 3600));
  WEIR_ASSIGN_OR_RETURN(c.stage_dir, OptionalString(obj, where, "stage_dir", "/tmp", kEmptyOk));
  if (c.stage_dir.empty() || c.stage_dir[0] != '/') {
    return Status::InvalidConfig("config.stage_dir: must be an absolute path");
  }
  WEIR_RETURN_NOT_OK(ParsePromoted(obj, &c.promoted));
  return c;
}

std::string Config::OdbcConnectionString() const {
  std::string out;
  auto add = [&out](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!out.empty() && out.back() != ';') out.push_back(';');
    out += std::string(key) + "=" + OdbcValue(value);
  };
  add("DSN", dsn);
  if (!connection_string.empty()) {
    if (!out.empty()) out.push_back(';');
    out += connection_string;
  }
  if (!account.empty()) {
    add("Server", account + ".snowflakecomputing.com");
    add("Account", account);
  }
  add("UID", user);
  add("PWD", password);
  add("Authenticator", authenticator);
  add("Priv_Key_File", private_key_file);
  add("Priv_Key_File_Pwd", private_key_passphrase);
  add("Warehouse", warehouse);
  add("Database", database);
  add("Schema", tables.schema);
  add("Role", role);
  return out;
}

std::string Config::Describe() const {
  std::string out;
  auto add = [&out](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!out.empty()) out += ", ";
    out += std::string(key) + " '" + std::string(value) + "'";
  };
  add("dsn", dsn);
  add("account", account);
  add("user", user);
  add("database", database);
  add("schema", tables.schema);
  add("role", role);
  return out;
}

std::vector<std::string> Config::Secrets() const {
  std::vector<std::string> out;
  if (!password.empty()) out.push_back(password);
  if (!private_key_passphrase.empty()) out.push_back(private_key_passphrase);
  ConnectionStringSecrets(connection_string, &out);
  // A driver that echoes the connection string shows a secret as written there: braced, with
  // '}' doubled (OdbcValue).
  const size_t plain = out.size();
  for (size_t i = 0; i < plain; ++i) {
    if (std::string quoted = OdbcValue(out[i]); quoted != out[i]) out.push_back(std::move(quoted));
  }
  return out;
}

}  // namespace weir::snowflake
