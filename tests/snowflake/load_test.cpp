// tests/snowflake/load_test.cpp — the real plugin (.so, through the C ABI) loading into a real
// PostgreSQL 15 through unixODBC + psqlODBC, checked row by row against the source records:
// events, users with out-of-order updates, identities, replays, hostile data, promoted columns,
// large batches, and the three connection errors an operator meets first.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pg_server.hpp"
#include "plugin_driver.hpp"
#include "weir/json.hpp"
#include "weir_process.hpp"

namespace weir::snowflake::testing {
namespace {

/// Semantic JSON equality (object key order and number spelling do not matter; jsonb
/// normalizes both).
bool JsonEqual(simdjson::dom::element a, simdjson::dom::element b) {
  using simdjson::dom::element_type;
  auto numeric = [](element_type t) {
    return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
  };
  if (numeric(a.type()) && numeric(b.type())) {
    if (a.type() == element_type::DOUBLE || b.type() == element_type::DOUBLE) {
      return double(a) == double(b);
    }
    return simdjson::to_string(a) == simdjson::to_string(b);
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object oa = a, ob = b;
      if (oa.size() != ob.size()) return false;
      for (auto field : oa) {
        simdjson::dom::element other;
        if (ob.at_key(field.key).get(other)) return false;
        if (!JsonEqual(field.value, other)) return false;
      }
      return true;
    }
    case element_type::ARRAY: {
      simdjson::dom::array aa = a, ab = b;
      if (aa.size() != ab.size()) return false;
      auto ia = aa.begin();
      auto ib = ab.begin();
      for (; ia != aa.end(); ++ia, ++ib) {
        if (!JsonEqual(*ia, *ib)) return false;
      }
      return true;
    }
    case element_type::STRING:
      return std::string_view(a) == std::string_view(b);
    case element_type::BOOL:
      return bool(a) == bool(b);
    default:
      return true;  // null
  }
}

::testing::AssertionResult SameJson(const std::string& expected, const std::string& actual) {
  simdjson::dom::parser pa, pb;
  simdjson::dom::element a, b;
  if (pa.parse(expected).get(a)) return ::testing::AssertionFailure() << "bad expected JSON";
  if (pb.parse(actual).get(b)) {
    return ::testing::AssertionFailure() << "bad JSON from PostgreSQL: " << actual.substr(0, 200);
  }
  if (JsonEqual(a, b)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "JSON differs:\n expected " << expected.substr(0, 300)
                                       << "\n actual   " << actual.substr(0, 300);
}

/// The "properties" object of a record, as text (the record is built by the test, so the object
/// is found by simdjson rather than by string search).
std::string PropertiesOf(const std::string& record) {
  simdjson::dom::parser p;
  simdjson::dom::element props;
  if (p.parse(record)["properties"].get(props)) return "null";
  return simdjson::to_string(props);
}

std::string Ts(int64_t ms) {
  char buf[64];
  const int64_t s = ms / 1000;
  std::time_t t = static_cast<std::time_t>(s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

class SnowflakePg : public ::testing::Test {
 protected:
  void SetUp() override {
    SNOWFLAKE_REQUIRE_PG();
    pg_ = PgServer::Shared();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    schema_ = "T_" + std::string(info->name());
    for (char& c : schema_) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    pg_->ResetSchema(schema_);
  }

  std::string Config(const std::string& extra = "") const {
    return pg_->PluginConfig(schema_, extra);
  }

  std::string Table(const std::string& name) const {
    return "\"" + schema_ + "\".\"" + name + "\"";
  }

  int64_t Count(const std::string& table) const {
    auto rows = pg_->Query("SELECT COUNT(*) FROM " + Table(table));
    return rows.empty() ? -1 : std::stoll(*rows[0][0]);
  }

  PgServer* pg_ = nullptr;
  std::string schema_;
};

std::string EventRecord(int i, const std::string& props) {
  return R"({"event":"page_view","time":)" + std::to_string(1700000000000LL + i * 1001LL) +
         R"(,"distinct_id":"user-)" + std::to_string(i % 37) + R"(","insert_id":"ev-)" +
         std::to_string(i) + R"(","properties":)" + props + "}";
}

TEST_F(SnowflakePg, EventsLoadRowByRow) {
  SnowflakeDriver d(Config());
  ASSERT_TRUE(d.opened()) << d.open_status().ToString();
  ASSERT_TRUE(d.Check().ok());
  std::vector<std::string> first, second;
  for (int i = 0; i < 300; ++i) {
    const std::string props = R"({"i":)" + std::to_string(i) + R"(,"path":"/p/)" +
                              std::to_string(i) + R"(","price":)" + std::to_string(i) +
                              R"(.25,"tags":["a","b"],"nested":{"ok":true,"none":null}})";
    (i < 200 ? first : second).push_back(EventRecord(i, props));
  }
  ASSERT_TRUE(d.Write("events", "p.events.000000000001", first, 1, "p").ok());
  ASSERT_TRUE(d.Write("events", "p.events.000000000002", second, 2, "p").ok());

  auto rows = pg_->Query(
      "SELECT \"INSERT_ID\", \"EVENT\", \"DISTINCT_ID\", to_char(\"TIME\", "
      "'YYYY-MM-DD HH24:MI:SS.MS'), \"PROPERTIES\"::text, \"_WEIR_BATCH\", "
      "\"_WEIR_LOADED_AT\" IS NOT NULL FROM " +
      Table("EVENTS") + " ORDER BY \"TIME\"");
  ASSERT_EQ(rows.size(), 300u);
  for (int i = 0; i < 300; ++i) {
    const auto& r = rows[static_cast<size_t>(i)];
    const std::string& source =
        i < 200 ? first[static_cast<size_t>(i)] : second[static_cast<size_t>(i - 200)];
    EXPECT_EQ(*r[0], "ev-" + std::to_string(i));
    EXPECT_EQ(*r[1], "page_view");
    EXPECT_EQ(*r[2], "user-" + std::to_string(i % 37));
    EXPECT_EQ(*r[3], Ts(1700000000000LL + i * 1001LL));
    EXPECT_TRUE(SameJson(PropertiesOf(source), *r[4])) << "row " << i;
    EXPECT_EQ(*r[5], i < 200 ? "p.events.000000000001" : "p.events.000000000002");
    EXPECT_EQ(*r[6], "1");
  }
  auto ledger = pg_->Query(
      "SELECT \"BATCH_KEY\", \"PIPELINE\", \"STREAM\", \"BATCH_SEQ\", "
      "\"TARGET_TABLE\", \"RECORDS\", \"STAGED_ROWS\" FROM " +
      Table("_WEIR_BATCHES") + " ORDER BY \"BATCH_SEQ\"");
  ASSERT_EQ(ledger.size(), 2u);
  EXPECT_EQ(ledger[0], (Row{"p.events.000000000001", "p", "events", "1", "EVENTS", "200", "200"}));
  EXPECT_EQ(ledger[1], (Row{"p.events.000000000002", "p", "events", "2", "EVENTS", "100", "100"}));
  EXPECT_EQ(d.host().Metric("snowflake.rows_merged"), 300);
}

