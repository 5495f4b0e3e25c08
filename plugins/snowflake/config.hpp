// plugins/snowflake/config.hpp — the snowflake destination's config object.
//
//   {"connection_string": "Driver=SnowflakeDSIIDriver", "account": "xy12345.eu-central-1",
//    "user": "WEIR_LOADER", "password": "${SNOWFLAKE_PASSWORD}",
//    "warehouse": "LOAD_WH", "database": "ANALYTICS", "schema": "WEIR", "role": "WEIR_LOADER",
//    "tables": {"events": "EVENTS"}, "load_method": "insert", "rows_per_statement": 1000,
//    "promoted_columns": [{"path": "/$browser", "column": "BROWSER", "type": "VARCHAR"}]}
//
// Secrets (`password`, `private_key_passphrase`) are meant to be `${ENV}` references that the
// host resolves before the plugin sees the config; the plugin never prints them, and every
// driver diagnostic passes through Redactor (odbc.hpp), which blanks them out (Secrets() lists
// each in its plain and its connection-string form). Every problem
// is WEIR_INVALID_CONFIG naming the field ("config.schema: required (the schema of the target tables)"); unknown and
// duplicate keys are refused so a typo is never silently ignored. Full reference:
// docs/snowflake.md.
#ifndef WEIR_PLUGINS_SNOWFLAKE_CONFIG_HPP
#define WEIR_PLUGINS_SNOWFLAKE_CONFIG_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "snowflake/sql.hpp"
#include "weir/plugin.hpp"

namespace weir::snowflake {

/// The JSON Schema (draft 2020-12) published in the plugin descriptor.
extern const char* const kConfigSchema;

/// How a batch reaches the staging table.
enum class LoadMethod {
  kInsert,  ///< ODBC array binding (SQL_ATTR_PARAMSET_SIZE) of INSERT statements
  kStage,   ///< gzip NDJSON file, PUT to the table stage, COPY INTO (Snowflake only)
};

/// A validated config. Holds secrets: never log it; use Describe() for messages.
struct Config {
  std::string connection_string;  ///< ODBC attributes ("Driver=...;..."); may be empty with dsn
  std::string dsn;                ///< an ODBC data source name; may be empty with a string
  std::string account;            ///< Snowflake account identifier -> Server=<account>...
  std::string user;
  std::string password;                ///< secret
  std::string authenticator;           ///< "" (driver default) or "SNOWFLAKE_JWT"
  std::string private_key_file;        ///< key-pair authentication
  std::string private_key_passphrase;  ///< secret
  std::string warehouse;
  std::string database;
  std::string role;
  TableNames tables;  ///< sanitized; tables.schema is the `schema` field
  LoadMethod load_method = LoadMethod::kInsert;
  int64_t rows_per_statement = 1000;
  std::string stage_dir = "/tmp";  ///< where `stage` writes its gzip files before PUT
  int64_t login_timeout_s = 30;
  Dialect dialect = Dialect::kSnowflake;
  std::vector<PromotedColumn> promoted;

  /// The full ODBC connection string, secrets included: hand it to the driver and nothing else.
  std::string OdbcConnectionString() const;
  /// A secret-free description of the target for messages ("account 'x', user 'u', ...").
  std::string Describe() const;
  /// Every secret value (password, passphrase, and any PWD-like attribute of the connection
  /// string), for redaction.
  std::vector<std::string> Secrets() const;
};

/// Parses and validates `json`; errors are WEIR_INVALID_CONFIG naming the field.
Result<Config> ParseConfig(std::string_view json);

/// An ODBC attribute value, braced when it contains characters the connection-string syntax
/// treats specially (`;`, `{`, `}`, `=`, leading/trailing space), with `}` doubled.
std::string OdbcValue(std::string_view value);

}  // namespace weir::snowflake

#endif  // WEIR_PLUGINS_SNOWFLAKE_CONFIG_HPP
