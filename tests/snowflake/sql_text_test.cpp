// tests/snowflake/sql_text_test.cpp — the Snowflake SQL the plugin emits, verbatim, and the pure
// parts around it: the identifier rule, config parsing, connection strings and secrets, error
// classification, staging rows, chunking, stage files, and the exact statement sequence of a
// load (insert and stage methods) recorded through a fake Session. No database needed.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "snowflake/config.hpp"
#include "snowflake/loader.hpp"
#include "snowflake/odbc.hpp"
#include "snowflake/rows.hpp"
#include "snowflake/sql.hpp"
#include "snowflake/stage.hpp"
#include "temp_dir.hpp"

namespace weir::snowflake {
namespace {

TableNames Weir() {
  TableNames t;
  t.schema = "WEIR";
  return t;
}

// ---------------------------------------------------------------------------------------------
// Identifiers and literals

TEST(SnowflakeSql, IdentifierRuleUppercasesAndReplacesEverythingOutsideTheSafeSet) {
  EXPECT_EQ(SanitizeIdentifier("events", "x").value(), "EVENTS");
  EXPECT_EQ(SanitizeIdentifier("My Table", "x").value(), "MY_TABLE");
  EXPECT_EQ(SanitizeIdentifier("a\"; DROP TABLE x; --", "x").value(), "A___DROP_TABLE_X____");
  EXPECT_EQ(SanitizeIdentifier("9lives", "x").value(), "_9LIVES");
  EXPECT_EQ(SanitizeIdentifier("$price", "x").value(), "_$PRICE");
  EXPECT_EQ(SanitizeIdentifier("caf\xc3\xa9", "x").value(), "CAF__");
  EXPECT_EQ(SanitizeIdentifier("_weir_batches", "x").value(), "_WEIR_BATCHES");
  auto empty = SanitizeIdentifier("", "config.schema");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), WEIR_INVALID_CONFIG);
  EXPECT_EQ(empty.status().message(), "config.schema: must not be empty");
  EXPECT_FALSE(SanitizeIdentifier(std::string(256, 'a'), "x").ok());
  EXPECT_TRUE(SanitizeIdentifier(std::string(255, 'a'), "x").ok());
}