TEST_F(SnowflakePg, ReplayingACommittedBatchAddsNothing) {
  std::vector<std::string> batch;
  for (int i = 0; i < 50; ++i) batch.push_back(EventRecord(i, R"({"n":1})"));
  {
    SnowflakeDriver d(Config());
    ASSERT_TRUE(d.Write("events", "p.events.000000000001", batch).ok());
    // The same key again on the same connection, then on a fresh one (a restarted host).
    ASSERT_TRUE(d.Write("events", "p.events.000000000001", batch).ok());
    EXPECT_EQ(d.host().Metric("snowflake.replays"), 1);
  }
  const std::string before = *pg_->Query(
      "SELECT string_agg(\"INSERT_ID\" || '@' || \"_WEIR_LOADED_AT\"::text, ',' "
      "ORDER BY \"INSERT_ID\") FROM " +
      Table("EVENTS"))[0][0];
  SnowflakeDriver again(Config());
  ASSERT_TRUE(again.Write("events", "p.events.000000000001", batch).ok());
  EXPECT_EQ(again.host().Metric("snowflake.replays"), 1);
  EXPECT_EQ(Count("EVENTS"), 50);
  EXPECT_EQ(Count("_WEIR_BATCHES"), 1);
  // Nothing was rewritten either.
  EXPECT_EQ(*pg_->Query("SELECT string_agg(\"INSERT_ID\" || '@' || \"_WEIR_LOADED_AT\"::text, "
                        "',' ORDER BY \"INSERT_ID\") FROM " +
                        Table("EVENTS"))[0][0],
            before);

  // A new batch repeating some insert_ids (a source that re-sent them) adds only the new ones,
  // and the first copy of an event stays.
  std::vector<std::string> overlap;
  for (int i = 40; i < 60; ++i) overlap.push_back(EventRecord(i, R"({"n":2})"));
  ASSERT_TRUE(again.Write("events", "p.events.000000000002", overlap, 2).ok());
  EXPECT_EQ(Count("EVENTS"), 60);
  auto kept = pg_->Query("SELECT \"PROPERTIES\"::text, \"_WEIR_BATCH\" FROM " + Table("EVENTS") +
                         " WHERE \"INSERT_ID\" = 'ev-45'");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_TRUE(SameJson(R"({"n":1})", *kept[0][0]));
  EXPECT_EQ(*kept[0][1], "p.events.000000000001");
}

