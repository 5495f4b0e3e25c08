// tests/s3/plugin/write_test.cpp — the s3 plugin through its C vtable with file:// URLs: what a
// batch becomes on disk (keys, decoded content), replay determinism, splitting, compression
// choices, users/identities, check(), metrics and failures.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace weir::s3_test {
namespace {

constexpr int64_t kH10 = 1763805600000;  // 2025-11-22T10:00:00Z

std::string Config(const std::string& root, const std::string& extra = "") {
  return R"({"url":"file://)" + root + "\"" + extra + "}";
}

/// A batch of `n` events spread over three hours, with some late (two days old) events.
void FillEvents(OwnedBatch& batch, int n, int first = 0, int payload = 40) {
  for (int i = first; i < first + n; ++i) {
    const int64_t t = i % 7 == 3 ? kH10 - 2 * 86400000 + i : kH10 + (i % 3) * 3600000 + i;
    batch.Add(EventJson(i, t, payload), t);
  }
}

/// Decodes every exported object under `root` into (relative path → lines).
std::map<std::string, std::vector<std::string>> Exported(const std::string& root) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [path, bytes] : ReadTree(root)) out[path] = Lines(DecodeObject(path, bytes));
  return out;
}

TEST(S3PluginWrite, EventsLandInTheirPartitionsAndDecodeToTheBatch) {
  TempDir dir;
  S3Instance s3(Config(dir.path()));
  ASSERT_TRUE(s3.status().ok()) << s3.status().ToString();
  OwnedBatch batch;
  FillEvents(batch, 700);
  ASSERT_TRUE(s3.Write(batch.Finish(), 5).ok());
  ASSERT_TRUE(s3.Flush().ok());

  auto objects = Exported(dir.path());
  const std::string base = "proj/mp_master_event/";
  std::vector<std::string> expected_keys = {base + "2025/11/20/10/demo-000000000005-0000.json.gz",
                                            base + "2025/11/22/10/demo-000000000005-0000.json.gz",
                                            base + "2025/11/22/11/demo-000000000005-0000.json.gz",
                                            base + "2025/11/22/12/demo-000000000005-0000.json.gz"};
  std::vector<std::string> keys;
  for (const auto& [k, v] : objects) keys.push_back(k);
  EXPECT_EQ(keys, expected_keys);
  // Every record exactly once, byte-exact, in batch order within its object.
  std::vector<std::string> all;
  for (const auto& [k, lines] : objects) {
    for (size_t i = 1; i < lines.size(); ++i) {
      EXPECT_LT(std::find(batch.records().begin(), batch.records().end(), lines[i - 1]),
                std::find(batch.records().begin(), batch.records().end(), lines[i]));
    }
    all.insert(all.end(), lines.begin(), lines.end());
  }
  std::vector<std::string> want = batch.records();
  std::sort(all.begin(), all.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(all, want);
  EXPECT_EQ(s3.host().Metric("s3.objects"), 4);
  EXPECT_EQ(s3.host().Metric("s3.records"), 700);
  EXPECT_GT(s3.host().Metric("s3.bytes_uncompressed"), s3.host().Metric("s3.bytes_stored"));
}

TEST(S3PluginWrite, ReplayingABatchWritesTheSameKeysWithIdenticalBytes) {
  TempDir a, b;
  std::map<std::string, std::string> first;
  for (const std::string& extra : {std::string(), std::string(R"(,"compression":"zstd")")}) {
    for (const std::string* root : {&a.path(), &b.path()}) {
      S3Instance s3(Config(*root, extra + R"(,"max_object_bytes":4096,"parallelism":3)"));
      ASSERT_TRUE(s3.status().ok());
      OwnedBatch batch;
      FillEvents(batch, 500);
      ASSERT_TRUE(s3.Write(batch.Finish(), 9).ok());
    }
    // Two independent instances (fresh processes would be the same) → identical trees.
    auto ta = ReadTree(a.path()), tb = ReadTree(b.path());
    EXPECT_GT(ta.size(), 8u);
    EXPECT_EQ(ta, tb);
  }
  // Replaying into the same directory: same files, same bytes, nothing added.
  first = ReadTree(a.path());
  for (bool conditional : {false, true}) {
    S3Instance s3(Config(a.path(), conditional
                                       ? R"(,"max_object_bytes":4096,"conditional_writes":true)"
                                       : R"(,"max_object_bytes":4096)"));
    OwnedBatch batch;
    FillEvents(batch, 500);
    ASSERT_TRUE(s3.Write(batch.Finish(), 9).ok());
    EXPECT_EQ(ReadTree(a.path()), first);
  }
}

TEST(S3PluginWrite, ObjectsSplitAtMaxObjectBytes) {
  TempDir dir;
  S3Instance s3(Config(dir.path(), R"(,"max_object_bytes":2048,"compression":"none")"));
  OwnedBatch batch;
  for (int i = 0; i < 200; ++i) batch.Add(EventJson(i, kH10 + i, i % 50), kH10 + i);
  ASSERT_TRUE(s3.Write(batch.Finish(), 1).ok());
  auto tree = ReadTree(dir.path());
  ASSERT_GT(tree.size(), 10u);
  std::vector<std::string> all;
  int part = 0;
  for (const auto& [path, bytes] : tree) {
    char want[128];
    std::snprintf(want, sizeof want,
                  "proj/mp_master_event/2025/11/22/10/demo-000000000001-%04d.json", part++);
    EXPECT_EQ(path, want);
    EXPECT_LE(bytes.size(), 2048u);
    auto lines = Lines(bytes);
    all.insert(all.end(), lines.begin(), lines.end());
  }
  EXPECT_EQ(all, batch.records()) << "parts in order hold the batch in order";
}

TEST(S3PluginWrite, UsersAndIdentitiesGoToTheirFolders) {
  TempDir dir;
  S3Instance s3(Config(dir.path(), R"(,"project_id":"p42")"));
  OwnedBatch users;
  users.Add(R"({"distinct_id":"u1","updated_at":1763805600000,"properties":{"$name":"A"}})",
            1763805600000);
  users.Add(R"({"distinct_id":"u2","updated_at":1763805601000,"deleted":true})", 1763805601000);
  ASSERT_TRUE(s3.Write(users.Finish(), 3, "users", "people").ok());
  OwnedBatch ids;
  ids.Add(R"({"distinct_id":"d1","user_id":"u1","time":1763805600000})", 1763805600000);
  ASSERT_TRUE(s3.Write(ids.Finish(), 4, "identities", "ids").ok());
  auto objects = Exported(dir.path());
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects["p42/mp_people_data/people-000000000003-0000.json.gz"], users.records());
  EXPECT_EQ(objects["p42/mp_identity_mappings_data/ids-000000000004-0000.json.gz"], ids.records());
}