TEST(SnowflakeSql, QuotingDoublesQuotesAndLiteralsEscapeBackslashes) {
  EXPECT_EQ(QuoteIdentifier("EVENTS"), "\"EVENTS\"");
  EXPECT_EQ(QuoteIdentifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(StringLiteral("file:///tmp/a b/it's\\x\n"), "'file:///tmp/a b/it\\'s\\\\x\\n'");
}

// ---------------------------------------------------------------------------------------------
// Every statement, verbatim

TEST(SnowflakeSql, SessionSetupPinsUtcAndTimestampMapping) {
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  EXPECT_EQ(sql.SessionSetup(),
            (std::vector<std::string>{
                "ALTER SESSION SET TIMEZONE = 'UTC'",
                "ALTER SESSION SET TIMESTAMP_TYPE_MAPPING = 'TIMESTAMP_NTZ'",
                "ALTER SESSION SET TIMESTAMP_INPUT_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF3'",
                "USE SCHEMA \"WEIR\""}));
  EXPECT_EQ(sql.SchemaExists(),
            "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ?");
  // The PostgreSQL dialect differs here and nowhere else.
  SqlBuilder pg(Dialect::kPostgres, Weir(), {});
  EXPECT_EQ(pg.SessionSetup(),
            (std::vector<std::string>{"SET TIME ZONE 'UTC'", "SET enable_hashjoin = off",
                                      "SET enable_mergejoin = off"}));
  for (StreamKind k : {StreamKind::kEvents, StreamKind::kUsers, StreamKind::kIdentities}) {
    EXPECT_EQ(pg.CreateTarget(k), sql.CreateTarget(k));
    EXPECT_EQ(pg.Merge(k), sql.Merge(k));
    EXPECT_EQ(pg.InsertStage(k), sql.InsertStage(k));
    EXPECT_EQ(pg.CreateStageTable(k), sql.CreateStageTable(k));
  }
  EXPECT_EQ(pg.LedgerInsert(), sql.LedgerInsert());
}

TEST(SnowflakeSql, LedgerStatements) {
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  EXPECT_EQ(sql.CreateLedger(),
            "CREATE TABLE IF NOT EXISTS \"WEIR\".\"_WEIR_BATCHES\" (\"BATCH_KEY\" VARCHAR NOT "
            "NULL, \"PIPELINE\" VARCHAR, \"STREAM\" VARCHAR, \"BATCH_SEQ\" BIGINT, "
            "\"TARGET_TABLE\" VARCHAR, \"RECORDS\" BIGINT, \"STAGED_ROWS\" BIGINT, \"LOADED_AT\" "
            "TIMESTAMP_NTZ, PRIMARY KEY (\"BATCH_KEY\"))");
  EXPECT_EQ(sql.LedgerLookup(),
            "SELECT COUNT(*) FROM \"WEIR\".\"_WEIR_BATCHES\" WHERE \"BATCH_KEY\" = ?");
  EXPECT_EQ(sql.LedgerInsert(),
            "INSERT INTO \"WEIR\".\"_WEIR_BATCHES\" (\"BATCH_KEY\", \"PIPELINE\", \"STREAM\", "
            "\"BATCH_SEQ\", \"TARGET_TABLE\", \"RECORDS\", \"STAGED_ROWS\", \"LOADED_AT\") "
            "VALUES (?, ?, ?, ?, ?, ?, ?, CAST(CURRENT_TIMESTAMP AS TIMESTAMP_NTZ))");
}

TEST(SnowflakeSql, EventsStatements) {
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  const StreamKind k = StreamKind::kEvents;
  EXPECT_EQ(sql.CreateTarget(k),
            "CREATE TABLE IF NOT EXISTS \"WEIR\".\"EVENTS\" (\"INSERT_ID\" VARCHAR NOT NULL, "
            "\"EVENT\" VARCHAR, \"DISTINCT_ID\" VARCHAR, \"TIME\" TIMESTAMP_NTZ, \"PROPERTIES\" "
            "VARIANT, \"_WEIR_BATCH\" VARCHAR, \"_WEIR_LOADED_AT\" TIMESTAMP_NTZ, PRIMARY KEY "
            "(\"INSERT_ID\"))");
  EXPECT_EQ(sql.CreateStageTable(k),
            "CREATE TEMPORARY TABLE IF NOT EXISTS \"_WEIR_STAGE_EVENTS\" (\"INSERT_ID\" VARCHAR, "
            "\"EVENT\" VARCHAR, \"DISTINCT_ID\" VARCHAR, \"TIME\" VARCHAR, \"PROPERTIES\" "
            "VARCHAR)");
  EXPECT_EQ(sql.ClearStageTable(k), "TRUNCATE TABLE \"_WEIR_STAGE_EVENTS\"");
  EXPECT_EQ(sql.InsertStage(k),
            "INSERT INTO \"_WEIR_STAGE_EVENTS\" (\"INSERT_ID\", \"EVENT\", \"DISTINCT_ID\", "
            "\"TIME\", \"PROPERTIES\") VALUES (?, ?, ?, ?, ?)");
  EXPECT_EQ(sql.Merge(k),
            "MERGE INTO \"WEIR\".\"EVENTS\" AS t USING \"_WEIR_STAGE_EVENTS\" AS s ON "
            "t.\"INSERT_ID\" = s.\"INSERT_ID\" WHEN NOT MATCHED THEN INSERT (\"INSERT_ID\", "
            "\"EVENT\", \"DISTINCT_ID\", \"TIME\", \"PROPERTIES\", \"_WEIR_BATCH\", "
            "\"_WEIR_LOADED_AT\") VALUES (s.\"INSERT_ID\", s.\"EVENT\", s.\"DISTINCT_ID\", "
            "CAST(s.\"TIME\" AS TIMESTAMP_NTZ), PARSE_JSON(s.\"PROPERTIES\"), ?, "
            "CAST(CURRENT_TIMESTAMP AS TIMESTAMP_NTZ))");
  EXPECT_EQ(sql.MergeParams(k), 1);
}

TEST(SnowflakeSql, UsersStatementsGuardOnUpdatedAt) {
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  const StreamKind k = StreamKind::kUsers;
  EXPECT_EQ(sql.CreateTarget(k),
            "CREATE TABLE IF NOT EXISTS \"WEIR\".\"USERS\" (\"DISTINCT_ID\" VARCHAR NOT NULL, "
            "\"UPDATED_AT\" TIMESTAMP_NTZ, \"PROPERTIES\" VARIANT, \"DELETED\" BOOLEAN, "
            "\"_WEIR_BATCH\" VARCHAR, \"_WEIR_LOADED_AT\" TIMESTAMP_NTZ, PRIMARY KEY "
            "(\"DISTINCT_ID\"))");
  EXPECT_EQ(sql.CreateStageTable(k),
            "CREATE TEMPORARY TABLE IF NOT EXISTS \"_WEIR_STAGE_USERS\" (\"DISTINCT_ID\" "
            "VARCHAR, \"UPDATED_AT\" VARCHAR, \"PROPERTIES\" VARCHAR, \"DELETED\" VARCHAR)");
  EXPECT_EQ(sql.InsertStage(k),
            "INSERT INTO \"_WEIR_STAGE_USERS\" (\"DISTINCT_ID\", \"UPDATED_AT\", \"PROPERTIES\", "
            "\"DELETED\") VALUES (?, ?, ?, ?)");
  EXPECT_EQ(
      sql.Merge(k),
      "MERGE INTO \"WEIR\".\"USERS\" AS t USING \"_WEIR_STAGE_USERS\" AS s ON "
      "t.\"DISTINCT_ID\" = s.\"DISTINCT_ID\" WHEN MATCHED AND CAST(s.\"UPDATED_AT\" AS "
      "TIMESTAMP_NTZ) >= t.\"UPDATED_AT\" THEN UPDATE SET \"UPDATED_AT\" = "
      "CAST(s.\"UPDATED_AT\" AS TIMESTAMP_NTZ), \"PROPERTIES\" = PARSE_JSON(s.\"PROPERTIES\"), "
      "\"DELETED\" = CAST(s.\"DELETED\" AS BOOLEAN), \"_WEIR_BATCH\" = ?, "
      "\"_WEIR_LOADED_AT\" = CAST(CURRENT_TIMESTAMP AS TIMESTAMP_NTZ) WHEN NOT MATCHED THEN "
      "INSERT (\"DISTINCT_ID\", \"UPDATED_AT\", \"PROPERTIES\", \"DELETED\", \"_WEIR_BATCH\", "
      "\"_WEIR_LOADED_AT\") VALUES (s.\"DISTINCT_ID\", CAST(s.\"UPDATED_AT\" AS "
      "TIMESTAMP_NTZ), PARSE_JSON(s.\"PROPERTIES\"), CAST(s.\"DELETED\" AS BOOLEAN), ?, "
      "CAST(CURRENT_TIMESTAMP AS TIMESTAMP_NTZ))");
  EXPECT_EQ(sql.MergeParams(k), 2);
}

TEST(SnowflakeSql, IdentitiesStatements) {
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  const StreamKind k = StreamKind::kIdentities;
  EXPECT_EQ(sql.CreateTarget(k),
            "CREATE TABLE IF NOT EXISTS \"WEIR\".\"IDENTITIES\" (\"DISTINCT_ID\" VARCHAR NOT "
            "NULL, \"USER_ID\" VARCHAR NOT NULL, \"TIME\" TIMESTAMP_NTZ, \"_WEIR_BATCH\" VARCHAR, "
            "\"_WEIR_LOADED_AT\" TIMESTAMP_NTZ, PRIMARY KEY (\"DISTINCT_ID\", \"USER_ID\"))");
  EXPECT_EQ(sql.CreateStageTable(k),
            "CREATE TEMPORARY TABLE IF NOT EXISTS \"_WEIR_STAGE_IDENTITIES\" (\"DISTINCT_ID\" "
            "VARCHAR, \"USER_ID\" VARCHAR, \"TIME\" VARCHAR)");
  EXPECT_EQ(sql.InsertStage(k),
            "INSERT INTO \"_WEIR_STAGE_IDENTITIES\" (\"DISTINCT_ID\", \"USER_ID\", \"TIME\") "
            "VALUES (?, ?, ?)");
  EXPECT_EQ(sql.Merge(k),
            "MERGE INTO \"WEIR\".\"IDENTITIES\" AS t USING \"_WEIR_STAGE_IDENTITIES\" AS s ON "
            "t.\"DISTINCT_ID\" = s.\"DISTINCT_ID\" AND t.\"USER_ID\" = s.\"USER_ID\" WHEN NOT "
            "MATCHED THEN INSERT (\"DISTINCT_ID\", \"USER_ID\", \"TIME\", \"_WEIR_BATCH\", "
            "\"_WEIR_LOADED_AT\") VALUES (s.\"DISTINCT_ID\", s.\"USER_ID\", CAST(s.\"TIME\" AS "
            "TIMESTAMP_NTZ), ?, CAST(CURRENT_TIMESTAMP AS TIMESTAMP_NTZ))");
}

TEST(SnowflakeSql, PromotedColumnsAreAddedTypedAndMerged) {
  std::vector<PromotedColumn> promoted = {
      {StreamKind::kEvents, "/$browser", "BROWSER", ColumnType::kVarchar},
      {StreamKind::kEvents, "/cart/total", "CART_TOTAL", ColumnType::kFloat},
      {StreamKind::kEvents, "/n", "N", ColumnType::kNumber},
      {StreamKind::kEvents, "/ok", "OK", ColumnType::kBoolean},
      {StreamKind::kEvents, "/at", "AT", ColumnType::kTimestampNtz},
      {StreamKind::kEvents, "/obj", "OBJ", ColumnType::kVariant},
      {StreamKind::kUsers, "/plan", "PLAN", ColumnType::kVarchar}};
  SqlBuilder sql(Dialect::kSnowflake, Weir(), promoted);
  EXPECT_EQ(sql.AddPromotedColumns(StreamKind::kEvents),
            (std::vector<std::string>{
                "ALTER TABLE \"WEIR\".\"EVENTS\" ADD COLUMN IF NOT EXISTS \"BROWSER\" VARCHAR",
                "ALTER TABLE \"WEIR\".\"EVENTS\" ADD COLUMN IF NOT EXISTS \"CART_TOTAL\" FLOAT",
                "ALTER TABLE \"WEIR\".\"EVENTS\" ADD COLUMN IF NOT EXISTS \"N\" NUMBER",
                "ALTER TABLE \"WEIR\".\"EVENTS\" ADD COLUMN IF NOT EXISTS \"OK\" BOOLEAN",
                "ALTER TABLE \"WEIR\".\"EVENTS\" ADD COLUMN IF NOT EXISTS \"AT\" TIMESTAMP_NTZ",
                "ALTER TABLE \"WEIR\".\"EVENTS\" ADD COLUMN IF NOT EXISTS \"OBJ\" VARIANT"}));
  EXPECT_EQ(sql.AddPromotedColumns(StreamKind::kUsers),
            std::vector<std::string>{
                "ALTER TABLE \"WEIR\".\"USERS\" ADD COLUMN IF NOT EXISTS \"PLAN\" VARCHAR"});
  EXPECT_TRUE(sql.AddPromotedColumns(StreamKind::kIdentities).empty());
  EXPECT_EQ(sql.Merge(StreamKind::kEvents),
            "MERGE INTO \"WEIR\".\"EVENTS\" AS t USING \"_WEIR_STAGE_EVENTS\" AS s ON "
            "t.\"INSERT_ID\" = s.\"INSERT_ID\" WHEN NOT MATCHED THEN INSERT (\"INSERT_ID\", "
            "\"EVENT\", \"DISTINCT_ID\", \"TIME\", \"PROPERTIES\", \"BROWSER\", \"CART_TOTAL\", "
            "\"N\", \"OK\", \"AT\", \"OBJ\", \"_WEIR_BATCH\", \"_WEIR_LOADED_AT\") VALUES "
            "(s.\"INSERT_ID\", s.\"EVENT\", s.\"DISTINCT_ID\", CAST(s.\"TIME\" AS TIMESTAMP_NTZ), "
            "PARSE_JSON(s.\"PROPERTIES\"), s.\"BROWSER\", CAST(s.\"CART_TOTAL\" AS FLOAT), "
            "CAST(s.\"N\" AS NUMBER), CAST(s.\"OK\" AS BOOLEAN), CAST(s.\"AT\" AS TIMESTAMP_NTZ), "
            "PARSE_JSON(s.\"OBJ\"), ?, CAST(CURRENT_TIMESTAMP AS TIMESTAMP_NTZ))");
  EXPECT_EQ(
      sql.StageColumns(StreamKind::kUsers),
      (std::vector<std::string>{"DISTINCT_ID", "UPDATED_AT", "PROPERTIES", "DELETED", "PLAN"}));
}

TEST(SnowflakeSql, StageMethodStatements) {
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  const StreamKind k = StreamKind::kEvents;
  EXPECT_EQ(sql.Put(k, "/var/tmp/weir/p.events.000000000007.ndjson.gz"),
            "PUT 'file:///var/tmp/weir/p.events.000000000007.ndjson.gz' @WEIR.%EVENTS/_weir/ "
            "AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = GZIP OVERWRITE = TRUE");
  EXPECT_EQ(sql.CopyIntoStage(k, "p.events.000000000007.ndjson.gz"),
            "COPY INTO \"_WEIR_STAGE_EVENTS\" (\"INSERT_ID\", \"EVENT\", \"DISTINCT_ID\", "
            "\"TIME\", \"PROPERTIES\") FROM (SELECT $1:\"INSERT_ID\"::VARCHAR, "
            "$1:\"EVENT\"::VARCHAR, $1:\"DISTINCT_ID\"::VARCHAR, $1:\"TIME\"::VARCHAR, "
            "$1:\"PROPERTIES\"::VARCHAR FROM @WEIR.%EVENTS/_weir/) FILES = "
            "('p.events.000000000007.ndjson.gz') FILE_FORMAT = (TYPE = JSON COMPRESSION = GZIP) "
            "ON_ERROR = ABORT_STATEMENT FORCE = TRUE");
  EXPECT_EQ(sql.RemoveStaged(k, "p.events.000000000007.ndjson.gz"),
            "REMOVE @WEIR.%EVENTS/_weir/p.events.000000000007.ndjson.gz");
  EXPECT_EQ(sql.StagePath(StreamKind::kUsers), "@WEIR.%USERS/_weir/");
  EXPECT_EQ(sql.StagePath(StreamKind::kIdentities), "@WEIR.%IDENTITIES/_weir/");
}

TEST(SnowflakeSql, ConfiguredNamesReachSqlOnlyThroughTheRule) {
  auto config = ParseConfig(
      R"({"connection_string":"Driver=x","schema":"an'alytics\"; drop","tables":{"events":"my events","ledger":"ledger"}})");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  SqlBuilder sql(Dialect::kSnowflake, config->tables, {});
  EXPECT_EQ(sql.QualifiedTarget(StreamKind::kEvents), "\"AN_ALYTICS___DROP\".\"MY_EVENTS\"");
  EXPECT_EQ(sql.QualifiedLedger(), "\"AN_ALYTICS___DROP\".\"LEDGER\"");
  EXPECT_EQ(sql.StageTableName(StreamKind::kEvents), "_WEIR_STAGE_MY_EVENTS");
  EXPECT_EQ(sql.StagePath(StreamKind::kEvents), "@AN_ALYTICS___DROP.%MY_EVENTS/_weir/");
}

// ---------------------------------------------------------------------------------------------
// Config

Status ConfigError(const std::string& json) {
  auto r = ParseConfig(json);
  return r.ok() ? Status::OK() : r.status();
}

TEST(SnowflakeConfig, ParsesEverythingAndBuildsTheConnectionString) {
  auto c = ParseConfig(R"({
    "connection_string": "Driver=SnowflakeDSIIDriver;tracing=0",
    "account": "xy12345.eu-central-1", "user": "LOADER", "password": "s3cr;et}",
    "warehouse": "LOAD_WH", "database": "ANALYTICS", "schema": "weir", "role": "LOADER_ROLE",
    "tables": {"events": "ev", "users": "people", "identities": "ids", "ledger": "batches"},
    "load_method": "stage", "rows_per_statement": 500, "stage_dir": "/var/tmp",
    "promoted_columns": [{"path": "/$browser", "column": "browser", "type": "varchar"},
                         {"path": "/plan", "column": "plan", "type": "VARCHAR", "stream": "users"}]
  })");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tables.schema, "WEIR");
  EXPECT_EQ(c->tables.events, "EV");
  EXPECT_EQ(c->tables.users, "PEOPLE");
  EXPECT_EQ(c->tables.identities, "IDS");
  EXPECT_EQ(c->tables.ledger, "BATCHES");
  EXPECT_EQ(c->load_method, LoadMethod::kStage);
  EXPECT_EQ(c->rows_per_statement, 500);
  ASSERT_EQ(c->promoted.size(), 2u);
  EXPECT_EQ(c->promoted[0].column, "BROWSER");
  EXPECT_EQ(c->promoted[1].stream, StreamKind::kUsers);
  EXPECT_EQ(c->OdbcConnectionString(),
            "Driver=SnowflakeDSIIDriver;tracing=0;Server=xy12345.eu-central-1."
            "snowflakecomputing.com;Account=xy12345.eu-central-1;UID=LOADER;PWD={s3cr;et}}};"
            "Warehouse=LOAD_WH;Database=ANALYTICS;Schema=WEIR;Role=LOADER_ROLE");
  EXPECT_EQ(c->Describe(),
            "account 'xy12345.eu-central-1', user 'LOADER', database 'ANALYTICS', schema 'WEIR', "
            "role 'LOADER_ROLE'");
  // The plain secret and the form the connection string carries, both for the redactor.
  EXPECT_EQ(c->Secrets(), (std::vector<std::string>{"s3cr;et}", "{s3cr;et}}}"}));
  const Redactor redactor(c->Secrets());
  EXPECT_EQ(redactor.Apply("driver echoed UID=LOADER;PWD={s3cr;et}}};Warehouse=W"),
            "driver echoed UID=LOADER;PWD=***;Warehouse=W");
  EXPECT_EQ(redactor.Apply("password s3cr;et} rejected"), "password *** rejected");
}

TEST(SnowflakeConfig, KeyPairAuthentication) {
  auto c = ParseConfig(
      R"({"dsn":"snowflake","user":"U","schema":"S","authenticator":"snowflake_jwt",
          "private_key_file":"/etc/weir/rsa_key.p8","private_key_passphrase":"pass phrase"})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->OdbcConnectionString(),
            "DSN=snowflake;UID=U;Authenticator=SNOWFLAKE_JWT;Priv_Key_File=/etc/weir/rsa_key.p8;"
            "Priv_Key_File_Pwd=pass phrase;Schema=S");
  EXPECT_EQ(c->Secrets(), std::vector<std::string>{"pass phrase"});
  EXPECT_EQ(ConfigError(R"({"dsn":"d","schema":"S","authenticator":"snowflake_jwt"})").message(),
            "config.private_key_file: required with authenticator snowflake_jwt");
  EXPECT_NE(ConfigError(R"({"dsn":"d","schema":"S","authenticator":"SNOWFLAKE_JWT",
                             "private_key_file":"/k","password":"x"})")
                .message()
                .find("config.password: not used with authenticator snowflake_jwt"),
            std::string::npos);
  EXPECT_NE(ConfigError(R"({"dsn":"d","schema":"S","private_key_file":"/k"})")
                .message()
                .find("needs \"authenticator\": \"snowflake_jwt\""),
            std::string::npos);
}

