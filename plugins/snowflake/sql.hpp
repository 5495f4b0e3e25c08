// plugins/snowflake/sql.hpp — every SQL text the snowflake destination emits, and the one rule
// for identifiers.
//
// Nothing outside this file writes SQL. Values from event data never reach SQL text: they are
// bound as ODBC parameters (or, for the `stage` load method, travel inside a gzip NDJSON file).
// Identifiers come only from the config (schema, table and promoted column names) and pass
// through one documented rule, SanitizeIdentifier():
//
//   1. ASCII letters are upper-cased;
//   2. every byte outside [A-Z0-9_$] becomes '_' (so a quote, a space, a ';' or any non-ASCII
//      byte can never reach SQL text);
//   3. a name that then starts with a digit or '$' gets a leading '_';
//   4. an empty name, or one longer than 255 bytes, is refused.
//
// The result is a valid *unquoted* Snowflake identifier, and the SQL always emits it
// double-quoted ("EVENTS"), which in Snowflake names the same object as the unquoted form: an
// analyst can write `select * from weir.events`. Table stages are referenced unquoted
// (`@WEIR.%EVENTS`), which the rule makes safe.
//
// The SQL is Snowflake's. The `postgresql` dialect exists only so the tests can run the same
// plugin against PostgreSQL 15; it changes the session setup and nothing else (see
// SessionSetup()).
//
//   SqlBuilder sql(Dialect::kSnowflake, tables, promoted);
//   session.Execute(sql.CreateTarget(StreamKind::kEvents));
#ifndef WEIR_PLUGINS_SNOWFLAKE_SQL_HPP
#define WEIR_PLUGINS_SNOWFLAKE_SQL_HPP

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "weir/plugin.hpp"

namespace weir::snowflake {

/// Which SQL the plugin speaks. kPostgres exists only for the tests (see the banner).
enum class Dialect { kSnowflake, kPostgres };

/// The three canonical streams (DESIGN.md §2).
enum class StreamKind { kEvents, kUsers, kIdentities };

/// "events", "users" or "identities".
const char* StreamName(StreamKind stream);
/// Parses a stream name; false for anything else.
bool ParseStreamKind(std::string_view name, StreamKind* out);

/// The types a promoted column may have. NUMBER is NUMBER(38,0): integers only.
enum class ColumnType { kVarchar, kNumber, kFloat, kBoolean, kTimestampNtz, kVariant };

/// The Snowflake type name ("VARCHAR", "NUMBER", ...).
const char* ColumnTypeName(ColumnType type);
/// Parses a type name (case-insensitive); false for anything else.
bool ParseColumnType(std::string_view name, ColumnType* out);

/// A property promoted to a typed column of its own.
struct PromotedColumn {
  StreamKind stream = StreamKind::kEvents;  ///< events or users
  std::string pointer;                      ///< RFC 6901 JSON Pointer into "properties"
  std::string column;                       ///< sanitized identifier
  ColumnType type = ColumnType::kVarchar;
};

/// The (sanitized) names of the objects the plugin writes.
struct TableNames {
  std::string schema = "PUBLIC";
  std::string events = "EVENTS";
  std::string users = "USERS";
  std::string identities = "IDENTITIES";
  std::string ledger = "_WEIR_BATCHES";
};

/// Applies the identifier rule of the banner. `what` names the config field in the error
/// ("config.tables.events: ..."), which is WEIR_INVALID_CONFIG.
Result<std::string> SanitizeIdentifier(std::string_view name, std::string_view what);

/// `"NAME"`, with any '"' doubled. Used on sanitized names only, but safe on anything.
std::string QuoteIdentifier(std::string_view name);

/// A Snowflake single-quoted string literal: `'` and `\` are escaped with a backslash, control
/// characters as \n, \r, \t or \x.. escapes. Only used for local file paths (PUT).
std::string StringLiteral(std::string_view value);

/// Builds every statement. Immutable after construction; cheap to copy.
class SqlBuilder {
 public:
  SqlBuilder(Dialect dialect, TableNames tables, std::vector<PromotedColumn> promoted);