TEST(S3PluginWrite, TimeZoneAndDailyGranularity) {
  TempDir dir;
  S3Instance s3(Config(
      dir.path(),
      R"(,"granularity":"daily","partition_timezone":"America/Los_Angeles","compression":"none")"));
  OwnedBatch batch;
  batch.Add(EventJson(1, kH10), kH10);                              // 02:00 PST on the 22nd
  batch.Add(EventJson(2, kH10 - 3 * 3600000), kH10 - 3 * 3600000);  // 23:00 PST on the 21st
  ASSERT_TRUE(s3.Write(batch.Finish(), 1).ok());
  auto tree = ReadTree(dir.path());
  ASSERT_EQ(tree.size(), 2u);
  EXPECT_EQ(tree.count("proj/mp_master_event/2025/11/21/demo-000000000001-0000.json"), 1u);
  EXPECT_EQ(tree.count("proj/mp_master_event/2025/11/22/demo-000000000001-0000.json"), 1u);
}

TEST(S3PluginWrite, CheckWritesAndRemovesAProbeAndNamesTheFailingStep) {
  TempDir dir;
  S3Instance ok(Config(dir / "out"));
  ASSERT_TRUE(ok.Check().ok());
  EXPECT_TRUE(ReadTree(dir / "out").empty()) << "the probe object is deleted again";

  WriteFile(dir / "plain-file", "x");
  S3Instance bad(Config(dir / "plain-file/sub"));
  ASSERT_TRUE(bad.status().ok()) << "open does no I/O";
  Status s = bad.Check();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(
      s.message().find("check: writing probe object file://" + dir.path() + "/plain-file/sub/"),
      std::string::npos)
      << s.message();
  Status w = [&] {
    OwnedBatch batch;
    FillEvents(batch, 3);
    return bad.Write(batch.Finish(), 1);
  }();
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.message().find("batch 1 of demo (0 of 3 objects stored)"), std::string::npos)
      << w.message();
}

