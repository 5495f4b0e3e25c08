// tests/s3/plugin/run_test.cpp — end-to-end: the real `weir run` moving file-source records into
// the s3 plugin with a file:// URL, including kill -9 at random moments; every source line must
// arrive exactly once, byte-exact, in the partition of its own event time.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"
#include "weir_process.hpp"

namespace weir::s3_test {
namespace {

namespace fs = std::filesystem;

using Proc = weir::test::Process;
using RunResult = weir::test::ProcessResult;

constexpr int64_t kDayStart = 1763769600000;  // 2025-11-22T00:00:00Z

class S3PluginRun : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "pipelines");
    source_ = dir_ / "source.ndjson";
  }

  /// Appends events [first, first + n): event times spread over a day, every 11th two days late.
  void AppendEvents(int first, int n) {
    std::ofstream out(source_, std::ios::app);
    for (int i = first; i < first + n; ++i) {
      int64_t t = kDayStart + (static_cast<int64_t>(i) * 7919 % 86400) * 1000 + i % 1000;
      if (i % 11 == 5) t -= 2 * 86400000;
      out << EventJson(i, t, 60 + i % 200) << "\n";
    }
  }

  void WritePipeline(const std::string& name, const std::string& stream, int max_records,
                     const std::string& dest_extra = "") {
    const std::string json = R"({"name":")" + name + R"(","project":"demo","stream":")" + stream +
                             R"(","source":{"plugin":"file-source","config":{"path":)" +
                             JsonString(source_) +
                             R"(}},"destination":{"plugin":"s3","config":{"url":)" +
                             JsonString("file://" + dir_ / "out") + dest_extra +
                             R"(}},"batch":{"max_records":)" + std::to_string(max_records) + "}}";
    WriteFile(dir_ / ("pipelines/" + name + ".json"), json);
  }

  Proc Start(const std::vector<std::string>& rest) {
    return weir::test::StartProcess(
        weir::test::WeirCommand(WEIR_BINARY, dir_.path(), WEIR_PLUGINS_DIR, rest), dir_.path());
  }

  static RunResult Wait(const Proc& p) { return weir::test::WaitProcess(p); }

  RunResult Weir(const std::vector<std::string>& rest) { return Wait(Start(rest)); }

  /// The UTC hour folder ("2025/11/22/10") of a record, from its "time" field.
  static std::string HourOf(const std::string& line) {
    const size_t at = line.find("\"time\":");
    EXPECT_NE(at, std::string::npos) << line;
    const int64_t ms = std::stoll(line.substr(at + 7));
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y/%m/%d/%H", &tm);
    return buf;
  }

  /// Every exported line → how many times it was seen; checks each object's folder.
  std::map<std::string, int> Delivered() {
    std::map<std::string, int> seen;
    for (const auto& [path, bytes] : ReadTree(dir_ / "out")) {
      if (path.find("/.weir-tmp-") != std::string::npos) continue;  // a killed write's temp file
      const std::string prefix = "demo/mp_master_event/";
      EXPECT_EQ(path.compare(0, prefix.size(), prefix), 0) << path;
      const std::string folder = path.substr(prefix.size(), 13);
      for (const std::string& line : Lines(DecodeObject(path, bytes))) {
        EXPECT_EQ(HourOf(line), folder) << "in " << path << ": " << line;
        ++seen[line];
      }
    }
    return seen;
  }

  void ExpectExactlyOnce() {
    std::map<std::string, int> want;
    for (const std::string& line : Lines(ReadFile(source_))) ++want[line];
    auto got = Delivered();
    EXPECT_EQ(got.size(), want.size());
    int dupes = 0, missing = 0;
    for (const auto& [line, n] : got) dupes += n > 1 ? 1 : 0;
    for (const auto& [line, n] : want) missing += got.count(line) == 0 ? 1 : 0;
    EXPECT_EQ(dupes, 0) << "records delivered more than once";
    EXPECT_EQ(missing, 0) << "records never delivered";
  }

  TempDir dir_;
  std::string source_;
};