TEST_F(SnowflakePg, UsersOutOfOrderUpdatesNeverOverwriteNewer) {
  SnowflakeDriver d(Config());
  struct Change {
    std::string id;
    int64_t at;
    std::string props;  // "" = delete marker
  };
  // Batches arrive out of order: older changes come after newer ones, across and within batches.
  const std::vector<std::vector<Change>> batches = {
      {{"u1", 2000, R"({"plan":"pro","v":2})"},
       {"u2", 1000, R"({"plan":"free"})"},
       {"u3", 4000, R"({"name":"Zoë \"Z\" O'Neil"})"}},
      {{"u1", 1000, R"({"plan":"free","v":1})"},    // older than stored: ignored
       {"u2", 3000, R"({"plan":"team"})"},          // newer: applied
       {"u2", 2500, R"({"plan":"stale"})"},         // older within the batch: ignored
       {"u3", 5000, ""}},                           // delete marker
      {{"u3", 4500, R"({"name":"resurrected?"})"},  // older than the delete: ignored
       {"u4", 100, R"({})"},
       {"u1", 2000, R"({"plan":"pro","v":2,"same_ms":true})"}}};
  std::map<std::string, Change> expected;
  for (size_t b = 0; b < batches.size(); ++b) {
    std::vector<std::string> records;
    for (const Change& c : batches[b]) {
      if (c.props.empty()) {
        records.push_back(R"({"distinct_id":")" + c.id + R"(","updated_at":)" +
                          std::to_string(c.at) + R"(,"deleted":true})");
      } else {
        records.push_back(R"({"distinct_id":")" + c.id + R"(","updated_at":)" +
                          std::to_string(c.at) + R"(,"properties":)" + c.props + "}");
      }
      auto it = expected.find(c.id);
      if (it == expected.end() || c.at >= it->second.at) expected[c.id] = c;
    }
    char key[64];
    std::snprintf(key, sizeof key, "p.users.%012zu", b + 1);
    ASSERT_TRUE(d.Write("users", key, records, b + 1).ok()) << b;
  }
  auto rows = pg_->Query(
      "SELECT \"DISTINCT_ID\", to_char(\"UPDATED_AT\", "
      "'YYYY-MM-DD HH24:MI:SS.MS'), \"PROPERTIES\"::text, \"DELETED\" FROM " +
      Table("USERS") + " ORDER BY \"DISTINCT_ID\"");
  ASSERT_EQ(rows.size(), expected.size());
  size_t i = 0;
  for (const auto& [id, c] : expected) {
    const Row& r = rows[i++];
    EXPECT_EQ(*r[0], id);
    EXPECT_EQ(*r[1], Ts(c.at)) << id;
    if (c.props.empty()) {
      EXPECT_FALSE(r[2].has_value()) << id;
      EXPECT_EQ(*r[3], "1") << id;
    } else {
      ASSERT_TRUE(r[2].has_value()) << id;
      EXPECT_TRUE(SameJson(c.props, *r[2])) << id;
      EXPECT_EQ(*r[3], "0") << id;
    }
  }
  // Spot-check the rules the expectation encodes.
  EXPECT_EQ(expected["u1"].props, R"({"plan":"pro","v":2,"same_ms":true})");
  EXPECT_EQ(expected["u2"].props, R"({"plan":"team"})");
  EXPECT_TRUE(expected["u3"].props.empty());
}