  Dialect dialect() const { return dialect_; }
  const TableNames& tables() const { return tables_; }
  /// The (unquoted) target table name of a stream.
  const std::string& TargetName(StreamKind stream) const;

  /// Run once per connection. Snowflake: pin TIMEZONE to UTC (so CURRENT_TIMESTAMP converts to
  /// UTC wall time in _WEIR_LOADED_AT), map TIMESTAMP to TIMESTAMP_NTZ, pin the input format of
  /// the staged times (an account-level format must not change how they parse), and USE the
  /// schema (temporary staging tables are created unqualified). PostgreSQL: `SET TIME ZONE 'UTC'`
  /// (there is no ALTER SESSION; the tables are always schema-qualified and temporary tables
  /// live in pg_temp), and hash and merge joins off, so that a MERGE probes the target's key
  /// index instead of scanning the whole target for every batch (sql.cpp).
  std::vector<std::string> SessionSetup() const;

  /// One parameter (the schema name); answers a count, 0 when the schema is missing or the
  /// role cannot see it. Standard INFORMATION_SCHEMA, the same in both dialects.
  std::string SchemaExists() const;

  /// `"SCHEMA"."TABLE"` of the stream's target table / of the ledger.
  std::string QualifiedTarget(StreamKind stream) const;
  std::string QualifiedLedger() const;
  /// The unqualified temporary staging table of a stream ("_WEIR_STAGE_EVENTS").
  std::string StageTableName(StreamKind stream) const;

  std::string CreateLedger() const;
  std::string CreateTarget(StreamKind stream) const;
  /// `ALTER TABLE … ADD COLUMN IF NOT EXISTS` for each promoted column of the stream.
  std::vector<std::string> AddPromotedColumns(StreamKind stream) const;
  std::string CreateStageTable(StreamKind stream) const;
  /// Empties the staging table; the first statement of a batch's transaction.
  std::string ClearStageTable(StreamKind stream) const;

  /// The staging table's columns, in the order rows are built (rows.hpp): the stream's base
  /// columns, then its promoted columns. All VARCHAR.
  std::vector<std::string> StageColumns(StreamKind stream) const;
  /// INSERT of one staged row with one `?` per stage column (executed with array binding).
  std::string InsertStage(StreamKind stream) const;

  /// MERGE from the staging table into the target; every `?` is the batch key (MergeParams()
  /// of them). Events: inserted unless their INSERT_ID exists. Users: inserted, or updated only
  /// when the staged UPDATED_AT is not older than the stored one. Identities: inserted unless
  /// (DISTINCT_ID, USER_ID) exists.
  std::string Merge(StreamKind stream) const;
  int MergeParams(StreamKind stream) const;

  /// One parameter (the batch key); answers a count.
  std::string LedgerLookup() const;
  /// Parameters: batch key, pipeline, stream, batch_seq (BIGINT), target table, records
  /// (BIGINT), staged rows (BIGINT).
  std::string LedgerInsert() const;

  /// The `stage` load method (Snowflake only). The stage path is `@SCHEMA.%TABLE/_weir/`.
  std::string StagePath(StreamKind stream) const;
  /// PUT of a local gzip file (absolute path) to the table stage, overwriting.
  std::string Put(StreamKind stream, std::string_view local_path) const;
  /// COPY INTO the staging table from exactly one staged file; FORCE so a replay reloads it.
  std::string CopyIntoStage(StreamKind stream, std::string_view file_name) const;
  /// Removes the staged file after the batch committed.
  std::string RemoveStaged(StreamKind stream, std::string_view file_name) const;

 private:
  std::vector<const PromotedColumn*> Promoted(StreamKind stream) const;
  /// The SQL expression converting staged column `s.<col>` to `type`.
  static std::string Convert(const std::string& column, ColumnType type);

  Dialect dialect_;
  TableNames tables_;
  std::vector<PromotedColumn> promoted_;
};

}  // namespace weir::snowflake

#endif  // WEIR_PLUGINS_SNOWFLAKE_SQL_HPP