TEST(SnowflakeConfig, EveryMistakeNamesItsField) {
  const std::map<std::string, std::string> cases = {
      {"not json", "config: not valid JSON"},
      {"[]", "config: expected a JSON object, got array"},
      {R"({"schema":"S"})", "config.connection_string: required unless config.dsn is given"},
      {R"({"dsn":"d"})", "config.schema: required"},
      {R"({"dsn":"d","schema":"S","passwrd":"x"})", "config.passwrd: unknown key"},
      {R"({"dsn":"d","schema":"S","dsn":"e"})", "config.dsn: given more than once"},
      {R"({"dsn":"d","schema":7})", "config.schema: expected a string, got number"},
      {R"({"dsn":"d","schema":"S","load_method":"copy"})",
       "config.load_method: 'copy' is not one of insert, stage"},
      {R"({"dsn":"d","schema":"S","dialect":"postgresql","load_method":"stage"})",
       "config.load_method: 'stage' (PUT and COPY INTO) needs dialect snowflake"},
      {R"({"dsn":"d","schema":"S","rows_per_statement":0})",
       "config.rows_per_statement: must be between 1 and 100000"},
      {R"({"dsn":"d","schema":"S","tables":{"events":"x","users":"X"}})",
       "config.tables: events, users, identities and ledger must name four different tables"},
      {R"({"dsn":"d","schema":"S","tables":{"event":"x"}})", "config.tables.event: unknown key"},
      {R"({"dsn":"d","schema":"S","authenticator":"oauth"})",
       "config.authenticator: 'oauth' is not one of snowflake, snowflake_jwt"},
      {R"({"dsn":"d","schema":"S","stage_dir":"tmp"})", "config.stage_dir: must be an absolute"},
      {R"({"dsn":"d","schema":"S","promoted_columns":[{"path":"a","column":"A","type":"VARCHAR"}]})",
       "config.promoted_columns[0].path: required, a JSON Pointer"},
      {R"({"dsn":"d","schema":"S","promoted_columns":[{"path":"/a","column":"A","type":"INT"}]})",
       "config.promoted_columns[0].type: 'INT' is not one of"},
      {R"({"dsn":"d","schema":"S","promoted_columns":[{"path":"/a","column":"time","type":"VARCHAR"}]})",
       "config.promoted_columns[0].column: TIME is already a column of the events table"},
      {R"({"dsn":"d","schema":"S","promoted_columns":[{"path":"/a","column":"c","type":"VARCHAR","stream":"identities"}]})",
       "config.promoted_columns[0].stream: 'identities' is not one of events, users"},
  };
  for (const auto& [json, expected] : cases) {
    Status s = ConfigError(json);
    EXPECT_EQ(s.code(), WEIR_INVALID_CONFIG) << json;
    EXPECT_NE(s.message().find(expected), std::string::npos) << json << " -> " << s.message();
  }
}

