// tests/testkit/file_destination_test.cpp — file-destination behaviour through the raw C
// vtable: durable files named by sanitized idempotency keys, replay as a no-op, a different
// payload under a used key as an error, injected failures, check(), cancellation, config errors.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace weir::testkit_test {
namespace {

const weir_plugin& Destination() { return Plugin(WEIR_FILE_DESTINATION_SO); }

const std::vector<std::string> kRecords = {R"({"event":"a","time":1,"insert_id":"1"})",
                                           R"({"event":"b","time":2,"insert_id":"2"})",
                                           R"({"event":"c","time":3,"insert_id":"3"})"};
const std::string kBytes = kRecords[0] + "\n" + kRecords[1] + "\n" + kRecords[2] + "\n";

class FileDestinationTest : public testing::Test {
 protected:
  std::unique_ptr<DestinationInstance> OpenWith(const std::string& extra = "") {
    auto d = std::make_unique<DestinationInstance>(Destination());
    Status s = d->Open("{\"dir\": " + JsonString(out_) + extra + "}", host_);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return d;
  }

  TempDir dir_;
  std::string out_ = dir_ / "out";
  testkit::FakeHost host_;
};

TEST_F(FileDestinationTest, WritesBatchBytesUnderTheKey) {
  auto d = OpenWith();
  ASSERT_TRUE(d->Write("p-events-000001", kRecords).ok());
  ASSERT_TRUE(d->Flush().ok());
  EXPECT_EQ(ListDir(out_ + "/events"), (std::vector<std::string>{"p-events-000001.ndjson"}));
  EXPECT_EQ(ReadFile(out_ + "/events/p-events-000001.ndjson"), kBytes);
  EXPECT_EQ(host_.Metric("file_destination.records"), 3);
}

TEST_F(FileDestinationTest, SanitizesKeysWithoutMergingDistinctOnes) {
  auto d = OpenWith();
  ASSERT_TRUE(d->Write("pipe/events:1", kRecords).ok());
  ASSERT_TRUE(d->Write("pipe_events_1", {kRecords[0]}).ok());
  ASSERT_TRUE(d->Write("pipe:events/1", {kRecords[1]}).ok());
  const auto files = ListDir(out_ + "/events");
  ASSERT_EQ(files.size(), 3u);
  for (const auto& f : files) {
    EXPECT_EQ(
        f.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"),
        std::string::npos)
        << f;
    EXPECT_EQ(f.rfind("pipe_events_1", 0), 0u) << f;
  }
  EXPECT_TRUE(std::filesystem::exists(out_ + "/events/pipe_events_1.ndjson"));
  // A very long key still fits a file name.
  ASSERT_TRUE(d->Write(std::string(1000, 'k'), kRecords).ok());
  EXPECT_EQ(ListDir(out_ + "/events").size(), 4u);
}

TEST_F(FileDestinationTest, ReplayOfTheSameKeyIsANoOp) {
  auto d = OpenWith();
  ASSERT_TRUE(d->Write("k1", kRecords).ok());
  struct stat before {};
  ASSERT_EQ(::stat((out_ + "/events/k1.ndjson").c_str(), &before), 0);
  // Replayed by a fresh instance, as after a crash.
  auto again = OpenWith();
  Status s = again->Write("k1", kRecords);
  EXPECT_TRUE(s.ok()) << s.ToString();
  struct stat after {};
  ASSERT_EQ(::stat((out_ + "/events/k1.ndjson").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(ReadFile(out_ + "/events/k1.ndjson"), kBytes);
  EXPECT_EQ(ListDir(out_ + "/events"), (std::vector<std::string>{"k1.ndjson"}));
  EXPECT_EQ(host_.Metric("file_destination.records"), 3);  // not counted twice
  EXPECT_EQ(host_.Metric("file_destination.replays"), 1);
}

TEST_F(FileDestinationTest, DifferentPayloadUnderAUsedKeyIsAnIdempotencyViolation) {
  auto d = OpenWith();
  ASSERT_TRUE(d->Write("k1", kRecords).ok());
  Status s = d->Write("k1", {kRecords[0], kRecords[1]});
  EXPECT_EQ(s.code(), WEIR_ERROR);
  EXPECT_FALSE(s.retryable());
  EXPECT_NE(s.message().find("idempotency violation: key 'k1'"), std::string::npos) << s.message();
  EXPECT_EQ(ReadFile(out_ + "/events/k1.ndjson"), kBytes);  // untouched
}

TEST_F(FileDestinationTest, StreamsGetTheirOwnDirectories) {
  auto d = OpenWith();
  ASSERT_TRUE(d->Write("k", kRecords, "users").ok());
  ASSERT_TRUE(d->Write("k", {kRecords[0]}, "identities").ok());
  EXPECT_EQ(ListDir(out_), (std::vector<std::string>{"identities", "users"}));
  Status bad = d->Write("k", kRecords, "../escape");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("'../escape'"), std::string::npos);
}

TEST_F(FileDestinationTest, FailFirstWritesInjectsNumberedFailures) {
  auto d = OpenWith(", \"fail_first_writes\": 2");
  Status first = d->Write("k", kRecords);
  EXPECT_EQ(first.code(), WEIR_ERROR);
  EXPECT_TRUE(first.retryable());
  EXPECT_NE(first.message().find("injected failure 1 of 2"), std::string::npos);
  Status second = d->Write("k", kRecords);
  EXPECT_NE(second.message().find("injected failure 2 of 2"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out_ + "/events/k.ndjson"));
  EXPECT_TRUE(d->Write("k", kRecords).ok());
  EXPECT_EQ(ReadFile(out_ + "/events/k.ndjson"), kBytes);

  // Counted per instance; fatal when asked.
  auto fatal = OpenWith(", \"fail_first_writes\": 1, \"fail_retryable\": false");
  Status f = fatal->Write("k", kRecords);
  EXPECT_EQ(f.code(), WEIR_ERROR);
  EXPECT_FALSE(f.retryable());
  EXPECT_NE(f.message().find("injected failure 1 of 1"), std::string::npos);
  EXPECT_TRUE(fatal->Write("k", kRecords).ok());
}

TEST_F(FileDestinationTest, CancelDuringTheDelayLeavesNoFile) {
  auto d = OpenWith(", \"delay_ms\": 20000");
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    host_.SetCancelled(true);
  });
  const auto start = std::chrono::steady_clock::now();
  Status s = d->Write("k", kRecords);
  const auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  EXPECT_EQ(s.code(), WEIR_CANCELLED) << s.ToString();
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_TRUE(ListDir(out_ + "/events").empty());  // neither the file nor its temp
}