TEST_F(SnowflakePg, IdentitiesDedupeOnThePair) {
  SnowflakeDriver d(Config());
  ASSERT_TRUE(d.Write("identities", "p.identities.000000000001",
                      {R"({"distinct_id":"dev-1","user_id":"alice","time":1700000000000})",
                       R"({"distinct_id":"dev-2","user_id":"alice","time":1700000001000})",
                       R"({"distinct_id":"dev-1","user_id":"alice","time":1700000002000})"})
                  .ok());
  ASSERT_TRUE(d.Write("identities", "p.identities.000000000002",
                      {R"({"distinct_id":"dev-1","user_id":"alice","time":1700000003000})",
                       R"({"distinct_id":"dev-1","user_id":"bob","time":1700000004000})"},
                      2)
                  .ok());
  auto rows = pg_->Query(
      "SELECT \"DISTINCT_ID\", \"USER_ID\", to_char(\"TIME\", "
      "'YYYY-MM-DD HH24:MI:SS.MS'), \"_WEIR_BATCH\" FROM " +
      Table("IDENTITIES") + " ORDER BY 1, 2");
  EXPECT_EQ(rows,
            (std::vector<Row>{{"dev-1", "alice", Ts(1700000000000), "p.identities.000000000001"},
                              {"dev-1", "bob", Ts(1700000004000), "p.identities.000000000002"},
                              {"dev-2", "alice", Ts(1700000001000), "p.identities.000000000001"}}));
}

