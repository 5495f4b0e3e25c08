// tests/backfill/backfill_test.cpp — the real `weir backfill` over an sdk-source store into
// file-destination: day windows in a DST zone then the incremental run (every record exactly
// once), --status, --redo rewriting identical files, kill -9 mid-window and resume, bad input.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <csignal>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "plugin_test_util.hpp"
#include "weir_process.hpp"

namespace weir::sdksource_test {
namespace {

namespace fs = std::filesystem;
using sdksource::Record;

constexpr int64_t kMar9 = 1'709'960'400'000;  // 2024-03-09T00:00 America/New_York

class BackfillEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("weir-backfill-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "pipelines");
    fs::create_directories(dir_ / "collector/demo");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void WritePipeline(const std::string& start, int max_records) {
    std::ofstream(dir_ / "pipelines/demo.json")
        << R"({"name":"demo","project":"demo","stream":"events","start":")" << start
        << R"(","schedule":{"daily":"02:00","timezone":"America/New_York"},)"
        << R"("source":{"plugin":"sdk-source","config":{"data_dir":")"
        << (dir_ / "collector").string() << R"(","project":"demo"}},)"
        << R"("destination":{"plugin":"file-destination","config":{"dir":")"
        << (dir_ / "out").string() << R"("}},"batch":{"max_records":)" << max_records << "}}";
  }
  void AppendEvents(int first, int count, int64_t t0, int64_t step) {
    auto store = OpenWriter((dir_ / "collector/demo").string());
    std::vector<Record> records;
    for (int i = first; i < first + count; ++i) {
      const int64_t t = t0 + step * (i - first);
      records.push_back(Record::Event(EventJson(i, t), t));
    }
    Append(*store, std::move(records));
  }
  test::ProcessResult Weir(const std::vector<std::string>& rest) {
    return test::WaitProcess(Start(rest));
  }
  test::Process Start(const std::vector<std::string>& rest) {
    return test::StartProcess(test::WeirCommand(WEIR_BINARY, dir_, WEIR_PLUGINS_DIR, rest), dir_);
  }
  /// insert_id -> how many times it occurs across all exported files. A kill -9 can leave
  /// file-destination's `.tmp.*` files behind (written but never linked to a batch name, or
  /// linked but not yet removed); they are not exports, as the plugin's docs say.
  std::map<std::string, int> ExportedIds() {
    std::map<std::string, int> ids;
    if (!fs::exists(dir_ / "out")) return ids;
    const std::regex re(R"re("insert_id":"([^"]+)")re");
    for (const auto& f : fs::recursive_directory_iterator(dir_ / "out")) {
      if (!f.is_regular_file() || f.path().filename().string().rfind(".tmp.", 0) == 0) continue;
      const std::string text = testkit_test::ReadFile(f.path());
      for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) {
        ids[(*it)[1]]++;
      }
    }
    return ids;
  }
  std::map<std::string, std::string> Files() {
    std::map<std::string, std::string> out;
    for (const auto& f : fs::recursive_directory_iterator(dir_ / "out")) {
      if (f.is_regular_file() && f.path().filename().string().rfind(".tmp.", 0) != 0) {
        out[f.path().string()] = testkit_test::ReadFile(f.path());
      }
    }
    return out;
  }
  fs::path dir_;
};

