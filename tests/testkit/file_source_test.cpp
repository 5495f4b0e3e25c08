// tests/testkit/file_source_test.cpp — file-source behaviour through the raw C vtable: ranges
// and watermarks, limits, replay of (from, to], window mode, a growing file, byte-exact
// records, and errors that name the line, the path or the config field.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace weir::testkit_test {
namespace {

const weir_plugin& Source() { return Plugin(WEIR_FILE_SOURCE_SO); }

std::string Event(int n, int64_t time_ms) {
  return R"({"event":"e)" + std::to_string(n) + R"(","time":)" + std::to_string(time_ms) +
         R"(,"distinct_id":"u","insert_id":"i)" + std::to_string(n) + R"(","properties":{}})";
}

class FileSourceTest : public testing::Test {
 protected:
  /// Writes `lines` (each without '\n') and opens a source on them.
  void OpenOn(const std::vector<std::string>& lines, const std::string& extra_config = "") {
    std::string content;
    for (const auto& l : lines) content += l + "\n";
    WriteFile(path_, content);
    source_ = std::make_unique<SourceInstance>(Source());
    ASSERT_TRUE(source_->Open(Config(extra_config), host_).ok());
  }
  std::string Config(const std::string& extra = "") const {
    return "{\"path\": " + JsonString(path_) + extra + "}";
  }

  TempDir dir_;
  std::string path_ = dir_ / "records.ndjson";
  testkit::FakeHost host_;
  std::unique_ptr<SourceInstance> source_;
};

TEST_F(FileSourceTest, ReadsRangesInBatchesWithLineNumberWatermarks) {
  std::vector<std::string> lines;
  for (int i = 1; i <= 5; ++i) lines.push_back(Event(i, 1000 * i));
  OpenOn(lines);

  auto a = source_->Range("", "", 2);
  ASSERT_TRUE(a.status.ok()) << a.status.ToString();
  EXPECT_EQ(a.records, (std::vector<std::string>{lines[0], lines[1]}));
  EXPECT_EQ(a.times, (std::vector<int64_t>{1000, 2000}));
  EXPECT_EQ(a.seqs, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(a.high_watermark, LineWm(2));

  auto b = source_->Range(a.high_watermark, "", 2);
  ASSERT_TRUE(b.status.ok());
  EXPECT_EQ(b.records, (std::vector<std::string>{lines[2], lines[3]}));
  EXPECT_EQ(b.high_watermark, LineWm(4));

  auto c = source_->Range(b.high_watermark, "", 2);
  EXPECT_EQ(c.records, (std::vector<std::string>{lines[4]}));
  EXPECT_EQ(c.high_watermark, LineWm(5));

  auto d = source_->Range(c.high_watermark, "", 2);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.records.empty());
  EXPECT_EQ(host_.Metric("file_source.records"), 5);
}

TEST_F(FileSourceTest, MaxBytesStillReturnsAtLeastOneRecord) {
  OpenOn({Event(1, 1), Event(2, 2), Event(3, 3)});
  EXPECT_EQ(source_->Range("", "", 0, 1).records.size(), 1u);
  const uint64_t two = Event(1, 1).size() + 1 + Event(2, 2).size() + 1;
  EXPECT_EQ(source_->Range("", "", 0, two).records.size(), 2u);
  EXPECT_EQ(source_->Range("", "", 0, two - 1).records.size(), 1u);
  EXPECT_EQ(source_->Range("", "", 0, 0).records.size(), 3u);
}

TEST_F(FileSourceTest, ReplayReturnsExactlyFromToIgnoringLimits) {
  std::vector<std::string> lines;
  for (int i = 1; i <= 6; ++i) lines.push_back(Event(i, i));
  OpenOn(lines);
  auto r = source_->Range(LineWm(1), LineWm(4), /*max_records=*/1, /*max_bytes=*/1);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.records, (std::vector<std::string>{lines[1], lines[2], lines[3]}));
  EXPECT_EQ(r.high_watermark, LineWm(4));
  EXPECT_TRUE(source_->Range(LineWm(3), LineWm(3)).records.empty());
}