TEST_F(SnowflakePg, HostilePropertyNamesAndValuesLoadAndCannotInject) {
  pg_->Exec("CREATE TABLE " + Table("CANARY") + " (x int); INSERT INTO " + Table("CANARY") +
            " VALUES (1)");
  std::string deep = "\"bottom\"";
  for (int i = 0; i < 200; ++i)
    deep = (i % 2 == 0 ? "[" : "{\"d\":") + deep + (i % 2 == 0 ? "]" : "}");
  std::string long_value;
  for (int i = 0; i < 10000; ++i) long_value.push_back("a'\";\\-x\xc3\xa9"[i % 9]);
  // long_value cut at a character boundary: the 2-byte é must stay whole.
  while (!long_value.empty() && (static_cast<unsigned char>(long_value.back()) == 0xc3)) {
    long_value.pop_back();
  }
  const std::string drop = "'; DROP TABLE \\\"" + schema_ + "\\\".\\\"CANARY\\\"; --";
  const std::vector<std::string> records = {
      R"({"event":"x'); DROP TABLE \")" + schema_ +
          R"(\".\"EVENTS\"; --","time":1700000000000,)"
          R"("distinct_id":"Robert'); DELETE FROM users; --","insert_id":"id-1';--",)"
          R"("properties":{")" +
          drop + R"(":")" + drop +
          R"(","\"quoted key\"":"semi;colon",)"
          R"("ключ":"значение","emoji 😀":"🎉","tab\tnew\nline":"back\\slash",)"
          R"("null_value":null,"long":)" +
          weir::JsonQuote(long_value) + R"(,"deep":)" + deep + "}}",
      R"({"event":"🚀 launch","time":1700000000001,"distinct_id":"ü","insert_id":"id-2",)"
      R"("properties":{"$set":{"a":[null,true,false,0,-1.5e10,"\u00e9"]},"":"empty key"}})",
      R"({"event":null,"time":1700000000002,"distinct_id":null,"insert_id":"id-3"})",
  };
  SnowflakeDriver d(Config());
  Status s = d.Write("events", "p.events.000000000001", records);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count("CANARY"), 1);
  auto rows = pg_->Query(
      "SELECT \"INSERT_ID\", \"EVENT\", \"DISTINCT_ID\", "
      "\"PROPERTIES\"::text FROM " +
      Table("EVENTS") + " ORDER BY \"TIME\"");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(*rows[0][0], "id-1';--");
  EXPECT_EQ(*rows[0][1], "x'); DROP TABLE \"" + schema_ + "\".\"EVENTS\"; --");
  EXPECT_EQ(*rows[0][2], "Robert'); DELETE FROM users; --");
  EXPECT_TRUE(SameJson(PropertiesOf(records[0]), *rows[0][3]));
  EXPECT_EQ(*rows[1][1], "🚀 launch");
  EXPECT_EQ(*rows[1][2], "ü");
  EXPECT_TRUE(SameJson(PropertiesOf(records[1]), *rows[1][3]));
  EXPECT_FALSE(rows[2][1].has_value());
  EXPECT_FALSE(rows[2][2].has_value());
  EXPECT_FALSE(rows[2][3].has_value());
  // The long value arrived whole: as many characters as the source holds.
  size_t characters = 0;
  for (char c : long_value) characters += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
  auto len = pg_->Query("SELECT length(\"PROPERTIES\"->>'long') FROM " + Table("EVENTS") +
                        " WHERE \"INSERT_ID\" = 'id-1'';--'");
  ASSERT_EQ(len.size(), 1u);
  EXPECT_EQ(*len[0][0], std::to_string(characters));
  EXPECT_GE(long_value.size(), 9990u);
}

TEST_F(SnowflakePg, PromotedColumnsAreAddedWhenTheConfigGrows) {
  {
    SnowflakeDriver d(Config());
    ASSERT_TRUE(d.Write("events", "p.events.000000000001",
                        {EventRecord(1, R"({"$browser":"Firefox","cart":{"total":3}})")})
                    .ok());
  }
  SnowflakeDriver d(Config(
      R"(, "promoted_columns": [{"path": "/$browser", "column": "browser", "type": "VARCHAR"},
                                {"path": "/cart/total", "column": "cart_total", "type": "NUMBER"},
                                {"path": "/ok", "column": "ok", "type": "BOOLEAN"}])"));
  Status s = d.Write("events", "p.events.000000000002",
                     {EventRecord(2, R"({"$browser":"Chrome","cart":{"total":12},"ok":true})"),
                      EventRecord(3, R"({"$browser":7,"cart":{"total":"12"}})")},
                     2);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto rows = pg_->Query("SELECT \"INSERT_ID\", \"BROWSER\", \"CART_TOTAL\"::text, \"OK\" FROM " +
                         Table("EVENTS") + " ORDER BY \"INSERT_ID\"");
  EXPECT_EQ(rows, (std::vector<Row>{{"ev-1", std::nullopt, std::nullopt, std::nullopt},
                                    {"ev-2", "Chrome", "12", "1"},
                                    {"ev-3", "7", std::nullopt, std::nullopt}}));
}

