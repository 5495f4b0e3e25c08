// tests/hostile/warehouse_hostile_test.cpp — hostile names and edge timestamps all the way into
// the warehouse: events sent to the real `weir-collector` over HTTP, then exported by a real
// `weir run` through the snowflake plugin (ODBC, postgresql dialect) into the PostgreSQL 15 of
// tests/snowflake/pg_server.hpp. Property names, event names and distinct_ids that look like SQL
// must arrive as data (a canary table survives, the values compare equal), a promoted column
// whose JSON Pointer names a hostile property and whose column name is hostile goes through the
// identifier rule, and the year 9999 lands in TIMESTAMP_NTZ unchanged.
#include <gtest/gtest.h>

#include <string>

#include "hostile_util.hpp"
#include "pg_server.hpp"

namespace weir::test::hostile {
namespace {

using snowflake::testing::PgServer;

TEST(HostileWarehouse, SqlLookingNamesAndYear9999LoadAsDataThroughCollectorAndWeirRun) {
  SNOWFLAKE_REQUIRE_PG();
  PgServer& pg = *PgServer::Shared();
  TempDir dir("weir-hostile-wh");
  const std::string schema = "HOSTILE_" + std::to_string(::getpid());
  pg.ResetSchema(schema);
  pg.Exec("CREATE TABLE \"" + schema + "\".\"X\" (x int); INSERT INTO \"" + schema +
          "\".\"X\" VALUES (1)");
  Collector c = StartCollector(dir.path());
  ProcessGuard guard(c.process);
  ASSERT_GT(c.port, 0) << ReadWholeFile(c.process.err);

  const std::string drop = "\\\"; DROP TABLE \\\"" + schema + "\\\".\\\"X\\\"; --";
  const std::string body =
      "{\"event\":\"x'); DROP TABLE \\\"" + schema +
      "\\\".\\\"X\\\"; --\",\"time\":\"9999-12-31T23:59:59.999Z\","
      "\"distinct_id\":\"'; DROP TABLE events; --\",\"insert_id\":\"wh-1';--\","
      "\"properties\":{\"" +
      drop + "\":\"" + drop +
      "\",\"../../etc\":\"../../etc/passwd\"}}\n"
      "{\"event\":\"e\",\"time\":0,\"distinct_id\":\"u\",\"insert_id\":\"wh-2\","
      "\"properties\":{\"../../etc\":\"second\"}}\n";
  Answer a = Post(c.port, "/v1/events", Bearer(), body);
  ASSERT_EQ(a.status, 200) << a.body;
  // A hostile request between: refused, and it must not reach the warehouse.
  Answer bad = Post(c.port, "/v1/events", Bearer(),
                    "{\"event\":\"e\",\"time\":\"1000-01-01\",\"distinct_id\":\"u\","
                    "\"insert_id\":\"wh-bad\"}\n");
  EXPECT_EQ(bad.status, 400) << bad.body;

  ::setenv("WEIR_HOSTILE_PG_PASSWORD", pg.password().c_str(), 1);
  const std::string dest = pg.PluginConfig(
      schema,
      R"(, "promoted_columns": [{"path": "/..~1..~1etc", "column": "ETC\"; DROP TABLE X; --",)"
      R"( "type": "VARCHAR"}])",
      "\"${WEIR_HOSTILE_PG_PASSWORD}\"");
  WriteText(dir.path() / "pipelines" / "wh.json",
            "{\"name\":\"wh\",\"project\":\"demo\",\"stream\":\"events\","
            "\"source\":{\"plugin\":\"sdk-source\",\"config\":{\"data_dir\":" +
                Quote((dir.path() / "collected").string()) +
                ",\"project\":\"demo\"}},\"destination\":{\"plugin\":\"snowflake\",\"config\":" +
                dest + "}}");
  ProcessResult r = Weir(dir.path(), {"run", "wh", "--no-progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find(pg.password()), std::string::npos);

  auto canary = pg.Query("SELECT COUNT(*) FROM \"" + schema + "\".\"X\"");
  ASSERT_EQ(canary.size(), 1u);
  EXPECT_EQ(*canary[0][0], "1") << "the canary table lost its row";
  auto rows = pg.Query(
      "SELECT \"INSERT_ID\", \"EVENT\", \"DISTINCT_ID\", \"TIME\"::text, "
      "\"PROPERTIES\"->>'../../etc' FROM \"" +
      schema + "\".\"EVENTS\" ORDER BY \"INSERT_ID\"");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(*rows[0][0], "wh-1';--");
  EXPECT_EQ(*rows[0][1], "x'); DROP TABLE \"" + schema + "\".\"X\"; --");
  EXPECT_EQ(*rows[0][2], "'; DROP TABLE events; --");
  EXPECT_EQ(*rows[0][3], "9999-12-31 23:59:59.999");
  EXPECT_EQ(*rows[0][4], "../../etc/passwd");
  EXPECT_EQ(*rows[1][0], "wh-2");
  EXPECT_EQ(*rows[1][3], "1970-01-01 00:00:00");
  // The property named like SQL is a key, not a statement.
  auto key =
      pg.Query("SELECT \"PROPERTIES\"->>'\"; DROP TABLE \"" + schema + "\".\"X\"; --' FROM \"" +
               schema + "\".\"EVENTS\" WHERE \"INSERT_ID\" = 'wh-1'';--'");
  ASSERT_EQ(key.size(), 1u);
  EXPECT_EQ(key[0][0].value_or("(null)"), "\"; DROP TABLE \"" + schema + "\".\"X\"; --");
  // The promoted column went through the identifier rule: one column, safe characters only.
  auto cols = pg.Query("SELECT column_name FROM information_schema.columns WHERE table_schema = '" +
                       schema + "' AND table_name = 'EVENTS' AND column_name LIKE 'ETC%'");
  ASSERT_EQ(cols.size(), 1u);
  EXPECT_EQ(cols[0][0]->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$"),
            std::string::npos)
      << *cols[0][0];
  auto promoted = pg.Query("SELECT \"" + *cols[0][0] + "\" FROM \"" + schema +
                           "\".\"EVENTS\" ORDER BY \"INSERT_ID\"");
  ASSERT_EQ(promoted.size(), 2u);
  EXPECT_EQ(promoted[0][0].value_or("(null)"), "../../etc/passwd");
  EXPECT_EQ(promoted[1][0].value_or("(null)"), "second");
  guard.Release();
  Signal(c.process, SIGTERM);
  EXPECT_EQ(WaitProcess(c.process).code, 0);
  pg.Exec("DROP SCHEMA \"" + schema + "\" CASCADE");
}

}  // namespace
}  // namespace weir::test::hostile
