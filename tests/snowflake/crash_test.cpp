// tests/snowflake/crash_test.cpp — effectively-once through a real `weir run`: the host's
// file-source feeds the snowflake plugin (postgresql dialect) loading into PostgreSQL; runs are
// killed with SIGKILL at random moments mid-load, then a last run finishes. Every event must be
// in the table exactly once and every committed batch in the ledger once. The password reaches
// the plugin only through a ${ENV} reference in the pipeline file.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pg_server.hpp"
#include "temp_dir.hpp"
#include "weir/json.hpp"
#include "weir_process.hpp"

namespace fs = std::filesystem;

namespace weir::snowflake::testing {
namespace {

class SnowflakeCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    SNOWFLAKE_REQUIRE_PG();
    pg_ = PgServer::Shared();
    tmp_ = std::make_unique<weir::test::TempDir>("weir-snowflake-crash");
    dir_ = tmp_->path();
    fs::create_directories(dir_ / "pipelines");
    pg_->ResetSchema("CRASH");
    // The pipeline file names the variable; the host resolves it for the plugin.
    ::setenv("WEIR_SNOWFLAKE_TEST_PASSWORD", pg_->password().c_str(), 1);
  }
  void AppendEvents(int first, int n) {
    std::ofstream out(dir_ / "source.ndjson", std::ios::app);
    for (int i = first; i < first + n; ++i) {
      out << R"({"event":"page_view","time":)" << (1700000000000LL + i * 1000LL)
          << R"(,"distinct_id":"user-)" << (i % 97) << R"(","insert_id":"ev-)" << i
          << R"(","properties":{"i":)" << i << R"(,"path":"/p/)" << i << "\"}}\n";
    }
  }

  void WritePipeline(int max_records) {
    const std::string dest = pg_->PluginConfig("CRASH", R"(, "rows_per_statement": 50)",
                                               "\"${WEIR_SNOWFLAKE_TEST_PASSWORD}\"");
    std::ofstream(dir_ / "pipelines" / "wh.json")
        << R"({"name":"wh","project":"demo","stream":"events",)"
        << R"("source":{"plugin":"file-source","config":{"path":)"
        << weir::JsonQuote((dir_ / "source.ndjson").string()) << R"(}},)"
        << R"("destination":{"plugin":"snowflake","config":)" << dest << "},"
        << R"("batch":{"max_records":)" << max_records << "}}";
  }

  weir::test::Process Start() {
    return weir::test::StartProcess(weir::test::WeirCommand(WEIR_BINARY, dir_, WEIR_PLUGINS_DIR,
                                                            {"run", "wh", "--no-progress"}),
                                    dir_);
  }

  static weir::test::ProcessResult Wait(const weir::test::Process& p) {
    return weir::test::WaitProcess(p);
  }

  PgServer* pg_ = nullptr;
  std::unique_ptr<weir::test::TempDir> tmp_;  // removed with the fixture, even on failure
  fs::path dir_;
};