TEST_F(S3PluginRun, ExportsEveryRecordOnceIntoItsEventTimePartition) {
  AppendEvents(0, 2000);
  WritePipeline("demo", "events", 300, R"(,"max_object_bytes":16384)");
  RunResult r = Weir({"run", "demo", "--no-progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("succeeded: 2000 rows"), std::string::npos) << r.out;
  ExpectExactlyOnce();
  RunResult again = Weir({"run", "demo", "--no-progress"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("no_data"), std::string::npos) << again.out;
  // The plugin passes `weir plugins check` with this config too.
  RunResult check =
      Weir({"plugins", "check", std::string(WEIR_PLUGINS_DIR) + "/libweir-s3.so",
            "--destination-config", "{\"url\":" + JsonString("file://" + dir_ / "check") + "}"});
  EXPECT_EQ(check.code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find(" 0 failed"), std::string::npos) << check.out;
}

TEST_F(S3PluginRun, UsersStreamWritesIncrementalPeopleFiles) {
  {
    std::ofstream out(source_);
    for (int i = 0; i < 50; ++i) {
      out << R"({"distinct_id":"u)" << i % 20 << R"(","updated_at":)" << kDayStart + i * 1000
          << R"(,"properties":{"$name":"User )" << i << R"("}})"
          << "\n";
    }
  }
  WritePipeline("people", "users", 20);
  RunResult r = Weir({"run", "people", "--no-progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto tree = ReadTree(dir_ / "out");
  std::vector<std::string> keys;
  std::vector<std::string> lines;
  for (const auto& [path, bytes] : tree) {
    keys.push_back(path);
    for (auto& l : Lines(DecodeObject(path, bytes))) lines.push_back(l);
  }
  EXPECT_EQ(keys,
            (std::vector<std::string>{"demo/mp_people_data/people-000000000001-0000.json.gz",
                                      "demo/mp_people_data/people-000000000002-0000.json.gz",
                                      "demo/mp_people_data/people-000000000003-0000.json.gz"}));
  EXPECT_EQ(lines, Lines(ReadFile(source_))) << "files in name order replay the changes in order";
}

// DESIGN.md §4 through the s3 plugin: kill -9 a real `weir run` at random moments while data
// keeps arriving, then let it finish; every source line is exported exactly once. A replayed
// batch rewrites the same keys with the same bytes, so objects a killed run already stored are
// never duplicated.
TEST_F(S3PluginRun, KillNineAtRandomMomentsLosesAndDuplicatesNothing) {
  int next = 3000;
  AppendEvents(0, next);
  // Small batches spread over many hours: many objects per batch, so kills land mid-batch.
  WritePipeline("crash", "events", 40, R"(,"compression_level":12,"parallelism":2)");
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> wait_ms(0, 60);
  int killed = 0, replays = 0;
  for (int i = 0; i < 40; ++i) {
    RunResult r = weir::test::KillMidRun(Start({"run", "crash", "--no-progress"}),
                                         std::chrono::milliseconds(wait_ms(rng)));
    if (r.code == 128 + SIGKILL) ++killed;
    replays += weir::test::CountOccurrences(r.err, "replaying batch");
    ASSERT_TRUE(r.code == 128 + SIGKILL || r.code == 0) << r.code << " " << r.err;
    if (i % 10 == 9) {
      AppendEvents(next, 25);
      next += 25;
    }
  }
  RunResult last = Weir({"run", "crash", "--no-progress"});
  ASSERT_EQ(last.code, 0) << last.err;
  std::printf("killed %d runs, %d pending batches replayed\n", killed, replays);
  EXPECT_GE(killed, 20) << "too few runs were actually killed to prove anything";
  EXPECT_GE(replays, 1) << "no run ever replayed a pending batch";
  ExpectExactlyOnce();
}

}  // namespace
}  // namespace weir::s3_test