TEST_F(SnowflakePg, LargeBatchesSpanManyStatementsInOneTransaction) {
  std::vector<std::string> records;
  for (int i = 0; i < 3000; ++i) records.push_back(EventRecord(i, R"({"k":"v"})"));
  // Rows are staged in insert_id order: "ev-9999" comes after every "ev-0" … "ev-2999".
  records.push_back(EventRecord(9999, R"({"big":")" + std::string(1500 * 1000, 'z') + "\"}"));
  SnowflakeDriver d(Config(R"(, "rows_per_statement": 250)"));
  Status s = d.Write("events", "p.events.000000000001", records);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count("EVENTS"), 3001);
  // 12 chunks of 250 small rows, and the 1.5 MB row alone.
  EXPECT_EQ(d.host().Metric("snowflake.statements"), 13);
  auto big = pg_->Query("SELECT length(\"PROPERTIES\"->>'big') FROM " + Table("EVENTS") +
                        " WHERE \"INSERT_ID\" = 'ev-9999'");
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(*big[0][0], "1500000");
}

TEST_F(SnowflakePg, ABadRecordFailsTheBatchAndLoadsNothing) {
  SnowflakeDriver d(Config());
  Status s =
      d.Write("events", "p.events.000000000001", {EventRecord(1, "{}"), R"({"event":"no id"})"});
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(s.retryable());
  EXPECT_NE(s.message().find("events record 1 of the batch: insert_id: required"),
            std::string::npos)
      << s.message();
  ASSERT_TRUE(d.Write("events", "p.events.000000000002", {EventRecord(2, "{}")}, 2).ok());
  EXPECT_EQ(Count("EVENTS"), 1);
  EXPECT_EQ(Count("_WEIR_BATCHES"), 1);
}

// ---------------------------------------------------------------------------------------------
// Failures between and inside batches (docs/snowflake.md, Errors): a lost connection is
// retryable and the next call reconnects; a statement failing inside a batch's transaction
// rolls the whole batch back, ledger row included, and the same key loads later exactly once.

TEST_F(SnowflakePg, ALostConnectionBetweenBatchesIsRetryableAndLoadsEachEventOnce) {
  SnowflakeDriver d(Config());
  ASSERT_TRUE(d.opened()) << d.open_status().ToString();
  std::vector<std::string> first, second;
  for (int i = 0; i < 100; ++i) (i < 50 ? first : second).push_back(EventRecord(i, R"({"n":1})"));
  ASSERT_TRUE(d.Write("events", "p.events.000000000001", first, 1).ok());

  // The plugin's backend is the only other client of this process's server (each test process
  // starts its own): terminate it, as a server restart or a network cut would.
  auto killed = pg_->Query(
      "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
  ASSERT_EQ(killed.size(), 1u) << "expected exactly the plugin's connection";
  ASSERT_EQ(*killed[0][1], "1");
  const std::string pid = *killed[0][0];
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = *pg_->Query("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = " + pid)[0][0] == "0";
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(gone) << "backend " << pid << " did not exit";

  // Either the plugin notices and reconnects within this write, or the write fails with a
  // retryable error and the host's retry (same key) goes through on a new connection.
  Status s = d.Write("events", "p.events.000000000002", second, 2);
  std::string first_error = "(none: the write reconnected by itself)";
  if (!s.ok()) {
    first_error = s.ToString();
    EXPECT_TRUE(s.retryable()) << s.ToString();
    EXPECT_NE(s.message().find("loading batch 'p.events.000000000002'"), std::string::npos)
        << s.message();
    EXPECT_EQ(s.message().find(pg_->password()), std::string::npos);
    s = d.Write("events", "p.events.000000000002", second, 2);
  }
  ASSERT_TRUE(s.ok()) << "the retry after a lost connection failed too: " << s.ToString()
                      << "\nfirst error: " << first_error;
  // A new connection was opened for it.
  EXPECT_EQ(weir::test::CountOccurrences(d.host().Logs(), "snowflake: connected to"), 2)
      << d.host().Logs();

  // Replaying both keys on the new connection changes nothing.
  ASSERT_TRUE(d.Write("events", "p.events.000000000001", first, 1).ok());
  ASSERT_TRUE(d.Write("events", "p.events.000000000002", second, 2).ok());
  EXPECT_EQ(d.host().Metric("snowflake.replays"), 2);
  auto counts =
      pg_->Query("SELECT COUNT(*), COUNT(DISTINCT \"INSERT_ID\") FROM " + Table("EVENTS"));
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0], (Row{"100", "100"}));
  EXPECT_EQ(pg_->Query("SELECT \"BATCH_KEY\", \"STAGED_ROWS\" FROM " + Table("_WEIR_BATCHES") +
                       " ORDER BY 1"),
            (std::vector<Row>{{"p.events.000000000001", "50"}, {"p.events.000000000002", "50"}}));
  EXPECT_EQ(*pg_->Query("SELECT COUNT(*) FROM " + Table("EVENTS") +
                        " WHERE \"_WEIR_BATCH\" = 'p.events.000000000002'")[0][0],
            "50");
}