TEST_F(FileSourceTest, BadWatermarksAreClearErrors) {
  OpenOn({Event(1, 1), Event(2, 2)});
  auto beyond = source_->Range("", LineWm(9));
  EXPECT_EQ(beyond.status.code(), WEIR_ERROR);
  EXPECT_NE(beyond.status.message().find("to_wm points at line 9"), std::string::npos);
  EXPECT_NE(beyond.status.message().find("has only 2 complete lines"), std::string::npos);
  auto backwards = source_->Range(LineWm(2), LineWm(1));
  EXPECT_NE(backwards.status.message().find("before from_wm"), std::string::npos);
  auto short_wm = source_->Range("abc");
  EXPECT_NE(short_wm.status.message().find("from_wm must be empty or 8 bytes"), std::string::npos);
  auto from_beyond = source_->Range(LineWm(3));
  EXPECT_NE(from_beyond.status.message().find("from_wm points at line 3"), std::string::npos);
}

TEST_F(FileSourceTest, WindowModeSelectsByEventTimeAfterCursorBeforeBound) {
  // Times by line: 1:100 2:250 3:50 4:300 5:200 6:150
  std::vector<std::string> lines = {Event(1, 100), Event(2, 250), Event(3, 50),
                                    Event(4, 300), Event(5, 200), Event(6, 150)};
  OpenOn(lines);
  auto all = source_->Window(100, 250);
  ASSERT_TRUE(all.status.ok()) << all.status.ToString();
  EXPECT_EQ(all.seqs, (std::vector<uint64_t>{1, 5, 6}));
  EXPECT_EQ(all.high_watermark, LineWm(6));

  EXPECT_EQ(source_->Window(100, 250, "", LineWm(6)).seqs, (std::vector<uint64_t>{1, 5}));
  EXPECT_EQ(source_->Window(100, 250, LineWm(1)).seqs, (std::vector<uint64_t>{5, 6}));

  auto first = source_->Window(100, 250, "", "", 1);
  EXPECT_EQ(first.seqs, (std::vector<uint64_t>{1}));
  auto next = source_->Window(100, 250, first.high_watermark, "", 1);
  EXPECT_EQ(next.seqs, (std::vector<uint64_t>{5}));
  EXPECT_TRUE(source_->Window(100, 250, LineWm(6)).records.empty());
}

TEST_F(FileSourceTest, GrowingFileCountsOnlyCompleteLines) {
  OpenOn({Event(1, 1), Event(2, 2)});
  const std::string third = Event(3, 3);
  AppendFile(path_, third.substr(0, 10));  // a writer is halfway through line 3
  auto a = source_->Range("");
  ASSERT_TRUE(a.status.ok()) << a.status.ToString();
  EXPECT_EQ(a.records.size(), 2u);
  EXPECT_TRUE(source_->Range(a.high_watermark).records.empty());
  AppendFile(path_, third.substr(10) + "\n");
  auto b = source_->Range(a.high_watermark);
  EXPECT_EQ(b.records, (std::vector<std::string>{third}));
  EXPECT_EQ(b.high_watermark, LineWm(3));
}

TEST_F(FileSourceTest, PassesRecordsThroughByteExact) {
  const std::string odd =
      "{ \"event\" : \"caf\\u00e9 \xc3\xa9\",  \"time\":5 ,\"p\":{\"a\":[1, 2]}}";
  OpenOn({odd, "", "  ", Event(4, 4)});
  auto r = source_->Range("");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.records.size(), 2u);  // blank lines are skipped but keep their numbers
  EXPECT_EQ(r.records[0], odd);
  EXPECT_EQ(r.data, odd + "\n" + Event(4, 4) + "\n");
  EXPECT_EQ(r.seqs, (std::vector<uint64_t>{1, 4}));
}

TEST_F(FileSourceTest, MalformedLinesAreErrorsNamingTheLine) {
  OpenOn({Event(1, 1), Event(2, 2), "{\"event\": oops}"});
  auto r = source_->Range("");
  EXPECT_EQ(r.status.code(), WEIR_ERROR);
  EXPECT_NE(r.status.message().find("line 3: malformed JSON"), std::string::npos)
      << r.status.message();
  EXPECT_NE(r.status.message().find(path_), std::string::npos);
  // A batch that stops before the bad line still reads.
  EXPECT_EQ(source_->Range("", "", 2).records.size(), 2u);
}