TEST(SnowflakeConfig, SecretsInAConnectionStringAreFoundForRedaction) {
  auto c = ParseConfig(
      R"({"connection_string":"Driver=x;PWD={a;b}}c};priv_key_file_pwd=kp123;token=tok456","schema":"S"})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Secrets(), (std::vector<std::string>{"a;b}c", "kp123", "tok456", "{a;b}}c}"}));
  EXPECT_EQ(OdbcValue("plain"), "plain");
  EXPECT_EQ(OdbcValue("a=b"), "{a=b}");
  EXPECT_EQ(OdbcValue(" lead"), "{ lead}");
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST(SnowflakeOdbcErrors, ClassificationFollowsSqlState) {
  for (const char* retryable :
       {"08001", "08S01", "08006", "40001", "40P01", "HYT00", "HYT01", "57P01"}) {
    EXPECT_TRUE(IsRetryableSqlState(retryable)) << retryable;
  }
  for (const char* fatal : {"28000", "28P01", "42000", "42601", "42501", "3F000", "02000", "22P02",
                            "23505", "HY000", ""}) {
    EXPECT_FALSE(IsRetryableSqlState(fatal)) << fatal;
  }
}

TEST(SnowflakeOdbcErrors, DiagnosticsBecomeOneRedactedStatus) {
  Redactor redactor({"hunter2", "ab"});
  Status lost = DiagnosticsToStatus(
      "snowflake: running MERGE", {{"08S01", 35, "could not receive data from server"}}, redactor);
  EXPECT_TRUE(lost.retryable());
  EXPECT_EQ(lost.sqlstate(), "08S01");
  EXPECT_EQ(lost.vendor_code(), 35);
  EXPECT_EQ(lost.message(), "snowflake: running MERGE: could not receive data from server");

  // psqlODBC reports a refused password as 08001: still fatal, and named.
  Status auth = DiagnosticsToStatus(
      "snowflake: connecting to user 'u'",
      {{"08001", 101, "FATAL: password authentication failed for user \"u\" hunter2"}}, redactor);
  EXPECT_FALSE(auth.retryable());
  EXPECT_EQ(auth.message(),
            "snowflake: connecting to user 'u': authentication failed: FATAL: password "
            "authentication failed for user \"u\" ***");

  Status snowflake_auth = DiagnosticsToStatus(
      "c", {{"28000", 390100, "Incorrect username or password was specified."}}, redactor);
  EXPECT_FALSE(snowflake_auth.retryable());
  EXPECT_EQ(snowflake_auth.sqlstate(), "28000");

  Status syntax = DiagnosticsToStatus(
      "q", {{"01000", 0, "a warning"}, {"42601", 7, "syntax error at or near \"ab\""}}, redactor);
  EXPECT_FALSE(syntax.retryable());
  EXPECT_EQ(syntax.sqlstate(), "42601");  // the warning does not decide
  EXPECT_EQ(syntax.message(), "q: a warning; syntax error at or near \"ab\"");  // "ab" < 3 bytes

  EXPECT_TRUE(
      DiagnosticsToStatus("q", {{"40001", 0, "serialization failure"}}, redactor).retryable());
  EXPECT_FALSE(DiagnosticsToStatus("q", {}, redactor).ok());
}

// ---------------------------------------------------------------------------------------------
// Staging rows

/// Keeps a weir_batch alive for a BatchView.
class TestBatch {
 public:
  explicit TestBatch(const std::vector<std::string>& records, int64_t time_ms = 0) {
    for (size_t i = 0; i < records.size(); ++i) builder_.Add(records[i], time_ms, i + 1);
    builder_.Release(&batch_);
  }
  ~TestBatch() { batch_.release(&batch_); }
  BatchView view() const { return BatchView(&batch_); }

 private:
  BatchBuilder builder_;
  weir_batch batch_{};
};

std::vector<std::vector<std::string>> Dump(const StagedRows& rows) {
  std::vector<std::vector<std::string>> out;
  for (size_t r = 0; r < rows.rows(); ++r) {
    std::vector<std::string> row;
    for (size_t c = 0; c < rows.columns(); ++c) {
      auto f = rows.field(r, c);
      row.push_back(f ? std::string(*f) : "<NULL>");
    }
    out.push_back(row);
  }
  return out;
}

TEST(SnowflakeRows, TimestampsAreUtcMilliseconds) {
  EXPECT_EQ(FormatTimestampMs(0).value(), "1970-01-01 00:00:00.000");
  EXPECT_EQ(FormatTimestampMs(1700000000123).value(), "2023-11-14 22:13:20.123");
  EXPECT_EQ(FormatTimestampMs(-1).value(), "1969-12-31 23:59:59.999");
  EXPECT_EQ(FormatTimestampMs(951782400000).value(), "2000-02-29 00:00:00.000");
  EXPECT_EQ(FormatTimestampMs(253402300799999).value(), "9999-12-31 23:59:59.999");
  EXPECT_FALSE(FormatTimestampMs(253402300800000).ok());
  EXPECT_FALSE(FormatTimestampMs(-62135596800001).ok());
}

TEST(SnowflakeRows, TimestampsAtTheEdges) {
  EXPECT_EQ(FormatTimestampMs(-62135596800000).value(), "0001-01-01 00:00:00.000");
  EXPECT_EQ(FormatTimestampMs(-62135596799999).value(), "0001-01-01 00:00:00.001");
  // Before 1970 the millisecond still counts forward within the (earlier) day.
  EXPECT_EQ(FormatTimestampMs(-999).value(), "1969-12-31 23:59:59.001");
  EXPECT_EQ(FormatTimestampMs(-1000).value(), "1969-12-31 23:59:59.000");
  EXPECT_EQ(FormatTimestampMs(-86400001).value(), "1969-12-30 23:59:59.999");
  // 1900 and 2100 are not leap years, 2024 is.
  EXPECT_EQ(FormatTimestampMs(-2203891200001).value(), "1900-02-28 23:59:59.999");
  EXPECT_EQ(FormatTimestampMs(-2203891200000).value(), "1900-03-01 00:00:00.000");
  EXPECT_EQ(FormatTimestampMs(1709251199999).value(), "2024-02-29 23:59:59.999");
  EXPECT_EQ(FormatTimestampMs(4107542399999).value(), "2100-02-28 23:59:59.999");
  EXPECT_EQ(FormatTimestampMs(253402300800000).status().message(),
            "time 253402300800000 ms is outside years 1..9999 and cannot be stored as "
            "TIMESTAMP_NTZ");
}