TEST_F(SnowflakePg, AStatementFailingInsideTheBatchRollsTheWholeBatchBack) {
  SnowflakeDriver d(Config());
  ASSERT_TRUE(d.opened()) << d.open_status().ToString();
  ASSERT_TRUE(d.Write("events", "p.events.000000000001", {EventRecord(0, R"({"n":0})")}, 1).ok());
  std::vector<std::string> batch;
  for (int i = 1; i <= 20; ++i) batch.push_back(EventRecord(i, R"({"n":1})"));
  struct Obstacle {
    const char* what;
    std::string add;
    std::string drop;
  };
  // The MERGE itself failing (one event violates a CHECK on the target), then the ledger INSERT
  // failing after the MERGE has already written every event of the batch: both must leave
  // neither events nor a ledger row behind.
  const std::vector<Obstacle> obstacles = {
      {"merge",
       "ALTER TABLE " + Table("EVENTS") +
           " ADD CONSTRAINT \"NO_EV_7\" CHECK (\"INSERT_ID\" <> 'ev-7')",
       "ALTER TABLE " + Table("EVENTS") + " DROP CONSTRAINT \"NO_EV_7\""},
      {"ledger insert",
       "ALTER TABLE " + Table("_WEIR_BATCHES") +
           " ADD CONSTRAINT \"NO_KEY_2\" CHECK (\"BATCH_KEY\" <> "
           "'p.events.000000000002')",
       "ALTER TABLE " + Table("_WEIR_BATCHES") + " DROP CONSTRAINT \"NO_KEY_2\""}};
  for (const Obstacle& o : obstacles) {
    SCOPED_TRACE(o.what);
    pg_->Exec(o.add);
    Status s = d.Write("events", "p.events.000000000002", batch, 2);
    ASSERT_FALSE(s.ok());
    EXPECT_FALSE(s.retryable()) << s.ToString();  // a constraint violation is not transient
    EXPECT_EQ(s.sqlstate(), "23514") << s.ToString();
    EXPECT_NE(s.message().find(o.what[0] == 'm' ? "NO_EV_7" : "NO_KEY_2"), std::string::npos)
        << s.message();
    EXPECT_EQ(Count("EVENTS"), 1);
    EXPECT_EQ(Count("_WEIR_BATCHES"), 1);
    EXPECT_EQ(*pg_->Query("SELECT COUNT(*) FROM " + Table("EVENTS") +
                          " WHERE \"_WEIR_BATCH\" = 'p.events.000000000002'")[0][0],
              "0");
    pg_->Exec(o.drop);
  }
  // The obstacles gone, the same key loads on the same connection, exactly once.
  Status s = d.Write("events", "p.events.000000000002", batch, 2);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(d.Write("events", "p.events.000000000002", batch, 2).ok());
  EXPECT_EQ(d.host().Metric("snowflake.replays"), 1);
  EXPECT_EQ(weir::test::CountOccurrences(d.host().Logs(), "snowflake: connected to"), 1);
  auto counts =
      pg_->Query("SELECT COUNT(*), COUNT(DISTINCT \"INSERT_ID\") FROM " + Table("EVENTS"));
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0], (Row{"21", "21"}));
  EXPECT_EQ(pg_->Query("SELECT \"BATCH_KEY\", \"RECORDS\" FROM " + Table("_WEIR_BATCHES") +
                       " ORDER BY 1"),
            (std::vector<Row>{{"p.events.000000000001", "1"}, {"p.events.000000000002", "20"}}));
}