TEST_F(FileDestinationTest, CheckCreatesTheDirAndLeavesNoProbe) {
  auto d = std::make_unique<DestinationInstance>(Destination());
  const std::string nested = dir_ / "a/b/c";
  ASSERT_TRUE(d->Open("{\"dir\": " + JsonString(nested) + "}", host_).ok());
  Status s = d->Check();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(std::filesystem::is_directory(nested));
  EXPECT_TRUE(ListDir(nested).empty());
}

TEST_F(FileDestinationTest, CheckSaysWhichStepFailed) {
  WriteFile(dir_ / "plain-file", "x");
  auto d = std::make_unique<DestinationInstance>(Destination());
  ASSERT_TRUE(d->Open("{\"dir\": " + JsonString(dir_ / "plain-file/sub") + "}", host_).ok());
  Status s = d->Check();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("check: cannot create directory"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("plain-file"), std::string::npos) << s.message();
}

TEST_F(FileDestinationTest, InvalidConfigNamesTheField) {
  const std::string dir = JsonString(out_);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"dir\": 5}", "config.dir: expected a string, got number"},
      {"{}", "config.dir: required"},
      {"{\"dir\": " + dir + ", \"fail_retryable\": 1}",
       "config.fail_retryable: expected a boolean"},
      {"{\"dir\": " + dir + ", \"fail_first_writes\": -1}",
       "config.fail_first_writes: must be between 0 and"},
      {"{\"dir\": " + dir + ", \"delay_ms\": 1.5}", "config.delay_ms: expected an integer"},
      {"{\"dri\": " + dir + "}", "config.dri: unknown key"},
      {"\"dir\"", "config: expected a JSON object, got string"},
  };
  for (const auto& [config, expected] : cases) {
    DestinationInstance d(Destination());
    Status s = d.Open(config, host_);
    EXPECT_EQ(s.code(), WEIR_INVALID_CONFIG) << config;
    EXPECT_NE(s.message().find(expected), std::string::npos) << config << " -> " << s.message();
  }
}

TEST(FilePlugins, DescriptorsDescribeThemselves) {
  const weir_plugin& s = Plugin(WEIR_FILE_SOURCE_SO);
  EXPECT_STREQ(s.name, "file-source");
  EXPECT_EQ(s.kinds, WEIR_KIND_SOURCE);
  ASSERT_EQ(s.stream_count, 3u);
  EXPECT_NE(std::string(s.config_schema).find("\"required\": [\"path\"]"), std::string::npos);
  const weir_plugin& d = Plugin(WEIR_FILE_DESTINATION_SO);
  EXPECT_STREQ(d.name, "file-destination");
  EXPECT_EQ(d.kinds, WEIR_KIND_DESTINATION);
  EXPECT_NE(std::string(d.config_schema).find("\"fail_first_writes\""), std::string::npos);
}

}  // namespace
}  // namespace weir::testkit_test