TEST(SnowflakeRows, EventsKeepRawPropertiesAndDropInBatchDuplicates) {
  TestBatch batch(
      {
          R"({"event":"view","time":1700000000000,"distinct_id":"u1","insert_id":"a","properties":{"x": [1, 2.50, {"y":null}]}})",
          R"({"insert_id":"b","event":"buy","distinct_id":"u2","properties":null,"extra":{"ignored":1}})",
          R"({"event":"view","time":1,"distinct_id":"u1","insert_id":"a","properties":{}})",
          R"({"event":"e\"q","time":5,"distinct_id":42,"insert_id":"c"})",
      },
      1700000000999);
  auto rows = BuildStagedRows(StreamKind::kEvents, {}, batch.view());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(Dump(*rows),
            (std::vector<std::vector<std::string>>{
                {"a", "view", "u1", "2023-11-14 22:13:20.000", R"({"x": [1, 2.50, {"y":null}]})"},
                // no "time": the batch's event time for the record
                {"b", "buy", "u2", "2023-11-14 22:13:20.999", "<NULL>"},
                {"c", "e\"q", "42", "1970-01-01 00:00:00.005", "<NULL>"}}));
}

TEST(SnowflakeRows, UsersKeepTheLatestChangePerDistinctId) {
  TestBatch batch({
      R"({"distinct_id":"u1","updated_at":2000,"properties":{"v":2}})",
      R"({"distinct_id":"u1","updated_at":1000,"properties":{"v":1}})",
      R"({"distinct_id":"u2","updated_at":1000,"properties":{"v":"a"}})",
      R"({"distinct_id":"u2","updated_at":1000,"properties":{"v":"b"}})",
      R"({"distinct_id":"u3","updated_at":3000,"deleted":true})",
  });
  auto rows = BuildStagedRows(StreamKind::kUsers, {}, batch.view());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(Dump(*rows), (std::vector<std::vector<std::string>>{
                             {"u1", "1970-01-01 00:00:02.000", R"({"v":2})", "false"},
                             {"u2", "1970-01-01 00:00:01.000", R"({"v":"b"})", "false"},
                             {"u3", "1970-01-01 00:00:03.000", "<NULL>", "true"}}));
}

TEST(SnowflakeRows, IdentitiesDedupeOnThePair) {
  TestBatch batch({
      R"({"distinct_id":"d1","user_id":"u1","time":1000})",
      R"({"distinct_id":"d1","user_id":"u1","time":2000})",
      R"({"distinct_id":"d1","user_id":"u2","time":3000})",
  });
  auto rows = BuildStagedRows(StreamKind::kIdentities, {}, batch.view());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(Dump(*rows),
            (std::vector<std::vector<std::string>>{{"d1", "u1", "1970-01-01 00:00:01.000"},
                                                   {"d1", "u2", "1970-01-01 00:00:03.000"}}));
}

TEST(SnowflakeRows, ManyRecordsDedupeAndKeepTheirText) {
  // Enough records that the strings outgrow any small buffer and the duplicate check has to
  // tell many keys apart; the escapes make the parser write unescaped copies.
  std::vector<std::string> events, users;
  for (int i = 0; i < 1000; ++i) {
    events.push_back(R"({"insert_id":"insert-id-\u00e9-)" + std::to_string(i % 300) +
                     R"(","event":"ev\"ent-)" + std::to_string(i) + R"(","time":)" +
                     std::to_string(i) + "}");
    users.push_back(R"({"distinct_id":"a-long-distinct-id-\u00e9-)" + std::to_string(i % 50) +
                    R"(","updated_at":)" + std::to_string(i % 7) + R"(,"properties":{"i":)" +
                    std::to_string(i) + "}}");
  }
  TestBatch event_batch(events);
  auto rows = BuildStagedRows(StreamKind::kEvents, {}, event_batch.view());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  auto d = Dump(*rows);
  ASSERT_EQ(d.size(), 300u);
  // The first record of each id, rows in id order (bytewise: "…-10" before "…-2").
  std::vector<std::pair<std::string, std::string>> first_of_id;
  for (int i = 0; i < 300; ++i) {
    first_of_id.emplace_back("insert-id-\xc3\xa9-" + std::to_string(i),
                             "ev\"ent-" + std::to_string(i));
  }
  std::sort(first_of_id.begin(), first_of_id.end());
  for (size_t i = 0; i < first_of_id.size(); ++i) {
    EXPECT_EQ(d[i][0], first_of_id[i].first);
    EXPECT_EQ(d[i][1], first_of_id[i].second);
  }

  TestBatch user_batch(users);
  rows = BuildStagedRows(StreamKind::kUsers, {}, user_batch.view());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  d = Dump(*rows);
  // Per user the last record with the greatest updated_at, rows in distinct_id order.
  std::map<int, int> user_of_winner;
  for (int u = 0; u < 50; ++u) {
    int winner = u;
    for (int i = u; i < 1000; i += 50) {
      if (i % 7 >= winner % 7) winner = i;
    }
    user_of_winner[winner] = u;
  }
  std::vector<std::vector<std::string>> expected;
  for (const auto& [winner, u] : user_of_winner) {
    expected.push_back({"a-long-distinct-id-\xc3\xa9-" + std::to_string(u),
                        "1970-01-01 00:00:00.00" + std::to_string(winner % 7),
                        R"({"i":)" + std::to_string(winner) + "}", "false"});
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(d, expected);
}

TEST(SnowflakeRows, IdentitiesCompareThePairNotAJoinedString) {
  TestBatch batch({
      R"({"distinct_id":"a\u0000b","user_id":"c"})",
      R"({"distinct_id":"a","user_id":"b\u0000c"})",
      R"({"distinct_id":"a","user_id":"b\u0000c"})",
  });
  auto rows = BuildStagedRows(StreamKind::kIdentities, {}, batch.view());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  auto d = Dump(*rows);
  ASSERT_EQ(d.size(), 2u);
  // Both pairs, in key order: "a" sorts before "a\0b".
  EXPECT_EQ(d[0][0], "a");
  EXPECT_EQ(d[0][1], std::string("b\0c", 3));
  EXPECT_EQ(d[1][0], std::string("a\0b", 3));
  EXPECT_EQ(d[1][1], "c");
}

TEST(SnowflakeRows, RowsComeOutInKeyOrder) {
  // Events by insert_id, bytewise (upper case before lower, "é" after ASCII, a shared 8-byte
  // prefix decided by the bytes after it); the first record of an id still wins.
  TestBatch events({
      R"({"insert_id":"zz","event":"1"})",
      R"({"insert_id":"\u00e9","event":"2"})",
      R"({"insert_id":"prefix-0-b","event":"3"})",
      R"({"insert_id":"A","event":"4"})",
      R"({"insert_id":"prefix-0-a","event":"5"})",
      R"({"insert_id":"zz","event":"6"})",
      R"({"insert_id":"prefix-0","event":"7"})",
  });
  auto rows = BuildStagedRows(StreamKind::kEvents, {}, events.view());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::string> order;
  for (const auto& row : Dump(*rows)) order.push_back(row[0] + "=" + row[1]);
  EXPECT_EQ(order, (std::vector<std::string>{"A=4", "prefix-0=7", "prefix-0-a=5", "prefix-0-b=3",
                                             "zz=1", "\xc3\xa9=2"}));

  // Identities by the pair: the user_id decides between equal distinct_ids.
  TestBatch identities({
      R"({"distinct_id":"d2","user_id":"u1"})",
      R"({"distinct_id":"d1","user_id":"u9"})",
      R"({"distinct_id":"d1","user_id":"u10"})",
  });
  rows = BuildStagedRows(StreamKind::kIdentities, {}, identities.view());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  order.clear();
  for (const auto& row : Dump(*rows)) order.push_back(row[0] + "/" + row[1]);
  EXPECT_EQ(order, (std::vector<std::string>{"d1/u10", "d1/u9", "d2/u1"}));
}