TEST(S3PluginWrite, RefusesWhatCannotBeLaidOut) {
  TempDir dir;
  S3Instance s3(Config(dir.path()));
  OwnedBatch batch;
  FillEvents(batch, 2);
  const weir_batch* b = batch.Finish();
  Status stream = s3.Write(b, 1, "groups");
  EXPECT_EQ(stream.code(), WEIR_NOT_IMPLEMENTED);
  EXPECT_NE(stream.message().find("'groups'"), std::string::npos);
  Status project = s3.Write(b, 1, "events", "demo", "../etc");
  ASSERT_FALSE(project.ok());
  EXPECT_NE(project.message().find("config.project_id"), std::string::npos) << project.message();
  EXPECT_FALSE(project.retryable());
  EXPECT_TRUE(ReadTree(dir.path()).empty());
}

TEST(S3PluginWrite, EmptyBatchWritesNothing) {
  TempDir dir;
  S3Instance s3(Config(dir.path()));
  OwnedBatch batch;
  ASSERT_TRUE(s3.Write(batch.Finish(), 1).ok());
  EXPECT_TRUE(ReadTree(dir.path()).empty());
}

TEST(S3PluginWrite, OpenRefusesBadConfigWithTheFieldName) {
  Status s = S3Instance::OpenStatus(R"({"url":"file:///tmp/x","granularity":"minutely"})");
  EXPECT_EQ(s.code(), WEIR_INVALID_CONFIG);
  EXPECT_NE(s.message().find("config.granularity"), std::string::npos) << s.message();
  const weir_plugin& d = S3Instance::Descriptor();
  EXPECT_STREQ(d.name, "s3");
  EXPECT_EQ(d.stream_count, 3u);
}

TEST(S3PluginWrite, ManyPartitionsInParallelMatchOneWorker) {
  // A day of shuffled event times: 24 partitions written by 4 workers or 1 give the same tree.
  TempDir one, four;
  std::mt19937 rng(3);
  std::vector<int64_t> times;
  for (int i = 0; i < 1500; ++i) times.push_back(kH10 + static_cast<int64_t>(rng() % 86400000));
  for (const auto& [root, workers] : {std::pair{&one.path(), 1}, std::pair{&four.path(), 4}}) {
    S3Instance s3(
        Config(*root, R"(,"max_object_bytes":16384,"parallelism":)" + std::to_string(workers)));
    OwnedBatch batch;
    for (int i = 0; i < 1500; ++i) {
      const int64_t t = times[static_cast<size_t>(i)];
      batch.Add(EventJson(i, t), t);
    }
    ASSERT_TRUE(s3.Write(batch.Finish(), 2).ok());
  }
  auto a = ReadTree(one.path());
  EXPECT_GE(a.size(), 24u);
  EXPECT_EQ(a, ReadTree(four.path()));
}

}  // namespace
}  // namespace weir::s3_test