TEST_F(BackfillEndToEnd, DaysThenIncrementalExportEveryRecordOnceAndRedoIsIdentical) {
  WritePipeline("now", 7);
  // 3 days (the 2nd is the 23-hour DST day), one event every 50 minutes: 86 events.
  AppendEvents(0, 86, kMar9 + 60'000, 50 * 60'000);
  auto r = Weir({"backfill", "demo", "--from", "2024-03-09", "--to", "2024-03-11",
                 "--no-progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ExportedIds().size(), 86u);
  // Later records (even with old event times) belong to the incremental export only.
  AppendEvents(1000, 20, kMar9 + 30'000, 60'000);
  r = Weir({"run", "demo", "--no-progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto ids = ExportedIds();
  EXPECT_EQ(ids.size(), 106u);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;

  r = Weir({"backfill", "demo", "--status", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(R"("totals":{"days":3,"done":3,"rows":86)"), std::string::npos) << r.out;
  r = Weir({"backfill", "demo", "--status"});
  EXPECT_NE(r.out.find("3 of 3 days done"), std::string::npos) << r.out;

  auto before = Files();
  r = Weir({"backfill", "demo", "--redo", "2024-03-10", "--no-progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Files(), before);
  r = Weir({"backfill", "demo", "--status", "--json"});
  EXPECT_NE(r.out.find(R"("day":"2024-03-10","status":"done")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("redo_count":1)"), std::string::npos) << r.out;
}

TEST_F(BackfillEndToEnd, KilledMidWindowResumesExportingEveryRecordOnce) {
  WritePipeline("now", 3);
  AppendEvents(0, 3000, kMar9, 4 * 60'000 * 60 / 60);  // 4 min apart: ~8.3 days
  auto plan = Weir({"backfill", "demo", "--from", "2024-03-09", "--to", "2024-03-17", "--step",
                    "--no-progress"});
  ASSERT_EQ(plan.code, 6) << plan.err;
  test::Process p = Start({"backfill", "demo", "--no-progress"});
  test::ProcessResult killed = test::KillMidRun(p, std::chrono::milliseconds(150));
  auto st = Weir({"backfill", "demo", "--status", "--json"});
  std::vector<std::string> done_days;
  const std::regex day(R"re(\{"day":"([0-9-]+)","status":"done")re");
  for (std::sregex_iterator it(st.out.begin(), st.out.end(), day), end; it != end; ++it) {
    done_days.push_back((*it)[1]);
  }
  auto r = Weir({"backfill", "demo", "--no-progress"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto ids = ExportedIds();
  EXPECT_EQ(ids.size(), 3000u);
  for (const auto& [id, n] : ids) ASSERT_EQ(n, 1) << id;
  st = Weir({"backfill", "demo", "--status", "--json"});
  for (const std::string& d : done_days) {
    EXPECT_NE(st.out.find(R"("day":")" + d + R"(","status":"done")"), std::string::npos);
    const size_t at = st.out.find(R"("day":")" + d + "\"");
    EXPECT_NE(st.out.find(R"("attempts":1,)", at), std::string::npos) << d;
  }
  EXPECT_NE(st.out.find(R"("done":9,"rows":3000)"), std::string::npos) << st.out;
  if (killed.code != 128 + SIGKILL) GTEST_LOG_(INFO) << "the kill landed after the run ended";
}

TEST_F(BackfillEndToEnd, BadInputIsAClearUsageError) {
  WritePipeline("now", 10);
  auto r = Weir({"backfill", "demo", "--from", "2024-13-01", "--to", "2024-12-01"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--from '2024-13-01'"), std::string::npos) << r.err;
  r = Weir({"backfill", "demo", "--from", "2024-03-02", "--to", "2024-03-01"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("is after --to"), std::string::npos) << r.err;
  r = Weir({"backfill", "demo", "--from", "2000-01-01", "--to", "2024-03-01"});
  EXPECT_NE(r.err.find("at most 3660 days"), std::string::npos) << r.err;
  r = Weir({"backfill", "demo", "--from", "2024-03-01"});
  EXPECT_EQ(r.code, 2);
  r = Weir({"backfill", "demo"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nothing to backfill"), std::string::npos) << r.err;
  r = Weir({"backfill", "demo", "--redo", "2024-03-01"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not in the backfill ledger"), std::string::npos) << r.err;
  WritePipeline("beginning", 10);
  r = Weir({"backfill", "demo", "--from", "2024-03-01", "--to", "2024-03-02"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("already covers all history"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace weir::sdksource_test