TEST(SnowflakeRows, SortAndDedupeKeepsOneRowPerKeyInKeyOrder) {
  auto make = [] {
    StagedRows rows(2);
    for (auto [key, value] : std::vector<std::pair<const char*, const char*>>{
             {"b", "1"}, {nullptr, "2"}, {"a", "3"}, {"b", "4"}, {"", "5"}, {nullptr, "6"},
             {"b", "0"}}) {
      key == nullptr ? rows.AddNull() : rows.Add(key);
      rows.Add(value);
    }
    return rows;
  };
  auto order = [](const StagedRows& rows) {
    std::vector<std::string> out;
    for (const auto& row : Dump(rows)) out.push_back(row[0] + "=" + row[1]);
    return out;
  };
  // NULL sorts first, "" next; the first row staged of each key stays.
  StagedRows first = make();
  first.SortAndDedupe(1);
  EXPECT_EQ(order(first), (std::vector<std::string>{"<NULL>=2", "=5", "a=3", "b=1"}));
  // With a latest column: the greatest value of it, the later row on a tie.
  StagedRows latest = make();
  latest.SortAndDedupe(1, 1);
  EXPECT_EQ(order(latest), (std::vector<std::string>{"<NULL>=6", "=5", "a=3", "b=4"}));
  StagedRows tie(2);
  for (const char* v : {"x", "y"}) {
    tie.Add("k");
    tie.Add("same");
    (void)v;
  }
  tie.Add("k");
  tie.AddNull();
  tie.SortAndDedupe(1, 1);
  ASSERT_EQ(tie.rows(), 1u);
  EXPECT_EQ(tie.field(0, 1), std::optional<std::string_view>("same"));
}

TEST(SnowflakeRows, PromotedColumnsAreTypeCheckedHere) {
  std::vector<PromotedColumn> promoted = {
      {StreamKind::kEvents, "/s", "S", ColumnType::kVarchar},
      {StreamKind::kEvents, "/n", "N", ColumnType::kNumber},
      {StreamKind::kEvents, "/f", "F", ColumnType::kFloat},
      {StreamKind::kEvents, "/b", "B", ColumnType::kBoolean},
      {StreamKind::kEvents, "/t", "T", ColumnType::kTimestampNtz},
      {StreamKind::kEvents, "/o", "O", ColumnType::kVariant},
      {StreamKind::kEvents, "/a~1b/0", "DEEP", ColumnType::kVarchar}};
  TestBatch batch({
      R"({"insert_id":"1","properties":{"s":"x","n":7,"f":1.5,"b":true,"t":1000,"o":{"k":[1]},"a/b":["first"]}})",
      R"({"insert_id":"2","properties":{"s":3,"n":"7","f":"x","b":"true","t":"soon","o":null}})",
      R"({"insert_id":"3"})",
  });
  auto rows = BuildStagedRows(StreamKind::kEvents, promoted, batch.view());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  auto d = Dump(*rows);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(std::vector<std::string>(d[0].begin() + 5, d[0].end()),
            (std::vector<std::string>{"x", "7", "1.5", "true", "1970-01-01 00:00:01.000",
                                      R"({"k":[1]})", "first"}));
  EXPECT_EQ(
      std::vector<std::string>(d[1].begin() + 5, d[1].end()),
      (std::vector<std::string>{"3", "<NULL>", "<NULL>", "<NULL>", "<NULL>", "null", "<NULL>"}));
  EXPECT_EQ(std::vector<std::string>(d[2].begin() + 5, d[2].end()),
            std::vector<std::string>(7, "<NULL>"));
}

TEST(SnowflakeRows, BadRecordsNameTheRecordAndField) {
  const std::map<std::string, std::string> cases = {
      {R"({"event":"x"})", "events record 0 of the batch: insert_id: required"},
      {R"([1,2])", "events record 0 of the batch: not a JSON object"},
      {R"({"insert_id":"a","time":"yesterday"})", "time: expected an integer"},
      {R"({"insert_id":"a","properties":[1]})", "properties: expected an object"},
      {R"({"insert_id":"a","time":999999999999999999})", "outside years 1..9999"},
      {"{\"insert_id\":\"\xff\"}", "not valid JSON"},
  };
  for (const auto& [record, expected] : cases) {
    TestBatch batch({record});
    auto rows = BuildStagedRows(StreamKind::kEvents, {}, batch.view());
    ASSERT_FALSE(rows.ok()) << record;
    EXPECT_FALSE(rows.status().retryable());
    EXPECT_NE(rows.status().message().find(expected), std::string::npos)
        << record << " -> " << rows.status().message();
  }
}

// ---------------------------------------------------------------------------------------------
// Stage files

TEST(SnowflakeStage, FileNamesAreDeterministicAndSafe) {
  EXPECT_EQ(StageFileName("demo.events.000000000001"), "demo.events.000000000001.ndjson.gz");
  const std::string odd = StageFileName("a/b c'd");
  EXPECT_EQ(odd.substr(0, 8), "a_b_c_d.");
  EXPECT_EQ(odd, StageFileName("a/b c'd"));
  EXPECT_NE(odd, StageFileName("a_b_c_d"));
  EXPECT_LE(StageFileName(std::string(500, 'k')).size(), 160u + 19u + 10u);
}

std::string Gunzip(const std::string& gz) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  inflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return out;
}

TEST(SnowflakeStage, StagedRowsBecomeDeterministicGzipNdjson) {
  StagedRows rows(3);
  rows.Add("e1");
  rows.Add("quote \" back \\ nl \n tab \t ctl \x01 \xc3\xa9");
  rows.AddNull();
  const std::vector<std::string> columns = {"A", "B", "C"};
  const std::string ndjson = StagedRowsToNdjson(rows, columns);
  EXPECT_EQ(ndjson,
            "{\"A\":\"e1\",\"B\":\"quote \\\" back \\\\ nl \\n tab \\t ctl \\u0001 \xc3\xa9\","
            "\"C\":null}\n");
  auto gz = Gzip(ndjson);
  ASSERT_TRUE(gz.ok());
  EXPECT_EQ(Gunzip(*gz), ndjson);
  EXPECT_EQ(gz.value(), Gzip(ndjson).value());  // no timestamp in the header
  EXPECT_EQ(static_cast<unsigned char>(gz.value()[0]), 0x1f);
}

// ---------------------------------------------------------------------------------------------
// The statement sequence of a load, recorded

class RecordingSession final : public Session {
 public:
  std::vector<std::string> log;
  int64_t schema_count = 1;
  int64_t ledger_count = 0;
  /// When not empty, the first call whose log entry contains this text (a statement, or
  /// "<COMMIT>") is logged, then fails with `failure` instead of succeeding. Rollback never
  /// fails.
  std::string fail_on;
  Status failure = Status::Error("injected failure");
  /// A failure with `lose_connection` set also marks the session unhealthy, as OdbcSession does
  /// on an 08xxx error.
  bool lose_connection = false;

  Status Execute(const std::string& sql) override { return Record(sql); }
  Status ExecuteWithParams(const std::string& sql, const std::vector<Param>& params) override {
    return Record(sql + Render(params));
  }
  Result<int64_t> QueryInt(const std::string& sql, const std::vector<Param>& params) override {
    WEIR_RETURN_NOT_OK(Record(sql + Render(params)));
    return sql.find("SCHEMATA") != std::string::npos ? schema_count : ledger_count;
  }
  Status InsertRows(const std::string& sql, const StagedRows&, size_t begin, size_t end) override {
    return Record(sql + " [rows " + std::to_string(begin) + ".." + std::to_string(end) + ")");
  }
  Status Commit() override { return Record("<COMMIT>"); }
  Status Rollback() override {
    log.push_back("<ROLLBACK>");
    return Status::OK();
  }
  bool healthy() const override { return healthy_; }