TEST_F(SnowflakeCrash, KillNineMidLoadThenRerunLeavesEveryEventExactlyOnce) {
  // Enough work that no run finishes before its kill: each run loads at most a few thousand
  // events in the time it is given, so the kills land mid-load, between batches or inside one.
  const int kInitial = 40000;
  AppendEvents(0, kInitial);
  WritePipeline(150);
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> wait_ms(20, 200);
  int killed = 0;
  int replays = 0;
  int next = kInitial;
  for (int i = 0; i < 12; ++i) {
    weir::test::ProcessResult e =
        weir::test::KillMidRun(Start(), std::chrono::milliseconds(wait_ms(rng)));
    if (e.code == 128 + SIGKILL) ++killed;
    replays += weir::test::CountOccurrences(e.err, "replaying batch");
    ASSERT_TRUE(e.code == 128 + SIGKILL || e.code == 0) << e.code << "\n" << e.err;
    if (i % 4 == 3) {  // data keeps arriving while runs crash
      AppendEvents(next, 100);
      next += 100;
    }
  }
  weir::test::ProcessResult last = Wait(Start());
  ASSERT_EQ(last.code, 0) << last.err;
  EXPECT_GE(killed, 6) << "too few runs were killed mid-load to prove anything";
  std::printf("killed %d runs, %d pending batches replayed\n", killed, replays);
  // The password never reached the host's output.
  EXPECT_EQ(last.err.find(pg_->password()), std::string::npos);
  EXPECT_EQ(last.out.find(pg_->password()), std::string::npos);

  auto counts =
      pg_->Query("SELECT COUNT(*), COUNT(DISTINCT \"INSERT_ID\") FROM \"CRASH\".\"EVENTS\"");
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(*counts[0][0], std::to_string(next));
  EXPECT_EQ(*counts[0][1], std::to_string(next));
  // Every source event is there, with its own properties.
  auto missing =
      pg_->Query("SELECT COUNT(*) FROM generate_series(0, " + std::to_string(next - 1) +
                 ") g LEFT JOIN \"CRASH\".\"EVENTS\" e ON e.\"INSERT_ID\" = 'ev-' || g AND "
                 "(e.\"PROPERTIES\"->>'i')::int = g WHERE e.\"INSERT_ID\" IS NULL");
  EXPECT_EQ(*missing[0][0], "0");
  // One ledger row per batch, every event's batch in the ledger, and the ledger's row counts
  // add up to the table.
  auto ledger = pg_->Query(
      "SELECT COUNT(*), COUNT(DISTINCT \"BATCH_KEY\"), SUM(\"STAGED_ROWS\") FROM "
      "\"CRASH\".\"_WEIR_BATCHES\"");
  EXPECT_EQ(*ledger[0][0], *ledger[0][1]);
  EXPECT_EQ(*ledger[0][2], std::to_string(next));
  auto orphans = pg_->Query(
      "SELECT COUNT(*) FROM \"CRASH\".\"EVENTS\" e WHERE NOT EXISTS (SELECT 1 FROM "
      "\"CRASH\".\"_WEIR_BATCHES\" b WHERE b.\"BATCH_KEY\" = e.\"_WEIR_BATCH\")");
  EXPECT_EQ(*orphans[0][0], "0");
}

// The other side of the crash window: the warehouse committed a batch but the host never
// recorded it (it died between the plugin's COMMIT and its own). Losing the host's state
// entirely is the extreme case: every batch is replayed under its old key, and the ledger turns
// each into a no-op.
TEST_F(SnowflakeCrash, BatchesTheWarehouseAlreadyCommittedAreNoOpsWhenReplayed) {
  AppendEvents(0, 1000);
  WritePipeline(300);
  weir::test::ProcessResult first = Wait(Start());
  ASSERT_EQ(first.code, 0) << first.err;
  auto loaded_at = [this] {
    return *pg_->Query(
        "SELECT COUNT(*) || '/' || MAX(\"_WEIR_LOADED_AT\")::text FROM "
        "\"CRASH\".\"EVENTS\"")[0][0];
  };
  const std::string before = loaded_at();
  fs::remove_all(dir_ / "data");  // the host forgets every commit
  weir::test::ProcessResult again = Wait(Start());
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("succeeded: 1000 rows"), std::string::npos) << again.out;
  // The plugin's one line per replayed key (snowflake_plugin.cpp), counted whole.
  EXPECT_EQ(weir::test::CountOccurrences(again.err, "is already in the ledger; nothing to do"), 4)
      << again.err;  // 300 + 300 + 300 + 100
  EXPECT_NE(again.err.find("snowflake.replays=4"), std::string::npos) << again.err;
  EXPECT_EQ(loaded_at(), before);
  EXPECT_EQ(*pg_->Query("SELECT COUNT(*) FROM \"CRASH\".\"_WEIR_BATCHES\"")[0][0], "4");
}

}  // namespace
}  // namespace weir::snowflake::testing
