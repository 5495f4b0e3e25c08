// tests/snowflake/crash_test.cpp — effectively-once through a real `weir run`: the host's
// file-source feeds the snowflake plugin (postgresql dialect) loading into PostgreSQL; runs are
// killed with SIGKILL at random moments mid-load, then a last run finishes. Every event must be
// in the table exactly once and every committed batch in the ledger once. The password reaches
// the plugin only through a ${ENV} reference in the pipeline file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pg_server.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace weir::snowflake::testing {
namespace {

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Proc {
  pid_t pid = -1;
  fs::path out, err;
};

struct Exit {
  int code = -1;  // exit code, or 128 + signal
  std::string out, err;
};

class SnowflakeCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    SNOWFLAKE_REQUIRE_PG();
    pg_ = PgServer::Shared();
    char tmpl[] = "/tmp/weir-snowflake-crash-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "pipelines");
    pg_->ResetSchema("CRASH");
    // The pipeline file names the variable; the host resolves it for the plugin.
    ::setenv("WEIR_SNOWFLAKE_TEST_PASSWORD", pg_->password().c_str(), 1);
  }
  void TearDown() override {
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
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
        << R"("source":{"plugin":"file-source","config":{"path":")"
        << (dir_ / "source.ndjson").string() << R"("}},)"
        << R"("destination":{"plugin":"snowflake","config":)" << dest << "},"
        << R"("batch":{"max_records":)" << max_records << "}}";
  }

  Proc Start() {
    static int counter = 0;
    std::vector<std::string> args = {WEIR_BINARY,
                                     "--data-dir",
                                     (dir_ / "data").string(),
                                     "--plugins-dir",
                                     WEIR_PLUGINS_DIR,
                                     "--pipelines-dir",
                                     (dir_ / "pipelines").string(),
                                     "run",
                                     "wh",
                                     "--no-progress"};
    Proc p;
    p.out = dir_ / ("stdout-" + std::to_string(counter));
    p.err = dir_ / ("stderr-" + std::to_string(counter++));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, p.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, p.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&p.pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    EXPECT_EQ(rc, 0) << "cannot start " << args[0];
    return p;
  }

  static Exit Wait(const Proc& p) {
    int status = 0;
    waitpid(p.pid, &status, 0);
    Exit e;
    e.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    e.out = ReadAll(p.out);
    e.err = ReadAll(p.err);
    return e;
  }

  PgServer* pg_ = nullptr;
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
    Proc p = Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms(rng)));
    kill(p.pid, SIGKILL);
    Exit e = Wait(p);
    if (e.code == 128 + SIGKILL) ++killed;
    for (size_t at = e.err.find("replaying batch"); at != std::string::npos;
         at = e.err.find("replaying batch", at + 1)) {
      ++replays;
    }
    ASSERT_TRUE(e.code == 128 + SIGKILL || e.code == 0) << e.code << "\n" << e.err;
    if (i % 4 == 3) {  // data keeps arriving while runs crash
      AppendEvents(next, 100);
      next += 100;
    }
  }
  Exit last = Wait(Start());
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
  Exit first = Wait(Start());
  ASSERT_EQ(first.code, 0) << first.err;
  auto loaded_at = [this] {
    return *pg_->Query(
        "SELECT COUNT(*) || '/' || MAX(\"_WEIR_LOADED_AT\")::text FROM "
        "\"CRASH\".\"EVENTS\"")[0][0];
  };
  const std::string before = loaded_at();
  fs::remove_all(dir_ / "data");  // the host forgets every commit
  Exit again = Wait(Start());
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("succeeded: 1000 rows"), std::string::npos) << again.out;
  size_t noops = 0;
  for (size_t at = again.err.find("is already in the ledger; nothing to do");
       at != std::string::npos; at = again.err.find("is already in the ledger", at + 1)) {
    ++noops;
  }
  EXPECT_EQ(noops, 4u) << again.err;  // 300 + 300 + 300 + 100
  EXPECT_NE(again.err.find("snowflake.replays=4"), std::string::npos) << again.err;
  EXPECT_EQ(loaded_at(), before);
  EXPECT_EQ(*pg_->Query("SELECT COUNT(*) FROM \"CRASH\".\"_WEIR_BATCHES\"")[0][0], "4");
}

}  // namespace
}  // namespace weir::snowflake::testing