 private:
  Status Record(std::string entry) {
    const bool fail = !fail_on.empty() && entry.find(fail_on) != std::string::npos;
    log.push_back(std::move(entry));
    if (!fail) return Status::OK();
    fail_on.clear();  // once: a retry goes through
    if (lose_connection) healthy_ = false;
    return failure;
  }

  bool healthy_ = true;

 private:
  static std::string Render(const std::vector<Param>& params) {
    std::string out = " <-";
    for (const Param& p : params) {
      if (const auto* s = std::get_if<std::string>(&p)) {
        out += " '" + *s + "'";
      } else if (const auto* v = std::get_if<int64_t>(&p)) {
        out += " " + std::to_string(*v);
      } else {
        out += " NULL";
      }
    }
    return out;
  }
};

TEST(SnowflakeLoaderSequence, InsertMethodSendsExactlyThisToSnowflake) {
  RecordingSession session;
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  Loader loader(&session, &sql, LoadMethod::kInsert, 2, "/tmp", Host());
  ASSERT_TRUE(loader.Start().ok());
  TestBatch batch({R"({"insert_id":"a"})", R"({"insert_id":"b"})", R"({"insert_id":"c"})"});
  auto rows = BuildStagedRows(StreamKind::kEvents, {}, batch.view());
  ASSERT_TRUE(rows.ok());
  BatchInfo info{StreamKind::kEvents, "p.events.000000000001", "p", 1, 3};
  auto outcome = loader.Load(info, *rows);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_FALSE(outcome->replay);
  EXPECT_EQ(outcome->staged_rows, 3u);
  EXPECT_EQ(outcome->statements, 2u);
  const std::vector<std::string> expected = {
      "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ? <- 'WEIR'",
      "ALTER SESSION SET TIMEZONE = 'UTC'",
      "ALTER SESSION SET TIMESTAMP_TYPE_MAPPING = 'TIMESTAMP_NTZ'",
      "ALTER SESSION SET TIMESTAMP_INPUT_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF3'",
      "USE SCHEMA \"WEIR\"",
      sql.CreateLedger(),
      "<COMMIT>",
      sql.CreateTarget(StreamKind::kEvents),
      sql.CreateStageTable(StreamKind::kEvents),
      "<COMMIT>",
      "TRUNCATE TABLE \"_WEIR_STAGE_EVENTS\"",
      "SELECT COUNT(*) FROM \"WEIR\".\"_WEIR_BATCHES\" WHERE \"BATCH_KEY\" = ? <- "
      "'p.events.000000000001'",
      sql.InsertStage(StreamKind::kEvents) + " [rows 0..2)",
      sql.InsertStage(StreamKind::kEvents) + " [rows 2..3)",
      sql.Merge(StreamKind::kEvents) + " <- 'p.events.000000000001'",
      sql.LedgerInsert() + " <- 'p.events.000000000001' 'p' 'events' 1 'EVENTS' 3 3",
      "<COMMIT>"};
  EXPECT_EQ(session.log, expected);

  // A key already in the ledger: the lookup, a rollback, nothing else (DDL is per connection).
  session.log.clear();
  session.ledger_count = 1;
  auto replay = loader.Load(info, *rows);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replay);
  EXPECT_EQ(session.log,
            (std::vector<std::string>{"TRUNCATE TABLE \"_WEIR_STAGE_EVENTS\"",
                                      "SELECT COUNT(*) FROM \"WEIR\".\"_WEIR_BATCHES\" WHERE "
                                      "\"BATCH_KEY\" = ? <- 'p.events.000000000001'",
                                      "<ROLLBACK>"}));
}

TEST(SnowflakeLoaderSequence, StageMethodPutsCopiesMergesAndRemoves) {
  weir::test::TempDir tmp("weir-snowflake-stage");
  const std::string& dir = tmp.str();
  RecordingSession session;
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  Loader loader(&session, &sql, LoadMethod::kStage, 1000, dir, Host());
  ASSERT_TRUE(loader.Start().ok());
  session.log.clear();
  TestBatch batch({R"({"distinct_id":"u1","updated_at":5,"properties":{"a":1}})"});
  auto rows = BuildStagedRows(StreamKind::kUsers, {}, batch.view());
  ASSERT_TRUE(rows.ok());
  BatchInfo info{StreamKind::kUsers, "p.users.000000000009", "p", 9, 1};
  auto outcome = loader.Load(info, *rows);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  const std::string file = "p.users.000000000009.ndjson.gz";
  const std::vector<std::string> expected = {
      sql.CreateTarget(StreamKind::kUsers),
      sql.CreateStageTable(StreamKind::kUsers),
      "<COMMIT>",
      "TRUNCATE TABLE \"_WEIR_STAGE_USERS\"",
      "SELECT COUNT(*) FROM \"WEIR\".\"_WEIR_BATCHES\" WHERE \"BATCH_KEY\" = ? <- "
      "'p.users.000000000009'",
      "PUT 'file://" + dir + "/" + file +
          "' @WEIR.%USERS/_weir/ AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = GZIP OVERWRITE = "
          "TRUE",
      "COPY INTO \"_WEIR_STAGE_USERS\" (\"DISTINCT_ID\", \"UPDATED_AT\", \"PROPERTIES\", "
      "\"DELETED\") FROM (SELECT $1:\"DISTINCT_ID\"::VARCHAR, $1:\"UPDATED_AT\"::VARCHAR, "
      "$1:\"PROPERTIES\"::VARCHAR, $1:\"DELETED\"::VARCHAR FROM @WEIR.%USERS/_weir/) FILES = ('" +
          file +
          "') FILE_FORMAT = (TYPE = JSON COMPRESSION = GZIP) ON_ERROR = ABORT_STATEMENT FORCE = "
          "TRUE",
      sql.Merge(StreamKind::kUsers) + " <- 'p.users.000000000009' 'p.users.000000000009'",
      sql.LedgerInsert() + " <- 'p.users.000000000009' 'p' 'users' 9 'USERS' 1 1",
      "<COMMIT>",
      "REMOVE @WEIR.%USERS/_weir/" + file,
      "<COMMIT>"};
  EXPECT_EQ(session.log, expected);
  // The local file is gone once the batch is committed.
  EXPECT_FALSE(std::filesystem::exists(dir + "/" + file));
}

// A statement failing inside the batch's transaction: the loader rolls back right there, issues
// nothing after the failing statement (no ledger row, no COMMIT) and returns that statement's
// error unchanged; the same key then loads normally on the same loader.
TEST(SnowflakeLoaderSequence, AFailingMergeRollsBackAndReturnsItsError) {
  RecordingSession session;
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  Loader loader(&session, &sql, LoadMethod::kInsert, 1000, "/tmp", Host());
  ASSERT_TRUE(loader.Start().ok());
  TestBatch batch({R"({"insert_id":"a"})", R"({"insert_id":"b"})"});
  auto rows = BuildStagedRows(StreamKind::kEvents, {}, batch.view());
  ASSERT_TRUE(rows.ok());
  BatchInfo info{StreamKind::kEvents, "p.events.000000000001", "p", 1, 2};
  // Stream DDL first (committed on its own), so the batch's transaction starts clean.
  session.fail_on = "MERGE INTO";
  session.failure = Status::Error("snowflake: merging: constraint violated").WithSqlState("23514");
  session.log.clear();
  auto failed = loader.Load(info, *rows);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "snowflake: merging: constraint violated");
  EXPECT_EQ(failed.status().sqlstate(), "23514");
  EXPECT_FALSE(failed.status().retryable());
  const std::vector<std::string> in_transaction = {
      "TRUNCATE TABLE \"_WEIR_STAGE_EVENTS\"",
      "SELECT COUNT(*) FROM \"WEIR\".\"_WEIR_BATCHES\" WHERE \"BATCH_KEY\" = ? <- "
      "'p.events.000000000001'",
      sql.InsertStage(StreamKind::kEvents) + " [rows 0..2)",
      sql.Merge(StreamKind::kEvents) + " <- 'p.events.000000000001'"};
  std::vector<std::string> expected = {sql.CreateTarget(StreamKind::kEvents),
                                       sql.CreateStageTable(StreamKind::kEvents), "<COMMIT>"};
  expected.insert(expected.end(), in_transaction.begin(), in_transaction.end());
  expected.push_back("<ROLLBACK>");
  EXPECT_EQ(session.log, expected);

  // The retry: the stream is already set up on this connection, the whole batch goes again.
  session.log.clear();
  auto retried = loader.Load(info, *rows);
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_FALSE(retried->replay);
  EXPECT_EQ(retried->staged_rows, 2u);
  expected = in_transaction;
  expected.push_back(sql.LedgerInsert() +
                     " <- 'p.events.000000000001' 'p' 'events' 1 'EVENTS' 2 2");
  expected.push_back("<COMMIT>");
  EXPECT_EQ(session.log, expected);
}