TEST_F(FileSourceTest, RecordWithoutIntegerTimeIsAnErrorNamingTheLine) {
  OpenOn({Event(1, 1), R"({"event":"x","distinct_id":"u"})"});
  auto missing = source_->Range("");
  EXPECT_NE(missing.status.message().find("line 2: missing integer field \"time\""),
            std::string::npos)
      << missing.status.message();
  OpenOn({R"({"event":"x","time":"2024-01-01"})"});
  auto text = source_->Range("");
  EXPECT_NE(text.status.message().find("line 1: field \"time\" must be an integer"),
            std::string::npos)
      << text.status.message();
  OpenOn({R"([1,2])"});
  EXPECT_NE(source_->Range("").status.message().find("line 1: expected a JSON object, got array"),
            std::string::npos);
}

TEST_F(FileSourceTest, UsersStreamFallsBackToUpdatedAt) {
  OpenOn({R"({"distinct_id":"u1","updated_at":77,"properties":{}})"});
  auto users = source_->Range("", "", 0, 0, "users");
  ASSERT_TRUE(users.status.ok()) << users.status.ToString();
  EXPECT_EQ(users.times, (std::vector<int64_t>{77}));
  EXPECT_FALSE(source_->Range("", "", 0, 0, "events").status.ok());
}

TEST_F(FileSourceTest, UnsupportedStreamIsNotImplemented) {
  OpenOn({Event(1, 1)});
  auto r = source_->Range("", "", 0, 0, "groups");
  EXPECT_EQ(r.status.code(), WEIR_NOT_IMPLEMENTED);
  EXPECT_NE(r.status.message().find("'groups'"), std::string::npos);
}

TEST_F(FileSourceTest, DelayPollsCancellation) {
  OpenOn({Event(1, 1)}, ", \"delay_ms\": 20000");
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    host_.SetCancelled(true);
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = source_->Range("");
  const auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  EXPECT_EQ(r.status.code(), WEIR_CANCELLED);
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(FileSourceTest, MissingFileIsAnErrorNamingThePath) {
  SourceInstance source(Source());
  const std::string missing = dir_ / "nope.ndjson";
  Status s = source.Open("{\"path\": " + JsonString(missing) + "}", host_);
  EXPECT_EQ(s.code(), WEIR_ERROR);
  EXPECT_NE(s.message().find("'" + missing + "'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("No such file"), std::string::npos) << s.message();
}

TEST_F(FileSourceTest, CheckFailsOnceTheFileIsGone) {
  OpenOn({Event(1, 1)});
  EXPECT_TRUE(source_->Check().ok());
  std::filesystem::remove(path_);
  Status s = source_->Check();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path_), std::string::npos);
}

TEST_F(FileSourceTest, InvalidConfigNamesTheField) {
  WriteFile(path_, "");
  const std::string path = JsonString(path_);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"path\": 5}", "config.path: expected a string, got number"},
      {"{}", "config.path: required"},
      {"{\"path\": \"\"}", "config.path: must not be empty"},
      {"{\"path\": " + path + ", \"delay_ms\": \"1\"}", "config.delay_ms: expected an integer"},
      {"{\"path\": " + path + ", \"delay_ms\": -1}", "config.delay_ms: must be between 0 and"},
      {"{\"path\": " + path + ", \"delay_ms\": 2.5}", "config.delay_ms: expected an integer"},
      {"{\"path\": " + path + ", \"extra\": 1}", "config.extra: unknown key"},
      {"{\"path\": " + path + ", \"path\": " + path + "}", "config.path: given more than once"},
      {"[1]", "config: expected a JSON object, got array"},
      {"not json", "config: not valid JSON"},
  };
  for (const auto& [config, expected] : cases) {
    SourceInstance source(Source());
    Status s = source.Open(config, host_);
    EXPECT_EQ(s.code(), WEIR_INVALID_CONFIG) << config;
    EXPECT_NE(s.message().find(expected), std::string::npos) << config << " -> " << s.message();
  }
}

}  // namespace
}  // namespace weir::testkit_test