// ---------------------------------------------------------------------------------------------
// Errors an operator meets first: each is one message, says what is wrong, and never contains
// the password.

TEST_F(SnowflakePg, WrongPasswordIsOneClearFatalError) {
  const std::string wrong = "not-the-password-8341";
  SnowflakeDriver d(pg_->PluginConfig(schema_, "", "\"" + wrong + "\""));
  ASSERT_TRUE(d.opened());
  for (Status s : {d.Check(), d.Write("events", "p.events.000000000001", {EventRecord(1, "{}")})}) {
    ASSERT_FALSE(s.ok());
    EXPECT_FALSE(s.retryable()) << s.ToString();
    EXPECT_NE(s.message().find("snowflake: connecting to user 'weir', schema '" + schema_ +
                               "': authentication failed: "),
              std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("password authentication failed"), std::string::npos);
    EXPECT_EQ(s.message().find(wrong), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find(pg_->password()), std::string::npos);
    EXPECT_EQ(s.message().find('\n'), std::string::npos);
  }
  EXPECT_EQ(d.host().Logs().find(wrong), std::string::npos);
}

TEST_F(SnowflakePg, UnreachableServerIsOneClearRetryableError) {
  const int port = FreePort();  // nothing listens there
  std::string config = pg_->PluginConfig(schema_);
  const std::string from = "Port=" + std::to_string(pg_->port());
  config.replace(config.find(from), from.size(), "Port=" + std::to_string(port));
  SnowflakeDriver d(config);
  Status s = d.Check();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.retryable()) << s.ToString();
  EXPECT_EQ(s.sqlstate().substr(0, 2), "08");
  EXPECT_NE(s.message().find("snowflake: connecting to user 'weir'"), std::string::npos);
  EXPECT_NE(s.message().find("Connection refused"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find(pg_->password()), std::string::npos);
}

TEST_F(SnowflakePg, MissingSchemaIsOneClearFatalError) {
  SnowflakeDriver d(pg_->PluginConfig("no_such_schema"));
  Status s = d.Check();
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(s.retryable());
  EXPECT_EQ(s.message(),
            "snowflake: schema \"NO_SUCH_SCHEMA\" does not exist, or the role cannot see it "
            "(create it, or grant USAGE on it; see docs/snowflake.md)");
  Status w = d.Write("events", "p.events.000000000001", {EventRecord(1, "{}")});
  EXPECT_EQ(w.message(), s.message());
}

TEST_F(SnowflakePg, AConfigMistakeIsRefusedAtOpen) {
  SnowflakeDriver d(R"({"dsn":"x"})");
  EXPECT_FALSE(d.opened());
  EXPECT_EQ(d.open_status().code(), WEIR_INVALID_CONFIG);
  EXPECT_EQ(d.open_status().message(), "config.schema: required (the schema of the target tables)");
}

}  // namespace
}  // namespace weir::snowflake::testing