// Every statement of the batch's transaction, failing in turn, ends in exactly one ROLLBACK and
// nothing after it.
TEST(SnowflakeLoaderSequence, AnyFailingStatementOfTheBatchEndsInOneRollback) {
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  TestBatch batch({R"({"insert_id":"a"})", R"({"insert_id":"b"})", R"({"insert_id":"c"})"});
  auto rows = BuildStagedRows(StreamKind::kEvents, {}, batch.view());
  ASSERT_TRUE(rows.ok());
  BatchInfo info{StreamKind::kEvents, "p.events.000000000001", "p", 1, 3};
  for (const std::string needle :
       {"TRUNCATE TABLE", "_WEIR_BATCHES\" WHERE", "[rows 0..2)", "[rows 2..3)", "MERGE INTO",
        "INSERT INTO \"WEIR\".\"_WEIR_BATCHES\"", "<COMMIT>"}) {
    SCOPED_TRACE(needle);
    RecordingSession session;
    Loader loader(&session, &sql, LoadMethod::kInsert, 2, "/tmp", Host());
    ASSERT_TRUE(loader.Start().ok());
    ASSERT_TRUE(loader.Load({StreamKind::kEvents, "p.events.000000000000", "p", 0, 3}, *rows).ok());
    session.log.clear();
    session.fail_on = needle;
    session.failure = Status::Retryable("snowflake: injected at " + needle);
    auto failed = loader.Load(info, *rows);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().message(), "snowflake: injected at " + needle);
    EXPECT_TRUE(failed.status().retryable());
    ASSERT_GE(session.log.size(), 2u);
    EXPECT_NE(session.log[session.log.size() - 2].find(needle), std::string::npos)
        << "the failing statement is the last one sent before the rollback";
    EXPECT_EQ(session.log.back(), "<ROLLBACK>");
    EXPECT_EQ(std::count(session.log.begin(), session.log.end(), "<ROLLBACK>"), 1);
    if (needle != "<COMMIT>") {
      EXPECT_EQ(std::count(session.log.begin(), session.log.end(), "<COMMIT>"), 0);
    }
  }
}

// A lost connection (OdbcSession marks itself unhealthy on 08xxx): the server has rolled back
// already, so the loader sends nothing more on the dead session and returns the retryable error.
TEST(SnowflakeLoaderSequence, ALostConnectionMidBatchSendsNothingMore) {
  RecordingSession session;
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  Loader loader(&session, &sql, LoadMethod::kInsert, 1, "/tmp", Host());
  ASSERT_TRUE(loader.Start().ok());
  TestBatch batch({R"({"insert_id":"a"})", R"({"insert_id":"b"})", R"({"insert_id":"c"})"});
  auto rows = BuildStagedRows(StreamKind::kEvents, {}, batch.view());
  ASSERT_TRUE(rows.ok());
  session.fail_on = "[rows 1..2)";
  session.lose_connection = true;
  session.failure = Status::Retryable("snowflake: inserting: could not send data to server")
                        .WithSqlState("08S01");
  session.log.clear();
  auto failed = loader.Load({StreamKind::kEvents, "p.events.000000000001", "p", 1, 3}, *rows);
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(failed.status().retryable());
  EXPECT_EQ(failed.status().sqlstate(), "08S01");
  EXPECT_FALSE(session.healthy());
  ASSERT_FALSE(session.log.empty());
  EXPECT_EQ(session.log.back(), sql.InsertStage(StreamKind::kEvents) + " [rows 1..2)");
  EXPECT_EQ(std::count(session.log.begin(), session.log.end(), "<ROLLBACK>"), 0);
}

// The stage method: a failing COPY rolls back, and the local gzip file written for the PUT is
// removed (it is not left in stage_dir), and no REMOVE of the table-stage file is sent.
TEST(SnowflakeLoaderSequence, StageMethodFailureRollsBackAndRemovesTheLocalFile) {
  weir::test::TempDir tmp("weir-snowflake-stage");
  const std::string& dir = tmp.str();
  RecordingSession session;
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  Loader loader(&session, &sql, LoadMethod::kStage, 1000, dir, Host());
  ASSERT_TRUE(loader.Start().ok());
  TestBatch batch({R"({"distinct_id":"u1","updated_at":5,"properties":{"a":1}})"});
  auto rows = BuildStagedRows(StreamKind::kUsers, {}, batch.view());
  ASSERT_TRUE(rows.ok());
  const std::string file = "p.users.000000000009.ndjson.gz";
  // Fail on the COPY, checking on the way that the PUT did see the local file.
  session.fail_on = "COPY INTO";
  session.failure = Status::Error("snowflake: copying: file format mismatch");
  session.log.clear();
  auto failed = loader.Load({StreamKind::kUsers, "p.users.000000000009", "p", 9, 1}, *rows);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "snowflake: copying: file format mismatch");
  ASSERT_GE(session.log.size(), 3u);
  EXPECT_EQ(session.log[session.log.size() - 3].rfind("PUT 'file://" + dir + "/" + file + "'", 0),
            0u)
      << session.log[session.log.size() - 3];
  EXPECT_EQ(session.log[session.log.size() - 2].rfind("COPY INTO \"_WEIR_STAGE_USERS\"", 0), 0u);
  EXPECT_EQ(session.log.back(), "<ROLLBACK>");
  for (const std::string& entry : session.log) {
    EXPECT_EQ(entry.rfind("REMOVE ", 0), std::string::npos) << entry;
    EXPECT_EQ(entry.find("_WEIR_BATCHES\" ("), std::string::npos) << entry;
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/" + file));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

TEST(SnowflakeLoaderSequence, MissingSchemaIsOneClearFatalError) {
  RecordingSession session;
  session.schema_count = 0;
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  Loader loader(&session, &sql, LoadMethod::kInsert, 1000, "/tmp", Host());
  Status s = loader.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.retryable());
  EXPECT_EQ(s.message(),
            "snowflake: schema \"WEIR\" does not exist, or the role cannot see it (create it, or "
            "grant USAGE on it; see docs/snowflake.md)");
}

TEST(SnowflakeLoaderSequence, ChunksRespectRowsAndBytes) {
  RecordingSession session;
  SqlBuilder sql(Dialect::kSnowflake, Weir(), {});
  Loader loader(&session, &sql, LoadMethod::kInsert, 1000, "/tmp", Host());
  StagedRows rows(2);
  // 2500 small rows, then 3 rows of 400 kB, then one row of 1.5 MB, then 10 small ones. The
  // first wide row also ends the small rows' chunk: 501 slots of 400 kB would need 200 MB of
  // fixed-width bind buffers.
  for (int i = 0; i < 2500; ++i) {
    rows.Add("id");
    rows.Add("v");
  }
  for (int i = 0; i < 3; ++i) {
    rows.Add("id");
    rows.Add(std::string(400 * 1000, 'x'));
  }
  rows.Add("id");
  rows.Add(std::string(1500 * 1000, 'y'));
  for (int i = 0; i < 10; ++i) {
    rows.Add("id");
    rows.Add("v");
  }
  const auto chunks = loader.Chunks(rows);
  const std::vector<std::pair<size_t, size_t>> expected = {{0, 1000},    {1000, 2000}, {2000, 2500},
                                                           {2500, 2502}, {2502, 2503}, {2503, 2504},
                                                           {2504, 2514}};
  EXPECT_EQ(chunks, expected);
  for (const auto& [begin, end] : chunks) {
    size_t bytes = 0;
    for (size_t r = begin; r < end; ++r) bytes += rows.RowBytes(r);
    if (end - begin > 1) {
      EXPECT_LT(bytes, kMaxStatementBytes);
    }
  }
}

}  // namespace
}  // namespace weir::snowflake
